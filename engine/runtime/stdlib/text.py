"""text: searching, splitting, case, URL encoding and charset conversion of strings.

Regular expressions are RE2's ("Uses RE2 syntax", text.find_all_regex and
text.replace_all_regex), through google-re2, so a pattern RE2 refuses (a
backreference, a lookaround) is a ValueError here as in the cloud. google-re2 comes
with the `emulator` extra and is imported by the first regular expression, so that
the other functions work without it. Indexes count code points, as the docs say
("The string is indexed over code points using a zero-based index", text.find_all).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from functools import cache
from typing import Any, Protocol
from urllib.parse import unquote_plus

from approvals.engine.runtime.effects import Host
from approvals.engine.runtime.errors import SYSTEM_ERROR, VALUE_ERROR, WorkflowError
from approvals.engine.runtime.stdlib.base import Param, pure, want
from approvals.engine.runtime.values import check_length

# "Letters, digits, and the characters .-_ are not escaped." -- text.url_encode.
_URL_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")


def _str(function: str, arg: str, value: Any) -> str:
    return want(function, arg, value, str, "a string")


class _Pattern(Protocol):
    """What the text functions use of a google-re2 pattern (its match objects are like re's)."""

    def finditer(self, text: str) -> Iterator[Any]: ...

    def search(self, text: str) -> Any: ...


@cache
def _re2() -> tuple[Any, Any]:
    """google-re2, imported with the first regular expression, and the options of every pattern."""
    import re2

    # "If multiple matches start at the same index, then the longest one is replaced"
    # (text.replace_all_regex): leftmost-longest, not Perl's leftmost-first. RE2 would also
    # log every refused pattern to stderr; the ValueError says it instead.
    options = re2.Options()
    options.longest_match = True
    options.log_errors = False
    return re2, options


def _regex(function: str, pattern: Any) -> _Pattern:
    source = _str(function, "regexp", pattern)
    try:
        re2, options = _re2()
    except ImportError:
        raise WorkflowError.tagged(
            SYSTEM_ERROR,
            f"{function}: regular expressions need google-re2, which is not installed; "
            'install it with: pip install "approvals[emulator]"',
        ) from None
    try:
        return re2.compile(source, options)  # re2 caches what it compiles
    except re2.error as e:
        reason = e.args[0].decode() if e.args and isinstance(e.args[0], bytes) else str(e)
        raise WorkflowError.tagged(VALUE_ERROR, f"{function}: invalid regular expression: {reason}") from None


def _matches(pattern: _Pattern, text: str) -> Iterator[Any]:
    """The matches RE2's GlobalReplace (and Go's FindAll) take: an empty match right where the
    previous match ended is skipped, where Python's iteration keeps it ("axb", "x*": -a-b-,
    not -a--b-). Leftmost-longest matching leaves no other difference: an empty match at an
    index means no longer one starts there."""
    end = -1
    for match in pattern.finditer(text):
        if match.start() == match.end() == end:
            continue
        end = match.end()
        yield match


def _find_all(host: Host, source: Any, substr: Any) -> list[int]:
    # Non-overlapping, leftmost first: text.find_all("00000", "00") returns [0, 2].
    source, substr = _str("text.find_all", "source", source), _str("text.find_all", "substr", substr)
    if not substr:
        return list(range(len(source) + 1))
    found, i = [], source.find(substr)
    while i != -1:
        found.append(i)
        i = source.find(substr, i + len(substr))
    return found


def _find_all_regex(host: Host, source: Any, regexp: Any) -> list[dict[str, Any]]:
    # "A list of maps ... with the keys index and match" -- text.find_all_regex.
    pattern = _regex("text.find_all_regex", regexp)
    text = _str("text.find_all_regex", "source", source)
    return [{"index": m.start(), "match": m.group(0)} for m in _matches(pattern, text)]


def _match_regex(host: Host, source: Any, regexp: Any) -> bool:
    pattern = _regex("text.match_regex", regexp)
    return pattern.search(_str("text.match_regex", "source", source)) is not None


def _replace_all(host: Host, source: Any, substr: Any, repl: Any) -> str:
    fn = "text.replace_all"
    text, old, new = _str(fn, "source", source), _str(fn, "substr", substr), _str(fn, "repl", repl)
    # Sized before it is made: 256 KB of "a" with each "a" made 256 KB long would be 64 GB.
    check_length(len(text) + text.count(old) * (len(new) - len(old)))
    return text.replace(old, new)


def _replace_all_regex(host: Host, source: Any, regexp: Any, repl: Any) -> str:
    fn = "text.replace_all_regex"
    pattern = _regex(fn, regexp)
    # "Backreferences are not supported. For example, you can't use the expression \1 to refer
    # to text previously matched by a capturing group": `repl` goes in as it is written.
    text, source = _str(fn, "repl", repl), _str(fn, "source", source)
    out, done, length = [], 0, 0
    for match in _matches(pattern, source):
        out += (source[done : match.start()], text)
        length += match.start() - done + len(text)
        check_length(length)  # as it grows (see _replace_all)
        done = match.end()
    out.append(source[done:])
    return "".join(out)


def _split(host: Host, source: Any, separator: Any) -> list[str]:
    text, sep = _str("text.split", "source", source), _str("text.split", "separator", separator)
    if sep == "":
        # "ValueError If separator is an empty string" -- text.split.
        raise WorkflowError.tagged(VALUE_ERROR, "text.split: separator is an empty string")
    return text.split(sep)


def _substring(host: Host, source: Any, start: Any, end: Any) -> str:
    # "A negative index is considered an offset from the end of the string. If an index is
    # outside of the source string's range, it is clamped to the bounds of the range."
    text = _str("text.substring", "source", source)
    begin = _index(len(text), want("text.substring", "start", start, int, "an integer"))
    stop = _index(len(text), want("text.substring", "end", end, int, "an integer"))
    return text[begin:stop] if begin < stop else ""


def _index(length: int, index: int) -> int:
    return min(max(index + length if index < 0 else index, 0), length)


def _to_lower(host: Host, source: Any) -> str:
    return _str("text.to_lower", "source", source).lower()


def _to_upper(host: Host, source: Any) -> str:
    return _str("text.to_upper", "source", source).upper()


def _percent_encode(text: str, space: str) -> str:
    out = []
    for ch in text:
        if ch in _URL_SAFE:
            out.append(ch)
        elif ch == " ":
            out.append(space)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8"))
    return "".join(out)


# Our own pattern, not a workflow's: Python's re, whose lookahead RE2 lacks.
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _url_encode(host: Host, source: Any) -> str:
    # text.url_encode("a/b/c?item=d+e f") returns "a%2Fb%2Fc%3Fitem%3Dd%2Be%20f".
    return _percent_encode(_str("text.url_encode", "source", source), "%20")


def _url_encode_plus(host: Host, source: Any) -> str:
    # Like url_encode, but a space becomes "+".
    return _percent_encode(_str("text.url_encode_plus", "source", source), "+")


def _url_decode(host: Host, source: Any) -> str:
    # Reference: "Plus signs (+) are replaced with spaces"; ValueError "If source contains
    # any % not followed by two hexadecimal characters".
    text = _str("text.url_decode", "source", source)
    if _BAD_ESCAPE.search(text):
        raise WorkflowError.tagged(VALUE_ERROR, "text.url_decode: a % not followed by two hex digits")
    try:
        return unquote_plus(text, errors="strict")
    except UnicodeDecodeError as e:
        raise WorkflowError.tagged(VALUE_ERROR, f"text.url_decode: not UTF-8: {e}") from None


def _codec(function: str, charset: Any) -> str:
    name = _str(function, "charset", charset)
    try:
        # Encoding no text also refuses Python's codecs that are not charsets ("rot13", "base64",
        # "undefined"), which a lookup finds: ValueError "If the charset is unsupported".
        "".encode(name)
    except (LookupError, UnicodeError):
        raise WorkflowError.tagged(VALUE_ERROR, f"{function}: unsupported charset {name!r}") from None
    return codecs.lookup(name).name


def _replace_each_byte(error: UnicodeError) -> tuple[str, int]:
    # Python's "replace" writes one U+FFFD for a truncated sequence (b"a\xe2\x82b": 2 bytes).
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return "\ufffd" * (error.end - error.start), error.end


_EACH_BYTE = "approvals.workflows.replace_each_byte"
codecs.register_error(_EACH_BYTE, _replace_each_byte)


def decode_text(raw: bytes, codec: str = "utf-8") -> str:
    """`raw` as text, as text.decode makes it: "Each byte that cannot be correctly decoded using
    the specified charset is represented in the output by the \ufffd codepoint"."""
    return raw.decode(codec, errors=_EACH_BYTE)


def _decode(host: Host, data: Any, charset: Any) -> str:
    # Only an unknown charset is a ValueError (text.decode).
    raw = want("text.decode", "data", data, bytes, "bytes")
    return decode_text(raw, _codec("text.decode", charset))


def _encode(host: Host, text: Any, charset: Any) -> bytes:
    source = _str("text.encode", "text", text)
    try:
        return source.encode(_codec("text.encode", charset))
    except UnicodeEncodeError as e:
        raise WorkflowError.tagged(VALUE_ERROR, f"text.encode: {e}") from None


FUNCTIONS = (
    pure("text.find_all", _find_all, Param("source"), Param("substr")),
    pure("text.find_all_regex", _find_all_regex, Param("source"), Param("regexp")),
    pure("text.match_regex", _match_regex, Param("source"), Param("regexp")),
    pure("text.replace_all", _replace_all, Param("source"), Param("substr"), Param("repl")),
    pure("text.replace_all_regex", _replace_all_regex, Param("source"), Param("regexp"), Param("repl")),
    pure("text.split", _split, Param("source"), Param("separator")),
    pure("text.substring", _substring, Param("source"), Param("start"), Param("end")),
    pure("text.to_lower", _to_lower, Param("source")),
    pure("text.to_upper", _to_upper, Param("source")),
    pure("text.url_encode", _url_encode, Param("source")),
    pure("text.url_encode_plus", _url_encode_plus, Param("source")),
    pure("text.url_decode", _url_decode, Param("source")),
    pure("text.decode", _decode, Param("data"), Param("charset", "UTF-8")),
    pure("text.encode", _encode, Param("text"), Param("charset", "UTF-8")),
)
