"""FirestoreEmulator.replace_export: what a state dir keeps of Firestore is always one whole export."""

from __future__ import annotations

import urllib.error
from pathlib import Path

import pytest

from approvals.emulator.firestore import FirestoreEmulator, exported
from approvals.engine.api.local_server import free_port
from tests.support import PROJECT

DATABASE = "export-test"


def test_a_new_export_replaces_the_previous_one(
    firestore_emulator: FirestoreEmulator, tmp_path: Path
) -> None:
    kept = tmp_path / "firestore"
    kept.mkdir()
    (kept / "previous-run").write_text("the previous export")
    firestore_emulator.write_document(
        "requests/one", {"status": {"stringValue": "pending"}}, database=DATABASE
    )

    firestore_emulator.replace_export(kept, DATABASE)

    assert exported(tmp_path, "firestore").is_file()
    assert not (kept / "previous-run").exists()
    # Nothing but the export is left beside it: the scratch directory went, the previous export with it.
    assert [path.name for path in tmp_path.iterdir()] == ["firestore"]


def test_a_failed_export_keeps_the_previous_one(tmp_path: Path) -> None:
    """An emulator that does not answer (stopped, or never started) fails the export, deterministically."""
    kept = tmp_path / "firestore"
    kept.mkdir()
    (kept / "previous-run").write_text("the previous export")
    unreachable = FirestoreEmulator(project=PROJECT, port=free_port())

    with pytest.raises(urllib.error.URLError):
        unreachable.replace_export(kept, DATABASE)

    assert (kept / "previous-run").read_text() == "the previous export"
    assert [path.name for path in tmp_path.iterdir()] == ["firestore"]


def test_a_second_ctrl_c_while_the_new_export_moves_in_keeps_the_previous_one(
    firestore_emulator: FirestoreEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopping `up` with Ctrl-C twice can interrupt the two moves: the last good save survives."""
    kept = tmp_path / "firestore"
    kept.mkdir()
    (kept / "previous-run").write_text("the previous export")
    moves = 0
    real_rename = Path.rename

    def rename_interrupted_at_the_second_move(self: Path, target: Path) -> Path:
        nonlocal moves
        moves += 1
        if moves == 2:  # the first moved the previous export aside; the second brings the new one in
            raise KeyboardInterrupt
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename_interrupted_at_the_second_move)
    with pytest.raises(KeyboardInterrupt):
        firestore_emulator.replace_export(kept, DATABASE)
    monkeypatch.undo()

    assert (kept / "previous-run").read_text() == "the previous export"
    assert [path.name for path in tmp_path.iterdir()] == ["firestore"]
