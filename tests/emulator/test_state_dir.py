"""`python -m emulator up --state-dir DIR`: what the folder says about the run before this one.

A killed stack cannot write Firestore's export (written as it stops), while its executions are
in the engine's store already: the next start says so, rather than leave its requests failing
with "no such request".
"""

from __future__ import annotations

import contextlib
import stat
from pathlib import Path

from approvals.emulator.stack import LocalStack


def start_on(state_dir: Path, lines: list[str]) -> contextlib.ExitStack:
    """What a start does with the state dir; the returned stack undoes it as a stop does."""
    stack = LocalStack(stack="dev", state_dir=state_dir, progress=lines.append)
    on_stop = contextlib.ExitStack()
    stack._state_dir(on_stop)
    return on_stop


def test_a_start_after_a_killed_run_says_what_was_lost(tmp_path: Path) -> None:
    state_dir, lines = tmp_path / "state", []
    start_on(state_dir, lines)  # then killed: nothing is undone

    start_on(state_dir, lines).close()

    [said] = lines
    assert said.startswith(f"  state dir            {state_dir}: its last run was killed, not stopped:")
    assert "the requests it started may not be decidable" in said


def test_a_start_after_a_stopped_run_says_nothing(tmp_path: Path) -> None:
    state_dir, lines = tmp_path / "state", []
    start_on(state_dir, lines).close()

    start_on(state_dir, lines).close()

    assert lines == []


def test_a_new_state_dir_is_its_owners_only(tmp_path: Path) -> None:
    """It holds the requests and everything they carry (README: Running the stack locally)."""
    start_on(tmp_path / "state", []).close()

    assert stat.S_IMODE((tmp_path / "state").stat().st_mode) == 0o700
