"""The engine on the wire: callbacks and the Executions API over REST and gRPC, with access checks."""
