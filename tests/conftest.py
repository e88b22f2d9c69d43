"""Fixtures: a workflow on a fresh SQLite file per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

#: Hypothesis profiles, chosen by HYPOTHESIS_PROFILE. "ci" (the default, and `make test`) is
#: derandomized: the same examples on every run and machine (300 a test unless it says otherwise),
#: no example database read or written, no per-example deadline (a slow box is not a failure).
#: "fuzz" (`make fuzz`) explores with random seeds and many more examples; a failure prints the
#: blob that replays it (@reproduce_failure).
settings.register_profile(
    "ci", max_examples=300, derandomize=True, database=None, deadline=None, print_blob=True
)
settings.register_profile("fuzz", max_examples=5000, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "gpw.db"


@pytest.fixture
def wf(db_path: Path) -> Iterator[Any]:
    from workflow import Workflow

    workflow = Workflow.open(f"sqlite:///{db_path}")
    yield workflow
    workflow.close()
