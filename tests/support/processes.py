"""The processes below a test's own, read from /proc: what a stack or a launcher left running."""

from __future__ import annotations

import time
from pathlib import Path

Process = tuple[int, str]  # pid and start time, so that a reused pid is not mistaken for ours


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name (which may hold spaces): state, ppid, ..."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def descendants(pid: int) -> set[Process]:
    """Every process below ``pid``, children of children included."""
    children: dict[int, list[Process]] = {}
    for entry in Path("/proc").iterdir():
        stat = _stat(int(entry.name)) if entry.name.isdigit() else None
        if stat is not None:
            children.setdefault(int(stat[1]), []).append((int(entry.name), stat[19]))
    found: set[Process] = set()
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.add(child)
            pending.append(child[0])
    return found


def still_running(processes: set[Process]) -> set[Process]:
    """Those of ``processes`` that still exist and are not zombies."""
    running = set()
    for pid, started in processes:
        stat = _stat(pid)
        if stat is not None and stat[19] == started and stat[0] != "Z":
            running.add((pid, started))
    return running


def wait_gone(processes: set[Process], timeout: float = 30.0) -> set[Process]:
    """What of ``processes`` is still running after ``timeout`` (grandchildren may take a moment).

    Well above the tethers' 10 s grace (emulator.tether.GRACE): on a loaded two-core machine,
    two JVMs ending after that grace may take seconds more.
    """
    deadline = time.monotonic() + timeout
    while (running := still_running(processes)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return running
