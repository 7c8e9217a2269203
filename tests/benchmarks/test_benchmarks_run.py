"""Every benchmark runs end to end at its quick size, as `make bench QUICK=1` runs it.

Only that each section prints its figures is checked, never what they are: nothing here
is a timed test. Each section runs in a process of its own, as in `python -m benchmarks`,
so the baseline's packages (which engine.py appends to sys.path), Pulumi's mocks and the
emulators a section starts stay out of the test process.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.__main__ import SECTIONS, Section

ROOT = Path(__file__).resolve().parents[2]
A_FIGURE = re.compile(r"\d")
# The first run installs workflows-emulator from PyPI (benchmarks/engine.py), which has its
# own 600 s limit and error; this one only stops a section that hangs.
TIMEOUT = 1200


@pytest.mark.parametrize("section", SECTIONS, ids=[section.name for section in SECTIONS])
def test_each_benchmark_prints_its_figures_at_its_quick_size(section: Section) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--section", section.name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-4000:]
    title, *lines = done.stdout.splitlines()
    assert title == f"{section.title} [quick: size {section.quick}]"
    assert lines, "no figures"
    assert all(line.startswith("  ") and A_FIGURE.search(line) for line in lines), done.stdout
