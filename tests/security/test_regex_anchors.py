"""No validation pattern in the project ends with ``$``.

In Python's ``re``, ``$`` also matches before a trailing newline, so
``^...$`` accepts ``"mallory@evil.test\\n"``: that got a delegate address past
the self-delegation check. Patterns end with ``\\Z`` or are used with
``fullmatch``; this test keeps the class of mistake from coming back.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.support.python_source import parse

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("functions", "components", "policies", "engine", "emulator", "workflow_templates", "benchmarks")
_RE_CALLS = {"compile", "match", "search", "fullmatch", "sub", "split", "findall", "finditer"}
# An unescaped $ (not the ${ of a Workflows expression).
_DOLLAR_ANCHOR = re.compile(r"(?<!\\)\$(?!\{)")


def _pattern_text(node: ast.expr) -> str:
    """The literal parts of a pattern argument: a string, an f-string, or a concatenation."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_pattern_text(part) for part in node.values if isinstance(part, ast.Constant))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _pattern_text(node.left) + _pattern_text(node.right)
    return ""


def _anchored_lines(source: str) -> list[int]:
    """The lines of ``re`` calls whose pattern ends a match with ``$``."""
    return [
        node.lineno
        for node in ast.walk(parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "re"
        and node.func.attr in _RE_CALLS
        and node.args
        and _DOLLAR_ANCHOR.search(_pattern_text(node.args[0]))
    ]


def _python_files() -> list[Path]:
    return sorted(p for folder in SOURCES for p in (ROOT / folder).rglob("*.py") if ".venv" not in p.parts)


def test_no_pattern_is_anchored_with_dollar() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in _python_files()
        for line in _anchored_lines(path.read_text())
    ]

    assert offenders == [], "end these patterns with \\Z (or use fullmatch):\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ('import re\nX = re.compile(r"^[a-z]+$")\n', True),
        ('import re\nX = re.compile(rf"^{Y}$")\n', True),
        ('import re\nX = re.compile(Y + r"/items$")\n', True),
        ('import re\nX = re.compile(r"^[a-z]+\\Z")\n', False),
        ('import re\nX = re.compile(r"^\\$\\{\\s*x\\s*\\}\\Z")\n', False),
    ],
    ids=["raw", "f-string", "concatenation", "backslash-Z", "workflows-expression"],
)
def test_the_scan_finds_dollar_anchors(source: str, flagged: bool) -> None:
    assert bool(_anchored_lines(source)) is flagged
