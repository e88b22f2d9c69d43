"""Fixtures: a workflow on a fresh SQLite file per test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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

#: the clock of test workflows: fixed, and after every business date the tests record, so an
#: event dated 2027 is not "in the future" whatever the real date is (no test reads the wall clock)
FAR_AHEAD = datetime(2031, 1, 1, tzinfo=ZoneInfo("Asia/Shanghai"))


def far_ahead() -> datetime:
    return FAR_AHEAD


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "gpw.db"


@pytest.fixture
def clock() -> Callable[[], datetime]:
    """The test clock, for tests that open their own workflow on dates after today's."""
    return far_ahead


@pytest.fixture
def wf(db_path: Path) -> Iterator[Any]:
    from workflow import Workflow

    workflow = Workflow.open(f"sqlite:///{db_path}", clock=far_ahead)
    yield workflow
    workflow.close()
