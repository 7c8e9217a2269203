"""The one error type of the template package."""

from __future__ import annotations


class TemplateError(ValueError):
    """A template, its parameters or its rendering is wrong.

    Names the file, and the line and step when there are some, so that the
    message points at what to fix: ``path:line: step 'x': message``.
    """

    def __init__(
        self,
        path: str | object,
        message: str,
        *,
        line: int | None = None,
        step: str | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.step = step
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        what = self.message if self.step is None else f"step '{self.step}': {self.message}"
        return f"{where}: {what}"
