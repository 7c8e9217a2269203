"""The requester CLI in process: its progress line (one line redrawn on a terminal, a line per change
in a log) and the exits a pipeline reads as an error."""

from __future__ import annotations

import http.server
import io
import threading

import pytest

from approvals.__main__ import ERROR, ProgressLine, main, progress

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


@pytest.mark.parametrize("timeout", ["inf", "nan", "0", "-5"])
def test_a_timeout_that_is_no_number_of_seconds_is_an_error_exit(timeout: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["request", "deploy", "--url", "http://127.0.0.1:9", "--wait", "--timeout", timeout])

    assert exited.value.code == ERROR


def test_a_start_whose_answer_fails_is_not_sent_again(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second POST after a lost answer would start a second request: exit 3 after one."""
    posts: list[str] = []

    class Busy(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            posts.append(self.path)
            self.send_response(503)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Busy) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        monkeypatch.setenv("APPROVALS_TEST_TOKEN", "a.b.c")
        try:
            status = main(["request", "deploy", "--url", url, "--token-env", "APPROVALS_TEST_TOKEN"])
        finally:
            server.shutdown()

    assert (status, posts) == (ERROR, ["/api/start"])
    assert "503" in capsys.readouterr().err
