"""A local Cloud Workflows engine, in three parts that depend downwards.

`language` reads workflow YAML into a typed step AST (scanner, expression parser,
definition) and answers questions about it (`queries`): the engine, the template
renderer, the policy pack and the tests all read workflows through it.
`runtime` runs that AST: the interpreter hands every blocking call to the `engine`
as an effect, which the store journals; values, errors, the standard library and
the connectors live there. `api` serves the engine over HTTP (callbacks, the
Executions REST API) and gRPC, and checks who may call.
"""
