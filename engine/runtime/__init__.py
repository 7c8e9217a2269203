"""Running a parsed workflow: interpreter, engine loop, store, clock, standard library, connectors."""
