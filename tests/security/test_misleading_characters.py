"""One set of misleading characters: the functions refuse them, and the page, the link page and
the mails show them as [U+XXXX]. The page's copy of the set (web/src/dom.js) must match.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from functions.common import inputs

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "".join(chr(c) for c in range(0x2100)) + "\u2066\u2067\u2068\u2069 end"


def test_the_page_shows_exactly_what_the_functions_refuse() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js 20 is needed to build and test the page")
    script = (
        "import { visible } from './web/src/dom.js';"
        "let s = ''; process.stdin.on('data', (d) => (s += d));"
        "process.stdin.on('end', () => process.stdout.write(JSON.stringify(visible(JSON.parse(s)))));"
    )
    shown = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps(SAMPLE),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )

    assert json.loads(shown.stdout) == inputs.visible(SAMPLE)


@pytest.mark.parametrize(
    ("text", "refused"),
    [
        ("line one\nline two\tand a tab", False),
        ("Ünïcödé and 中文 and עברית", False),
        ("pay \u202eRUE", True),
        ("a\u2066b", True),
        ("mark\u200f", True),
        ("bell\u0007", True),
        ("cr\r", True),
        ("c1\u0085", True),
        ("lone \ud800", True),
    ],
)
def test_what_callers_may_send(text: str, refused: bool) -> None:
    assert (inputs.text_problem(text) is not None) is refused


def test_hidden_characters_are_written_out() -> None:
    assert inputs.visible("a\u202eb\u0000") == "a[U+202E]b[U+0000]"
    assert inputs.one_line("Pay\r\n Bcc: x\u2028y") == "Pay Bcc: x y"
