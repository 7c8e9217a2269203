"""A local Cloud Workflows engine: scanner -> parser -> interpreter, plus the runtime.

Expressions go through `scanner` and `parser` (never Python's eval) and are
evaluated by `expressions`; `definition` turns workflow YAML into validated
steps; `interpreter` runs them, handing every blocking call to the `engine` as
an effect from `effects`. Runtime values and errors live in `values` and `errors`.
"""
