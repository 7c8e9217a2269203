"""`python -m approvals.preview [--stack dev]`: what `pulumi up` would create, offline.

Runs the stack program under mocks (no Pulumi CLI, no cloud account), prints the
resource tree and the stack outputs, and fails on any component error, like a
`pulumi preview` that never leaves the machine.
"""

import argparse
import json
import sys
from pathlib import Path

from .testing import CapturedResource, Graph, capture_program


def tree_lines(graph: Graph) -> list[str]:
    known = {r.urn for r in graph.resources}
    lines: list[str] = []

    def walk(resource: CapturedResource, depth: int) -> None:
        lines.append(f"{'  ' * depth}{resource.type}  {resource.name}")
        for child in graph.children(resource):
            walk(child, depth + 1)

    for root in (r for r in graph.resources if r.parent not in known):
        walk(root, 0)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m approvals.preview", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--stack", default="dev", help="stack whose Pulumi.<stack>.yaml to use (default: dev)"
    )
    parser.add_argument("--program", type=Path, default=Path("__main__.py"), help="the Pulumi program to run")
    args = parser.parse_args(argv)
    try:
        graph = capture_program(args.program, stack=args.stack)
    except (ValueError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("\n".join(tree_lines(graph)))
    custom = sum(r.custom for r in graph.resources)
    print(f"\n{custom} resources in stack {args.stack!r}; outputs:")
    print(json.dumps(graph.outputs, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
