"""Reading resource properties, which can be unknown while the CLI previews."""

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .pulumi_internals import UNKNOWN as UNKNOWN_STRING
from .pulumi_internals import UnknownValueError


class _Unknown:
    def __repr__(self) -> str:
        return "<unknown during preview>"


UNKNOWN: Any = _Unknown()
"""A value the engine cannot know before it creates a resource (e.g. a new account's email)."""


class Unchecked:
    """What a stack policy could not check during a preview.

    It checks every other resource first (raising at the first unknown would skip them), then
    raises for the first unknown it met: the analyzer reports that as "can't run policy during
    preview", the offline check as "cannot be checked until deploy". Never a silent pass.
    """

    def __init__(self) -> None:
        self._first: UnknownValueError | None = None

    def note(self, resource_name: str, error: UnknownValueError) -> None:
        if self._first is None:
            self._first = UnknownValueError(error.unknown_type_sentinel, [resource_name, *error.props])

    def note_value(self, resource_name: str, *path: str) -> None:
        self.note(resource_name, UnknownValueError(UNKNOWN_STRING, list(path)))

    def __bool__(self) -> bool:
        return self._first is not None

    def pass_to(self, other: "Unchecked") -> None:
        """Pass what this one noted on to `other`."""
        if self._first is not None and other._first is None:
            other._first = self._first

    def raise_if_any(self) -> None:
        if self._first is not None:
            raise self._first


def read(props: Mapping[str, Any], *path: str | int) -> Any:
    """`props[path[0]][path[1]]...`, None where a key is missing.

    An unknown value raises `UnknownValueError`: in a resource policy the host
    turns that into "can't run policy during preview", which is the honest answer.
    """
    value: Any = props
    for key in path:
        if isinstance(key, int):
            if not isinstance(value, Sequence) or isinstance(value, str) or key >= len(value):
                return None
        elif not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def read_known(props: Mapping[str, Any], *path: str | int) -> Any:
    """Like `read`, but UNKNOWN instead of an exception: a stack policy looks at many
    resources and one value unknown during preview must not stop it for the others."""
    try:
        return read(props, *path)
    except UnknownValueError:
        return UNKNOWN


def strings(value: Any) -> list[str]:
    """The strings of a list property (members, label keys, ...). An item unknown until deploy
    raises UnknownValueError, as `read` does: it could be any string."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        return []
    return [item for item in (value[index] for index in range(len(value))) if isinstance(item, str)]


def number(value: float) -> str:
    """A count or a number of seconds as people write it: 2, 2592000, 0.5."""
    return str(int(value)) if float(value).is_integer() else str(value)


def shown(value: Any) -> str:
    """A property value as a message quotes it: unset, a string as is, anything else as JSON."""
    if value is None:
        return "unset"
    return value if isinstance(value, str) else json.dumps(value)
