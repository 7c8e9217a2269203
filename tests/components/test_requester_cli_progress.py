"""The requester CLI's progress line: one line redrawn on a terminal, a line per change in a log."""

from __future__ import annotations

import io

from approvals.__main__ import ProgressLine, progress

PENDING = {
    "status": "pending",
    "expires_at": "2026-12-04T10:00:00Z",
    "stages": [{"stage": "manager", "approvals": 0, "rejections": 0}],
}
VOTED = {**PENDING, "stages": [{"stage": "manager", "approvals": 1, "rejections": 0}]}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_line_per_change_and_none_for_a_mere_tick_of_the_clock() -> None:
    log = io.StringIO()
    line = ProgressLine(log)
    for status, left in ((PENDING, ", 50 s left to wait"), (PENDING, ", 20 s left to wait"), (VOTED, "")):
        line.show(progress(status), left)
    line.close()

    assert log.getvalue().splitlines() == [
        "pending (manager: 0 approved, 0 rejected), expires 2026-12-04T10:00:00Z, 50 s left to wait",
        "pending (manager: 1 approved, 0 rejected), expires 2026-12-04T10:00:00Z",
    ]


def test_a_terminal_gets_one_line_redrawn_in_place() -> None:
    terminal = Terminal()
    line = ProgressLine(terminal)
    line.show(progress(PENDING), ", 50 s left to wait")
    line.show(progress(VOTED), ", 20 s left to wait")
    line.close()

    assert terminal.getvalue().count("\n") == 1
    redrawn = "\r\x1b[Kpending (manager: 1 approved, 0 rejected), expires 2026-12-04T10:00:00Z"
    assert terminal.getvalue().endswith(f"{redrawn}, 20 s left to wait\n")


def test_before_the_workflow_asks_the_line_says_so() -> None:
    assert progress({"status": "pending", "stages": []}) == "pending (the workflow has not asked yet)"
