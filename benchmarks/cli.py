"""`python -m approvals.emulator run` as teams run it, in loops: whole fresh processes, wall clock.

Three figures side by side: `python -c "import yaml"` (the floor for any Python tool that
reads YAML; the goal is a one-step run in at most twice that), our one-step run, and our
CLI against the CLI of PyPI's `workflows-emulator` 1.10.0 (installed as engine.py does)
on a 50-step workflow, given an empty list and then a 10,000-element list as input.

Every command runs on an interpreter laid out as an install (`installed_layout`), not on
.venv's: the editable install's finder imports pathlib, urllib.parse and more at each
start, which made the floor 6 ms slower than a consumer's and the ratio look better.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sysconfig
import tempfile
import time
import tomllib
import venv
from pathlib import Path

from .engine import BIG_LIST, REPO, assign_workflow, install_baseline

ONE_STEP = "main:\n  steps:\n    - done:\n        return: 1\n"
# Their CLI, as its console script (workflows-emulator) runs it.
THEIR_CLI = "import sys; from workflows_emulator.cli import cli; sys.exit(cli())"
GOAL = 2.0


def installed_layout(home: Path) -> Path:
    """A virtualenv at ``home`` where `approvals` is laid out as pip installs it; its python.

    The package is a plain folder on sys.path, of links to the repository's folders as
    pyproject.toml maps them, with no editable finder; a .pth line puts .venv's site-packages
    after it for the dependencies (PyYAML, google-re2), without running .venv's .pth files.
    """
    venv.create(home, with_pip=False, clear=True)
    [site] = (home / "lib").glob("python3*/site-packages")
    (site / "dependencies.pth").write_text(f"{sysconfig.get_paths()['purelib']}\n")
    folders = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    package = site / "approvals"
    package.mkdir()
    for entry in (REPO / folders["approvals"]).iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for name, folder in folders.items():
        if name != "approvals":
            (package / name.removeprefix("approvals.")).symlink_to(REPO / folder)
    return home / "bin" / "python"


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
    with tempfile.TemporaryDirectory() as folder:
        # Their CLI loads `.env` from its working folder: this fresh one has none to load.
        here = Path(folder)
        python = str(installed_layout(here / "venv"))
        ours = [python, "-m", "approvals.emulator", "run"]
        # At their default level (INFO) they log every step and the whole input: ERROR spares them that.
        theirs = [python, "-c", THEIR_CLI, "--loglevel", "ERROR"]
        (here / "one_step.yaml").write_text(ONE_STEP)
        (here / "fifty.yaml").write_text(assign_workflow(50))
        empty, big = json.dumps({"big": []}), json.dumps({"big": list(range(BIG_LIST))})
        runs = {
            "yaml": ([python, "-c", "import yaml"], here, ours_env, ""),
            "one step": ([*ours, "one_step.yaml"], here, ours_env, "1"),
            "ours 50": ([*ours, "fifty.yaml", "--data", empty], here, ours_env, "50"),
            "theirs 50": (
                [*theirs, "--source", "fifty.yaml", "run", "--data", empty],
                here,
                theirs_env,
                "50",
            ),
            "ours big": (
                [*ours, "fifty.yaml", "--data", big],
                here,
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
        f"approvals.emulator run, one step     {ms['one step']:7.1f} ms  {ratio:4.2f}x import yaml"
        f" (goal <= {GOAL:.0f}x: {'met' if ratio <= GOAL else 'not met'})",
    ]
    for label, key in (("50 assign steps", "50"), (f"50 steps, {BIG_LIST:,}-element list input", "big")):
        lines.append(
            f"{label:36} ours {ms['ours ' + key]:7.1f} ms  workflows-emulator {ms['theirs ' + key]:7.1f} ms"
            f"  {ms['theirs ' + key] / ms['ours ' + key]:5.1f}x faster"
        )
    return lines
