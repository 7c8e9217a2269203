"""`python -m emulator run` as teams run it, in loops: whole fresh processes, wall clock.

Three figures side by side: `python -c "import yaml"` (the floor for any Python tool that
reads YAML; the goal is a one-step run in at most twice that), our one-step run, and our
CLI against the CLI of PyPI's `workflows-emulator` 1.10.0 (installed as engine.py does)
on a 50-step workflow, given an empty list and then a 10,000-element list as input.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .engine import BIG_LIST, REPO, assign_workflow, install_baseline

ONE_STEP = "main:\n  steps:\n    - done:\n        return: 1\n"
# Their CLI, as its console script (workflows-emulator) runs it.
THEIR_CLI = "import sys; from workflows_emulator.cli import cli; sys.exit(cli())"
GOAL = 2.0


def _environment(pythonpath: Path | None = None) -> dict[str, str]:
    """This environment with bytecode caching on, as an installed package has its .pyc files."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH")}
    return env | ({"PYTHONPATH": str(pythonpath)} if pythonpath else {})


def _seconds(command: list[str], cwd: Path, env: dict[str, str], expected: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False)
    seconds = time.perf_counter() - start
    assert done.stdout.strip() == expected, (
        f"{command[:4]} printed {done.stdout[-200:]!r}: {done.stderr[-500:]}"
    )
    return seconds


def _medians(runs: dict[str, tuple[list[str], Path, dict[str, str], str]], repeat: int) -> dict[str, float]:
    """Median wall seconds of each command: one untimed run each (caches), then `repeat`
    rounds of one run each, so that a busy moment of the machine weighs on all alike."""
    for command, cwd, env, expected in runs.values():
        _seconds(command, cwd, env, expected)
    samples: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(repeat):
        for label, run in runs.items():
            samples[label].append(_seconds(*run))
    return {label: statistics.median(values) for label, values in samples.items()}


def report(repeat: int = 11) -> list[str]:
    """Median of `repeat` fresh processes per command."""
    theirs_env = _environment(install_baseline())
    ours_env = _environment()
    ours = [sys.executable, "-m", "emulator", "run"]
    # At their default level (INFO) they log every step and the whole input: ERROR spares them that.
    theirs = [sys.executable, "-c", THEIR_CLI, "--loglevel", "ERROR"]
    with tempfile.TemporaryDirectory() as folder:
        # Their CLI loads `.env` from its working folder: this fresh one has none to load.
        here = Path(folder)
        (here / "one_step.yaml").write_text(ONE_STEP)
        (here / "fifty.yaml").write_text(assign_workflow(50))
        empty, big = json.dumps({"big": []}), json.dumps({"big": list(range(BIG_LIST))})
        runs = {
            "yaml": ([sys.executable, "-c", "import yaml"], here, ours_env, ""),
            "one step": ([*ours, str(here / "one_step.yaml")], REPO, ours_env, "1"),
            "ours 50": ([*ours, str(here / "fifty.yaml"), "--data", empty], REPO, ours_env, "50"),
            "theirs 50": (
                [*theirs, "--source", "fifty.yaml", "run", "--data", empty],
                here,
                theirs_env,
                "50",
            ),
            "ours big": (
                [*ours, str(here / "fifty.yaml"), "--data", big],
                REPO,
                ours_env,
                f"{50 + BIG_LIST}",
            ),
            "theirs big": (
                [*theirs, "--source", "fifty.yaml", "run", "--data", big],
                here,
                theirs_env,
                f"{50 + BIG_LIST}",
            ),
        }
        medians = _medians(runs, repeat)
    ms = {label: seconds * 1000 for label, seconds in medians.items()}
    ratio = ms["one step"] / ms["yaml"]
    lines = [
        f'python -c "import yaml"              {ms["yaml"]:7.1f} ms',
        f"python -m emulator run, one step     {ms['one step']:7.1f} ms  {ratio:4.2f}x import yaml"
        f" (goal <= {GOAL:.0f}x: {'met' if ratio <= GOAL else 'not met'})",
    ]
    for label, key in (("50 assign steps", "50"), (f"50 steps, {BIG_LIST:,}-element list input", "big")):
        lines.append(
            f"{label:36} ours {ms['ours ' + key]:7.1f} ms  workflows-emulator {ms['theirs ' + key]:7.1f} ms"
            f"  {ms['theirs ' + key] / ms['ours ' + key]:5.1f}x faster"
        )
    return lines
