"""Fixtures of the template tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def write_template(tmp_path: Path) -> Callable[[str], Path]:
    """Writes a team's own workflow YAML and returns its path."""

    def write(text: str, name: str = "team.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
