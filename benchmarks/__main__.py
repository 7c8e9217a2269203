"""`python -m benchmarks` (or `make bench`): every benchmark, figures and ratios."""

from . import function_imports, stack_evaluation


def main() -> None:
    print("Stack evaluation under mocks (median of 5)")
    for line in stack_evaluation.report():
        print("  " + line)
    print("Cold import of function main modules (median of 5, fresh interpreter each)")
    for line in function_imports.report():
        print("  " + line)


if __name__ == "__main__":
    main()
