"""What the network stack exports, read through a StackReference."""

import pulumi


class SharedNetwork:
    def __init__(self, org: str, stack: str) -> None:
        self.ref = pulumi.StackReference(f"{org}/network/{stack}")
        self.connector: pulumi.Output[str] = self.ref.require_output("serverlessConnector").apply(str)
        self.egress: pulumi.Output[str] = self.ref.get_output("egressMode").apply(
            lambda mode: mode or "PRIVATE_RANGES_ONLY"
        )
