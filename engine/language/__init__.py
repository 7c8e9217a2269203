"""Workflows YAML as a typed step AST: scanner -> expression parser -> definition, and queries on it."""
