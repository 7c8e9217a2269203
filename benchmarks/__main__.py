"""`python -m benchmarks [--quick] [--section NAME]` (or `make bench [QUICK=1]`): figures and ratios.

`--quick` runs each benchmark with few samples and small sizes: the figures are rough,
but every benchmark runs end to end, which `make test` and CI check on each change.
"""

import argparse
import importlib
from typing import NamedTuple


class Section(NamedTuple):
    name: str
    title: str
    # "module.function" in this package, imported when the section runs: the test that runs
    # each section (tests/benchmarks) lists them without loading Pulumi and the emulators.
    report: str
    full: int  # the report's size argument (samples, executions) in a full run
    quick: int  # and in a quick one

    def run(self, size: int) -> list[str]:
        module, function = self.report.rsplit(".", 1)
        return getattr(importlib.import_module(f".{module}", __package__), function)(size)


SECTIONS: tuple[Section, ...] = (
    Section(
        "stack",
        "Stack evaluation under mocks (median of 9, components and flat runs interleaved)",
        "stack_evaluation.report",
        9,
        1,
    ),
    Section(
        "policy",
        "Policy check (median of 5): the program as a preview, alone and with the pack's policies",
        "policy_check.report",
        5,
        1,
    ),
    Section(
        "imports",
        "Cold import of function main modules (median of 5, fresh interpreter each)",
        "function_imports.report",
        5,
        1,
    ),
    Section(
        "steps",
        "Workflows engine: per execution (median), against workflows-emulator 1.10.0",
        "engine.step_cost",
        15,
        2,
    ),
    Section(
        "cli",
        "Engine CLI: python -m approvals.emulator run, fresh processes (median of 11),"
        " against workflows-emulator",
        "cli.report",
        11,
        1,
    ),
    Section(
        "waiting",
        "Workflows engine: 10,000 executions waiting on callbacks",
        "engine.waiting_executions",
        10_000,
        200,
    ),
    Section("callback", "Workflows engine: callback round trip", "engine.callback_round_trip", 200, 20),
    Section(
        "quorum",
        "Quorum: last needed vote (decide) to execution end, quorum 3 against quorum 1",
        "quorum.report",
        30,
        3,
    ),
    Section(
        "status",
        "Status long poll: decision (decide POST) to the waiting CLI's exit, on the local stack",
        "status_poll.report",
        30,
        3,
    ),
)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few samples, small sizes: rough figures")
    parser.add_argument(
        "--section",
        action="append",
        choices=[section.name for section in SECTIONS],
        help="run only this section (repeat for more; default: all)",
    )
    args = parser.parse_args()
    for section in SECTIONS:
        if args.section and section.name not in args.section:
            continue
        size = section.quick if args.quick else section.full
        print(f"{section.title}{f' [quick: size {size}]' if args.quick else ''}", flush=True)
        for line in section.run(size):
            print("  " + line, flush=True)


if __name__ == "__main__":
    main()
