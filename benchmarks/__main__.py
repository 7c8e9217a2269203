"""`python -m benchmarks [--quick]` (or `make bench [QUICK=1]`): every benchmark, figures and ratios.

`--quick` runs each benchmark with few samples and small sizes: the figures are rough,
but every benchmark runs end to end, which CI checks on each change.
"""

import argparse
from collections.abc import Callable

from . import engine, function_imports, policy_check, quorum, stack_evaluation

# (title, report, its size argument: full run, quick run)
SECTIONS: tuple[tuple[str, Callable[[int], list[str]], int, int], ...] = (
    ("Stack evaluation under mocks (median of 5)", stack_evaluation.report, 5, 1),
    (
        "Policy check (median of 5): the program as a preview, alone and with the pack's policies",
        policy_check.report,
        5,
        1,
    ),
    (
        "Cold import of function main modules (median of 5, fresh interpreter each)",
        function_imports.report,
        5,
        1,
    ),
    (
        "Workflows engine: per execution (median), against workflows-emulator 1.10.0",
        engine.step_cost,
        15,
        2,
    ),
    ("Workflows engine: 10,000 executions waiting on callbacks", engine.waiting_executions, 10_000, 200),
    ("Workflows engine: callback round trip", engine.callback_round_trip, 200, 20),
    ("Quorum: last needed vote (decide) to execution end, quorum 3 against quorum 1", quorum.report, 30, 3),
)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few samples, small sizes: rough figures")
    quick = parser.parse_args().quick
    for title, report, full, small in SECTIONS:
        print(f"{title}{' [quick: size ' + str(small) + ']' if quick else ''}", flush=True)
        for line in report(small if quick else full):
            print("  " + line, flush=True)


if __name__ == "__main__":
    main()
