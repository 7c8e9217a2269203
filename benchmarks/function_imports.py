"""Cold import time of each function's main module, in a fresh interpreter each time.

The baseline, measured in the same run, is the import of the Google clients the
functions use (Firestore, Workflows) done eagerly: what a cold start would pay
if main.py imported them at module level.
"""

import statistics
import subprocess
import sys
from pathlib import Path

FUNCTIONS = Path(__file__).resolve().parent.parent / "functions"
SNIPPET = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def cold_import_seconds(module: str, cwd: Path, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        result = subprocess.run(
            [sys.executable, "-c", SNIPPET.format(module=module)],
            cwd=cwd,
            env={"PYTHONPATH": str(FUNCTIONS), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        )
        samples.append(float(result.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def report(repeat: int = 5) -> list[str]:
    eager = cold_import_seconds("google.cloud.firestore, google.cloud.workflows", FUNCTIONS, repeat)
    lines = [f"{'eager google clients (baseline)':32} {eager * 1000:7.1f} ms"]
    for folder in sorted(p for p in FUNCTIONS.iterdir() if (p / "main.py").is_file()):
        seconds = cold_import_seconds("main", folder, repeat)
        lines.append(f"{folder.name + '/main.py':32} {seconds * 1000:7.1f} ms  ratio {seconds / eager:4.2f}x")
    return lines
