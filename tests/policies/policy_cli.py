"""Running `python -m policies check` the way CI does: a subprocess from the repository root."""

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# `LEVEL policy-name urn: message`, one line per violation.
VIOLATION_LINE = re.compile(r"^(MANDATORY|ADVISORY) ([a-z-]+) (urn:pulumi:\S+): (.+)$")


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "policies", "check", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def violation_lines(output: str) -> list[re.Match[str]]:
    """The violation lines of the report; the summary line after them is not one."""
    lines = output.strip().splitlines()
    assert lines, "the report has no summary line"
    matches = [VIOLATION_LINE.match(line) for line in lines[:-1]]
    assert all(matches), f"lines not of the form `LEVEL policy-name urn: message`:\n{output}"
    return [match for match in matches if match]
