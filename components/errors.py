"""The error every component raises for a bad argument."""


class InvalidArgumentError(ValueError):
    """A component argument is wrong; the message names it and says what is allowed.

    Raised at construction time, before any resource is registered, so a bad
    program fails in `pulumi preview` instead of half-way through `pulumi up`.
    """

    def __init__(self, argument: str, problem: str, allowed: str | None = None) -> None:
        self.argument = argument
        self.problem = problem
        self.allowed = allowed
        message = f"{argument}: {problem}"
        if allowed:
            message += f" (allowed: {allowed})"
        super().__init__(message)
