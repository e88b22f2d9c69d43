"""Fixtures: a workflow on a fresh SQLite file per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "gpw.db"


@pytest.fixture
def wf(db_path: Path) -> Iterator[Any]:
    from workflow import Workflow

    workflow = Workflow.open(f"sqlite:///{db_path}")
    yield workflow
    workflow.close()
