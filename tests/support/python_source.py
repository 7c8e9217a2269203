"""Parse the project's Python sources for the tests that read them (AST scans)."""

from __future__ import annotations

import ast


def parse(source: str) -> ast.Module:
    """`ast.parse`, once more if CPython 3.11's AST constructor miscounts its recursion depth.

    In a process with many threads (a test worker holding emulator clients), 3.11.7 may raise
    "AST constructor recursion depth mismatch" for a valid file (python/cpython#106905, fixed
    in later releases): a second parse of the same text succeeds.
    """
    try:
        return ast.parse(source)
    except SystemError as error:
        if "recursion depth mismatch" not in str(error):
            raise
        return ast.parse(source)
