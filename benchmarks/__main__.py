"""`python -m benchmarks` (or `make bench`): every benchmark, figures and ratios."""

from . import engine, function_imports, quorum, stack_evaluation

SECTIONS = (
    ("Stack evaluation under mocks (median of 5)", stack_evaluation.report),
    ("Cold import of function main modules (median of 5, fresh interpreter each)", function_imports.report),
    ("Workflows engine: per execution (median), against workflows-emulator 1.10.0", engine.step_cost),
    ("Workflows engine: 10,000 executions waiting on callbacks", engine.waiting_executions),
    ("Workflows engine: callback round trip", engine.callback_round_trip),
    ("Quorum: last needed vote (decide) to execution end, quorum 3 against quorum 1", quorum.report),
)


def main() -> None:
    for title, report in SECTIONS:
        print(title, flush=True)
        for line in report():
            print("  " + line, flush=True)


if __name__ == "__main__":
    main()
