"""`python -I tether.py FD COMMAND...`: COMMAND, in a process group that dies with its launcher.

Each child service runs in a process group of its own, so that stopping it ends
what it started too (gcloud's JVM, gunicorn's workers). A group does not notice
that its launcher is gone, though: a launcher killed with SIGKILL, or crashing,
left every service running, holding its port and its heap. PR_SET_PDEATHSIG
would not do: it fires when the launcher's *thread* that forked the child ends
(the stack starts services on worker threads that end long before it does), and
it reaches the child only, not the JVM or the workers.

FD is the read end of a pipe whose only write end the launcher holds
(emulator.process): the kernel closes that end when the launcher exits, however
it exits. The tether forks a watcher, which stays in the group and blocks on FD,
then execs COMMAND in its own place: COMMAND keeps the pid the launcher knows,
and stays the leader of its session and group (gcloud moves itself to a group of
its own unless it leads its session). At end of file the watcher ends the group
as stop() would: SIGTERM, then SIGKILL once COMMAND exited or a grace passed.
When stop() ends the group first, the watcher dies with it.
"""

from __future__ import annotations

import os
import select
import signal
import sys
from collections.abc import Sequence

# As long as stop_process_group's default: a JVM may take seconds to stop.
GRACE = 10.0


def _watch(lifeline: int, command: int) -> None:
    """Block until the launcher is gone, then end the group, the watcher last (``command``: a pidfd)."""
    # The launcher never writes: the lifeline becomes readable only at end of file.
    select.select([lifeline], [], [])
    # From now on the group's SIGTERM is for the others: the watcher must live to send the SIGKILL.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    os.killpg(0, signal.SIGTERM)
    select.select([command], [], [], GRACE)
    os.killpg(0, signal.SIGKILL)


def main(argv: Sequence[str]) -> None:
    lifeline, command = int(argv[0]), list(argv[1:])
    # Readable once this process, COMMAND after the exec, has exited; close-on-exec, like every pidfd.
    itself = os.pidfd_open(os.getpid())
    if os.fork() == 0:
        _watch(lifeline, itself)
        os._exit(0)  # not reached: the watcher's SIGKILL ends it
    os.close(lifeline)  # COMMAND and its children need not hold it
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
