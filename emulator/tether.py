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

What it asks of the platform: POSIX only (fork, process groups, pipes): tested on
Linux, and nothing in it is Linux-only (no pidfd, no select(), whose fds stop at 1024).

What it costs and what to know about it:
- The watcher is a child of COMMAND. A COMMAND that waits for all its children
  before it exits (a shell's bare `wait`) would wait for the watcher, which ends
  only with the launcher or the group. gcloud, java and gunicorn wait only for
  the children they started.
- Each watcher is a forked interpreter that outlives the exec: about 7 MB of RSS
  (`ps -o rss` on the watchers of `python -m emulator up`, Python 3.11: 6.9 MB
  each; 4.9 MB by /proc/PID/smaps_rollup's Pss, which shares out the pages the
  watchers have in common), so about 60 MB for the dev stack's nine services
  (two emulators, seven functions).
- A process that the launcher forks without exec would hold the write end too,
  and the tethers would wait for it as well; emulator.process gives such a child
  a lifeline of its own instead (os.register_at_fork). Exec closes it anyway: the
  write end is close-on-exec.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Sequence

# As long as stop_process_group's default: a JVM may take seconds to stop.
GRACE = 10.0
# How often the watcher looks whether COMMAND has exited, during the grace only.
POLL_INTERVAL = 0.05


def _watch(lifeline: int, command: int) -> None:
    """Block until the launcher is gone, then end the group, the watcher last (``command``: COMMAND's pid)."""
    # The launcher never writes: a read returns only at end of file (b""), once the launcher is gone.
    while os.read(lifeline, 512):
        pass
    # From now on the group's SIGTERM is for the others: the watcher must live to send the SIGKILL.
    signal.signal(signal.SIGTERM, lambda signum, frame: None)
    os.killpg(0, signal.SIGTERM)
    # COMMAND is the watcher's parent: once it has exited, the watcher is another process's child.
    # (A pidfd would say so at once, but only on Linux 5.3 and later.)
    deadline = time.monotonic() + GRACE
    while os.getppid() == command and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL)
    os.killpg(0, signal.SIGKILL)


def main(argv: Sequence[str]) -> None:
    lifeline, command = int(argv[0]), list(argv[1:])
    itself = os.getpid()  # COMMAND's, after the exec
    if os.fork() == 0:
        _watch(lifeline, itself)
        os._exit(0)  # not reached: the watcher's SIGKILL ends it
    os.close(lifeline)  # COMMAND and its children need not hold it
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
