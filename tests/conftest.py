"""Fixtures: a workflow on a fresh database per test, on SQLite and on PostgreSQL.

Every test that takes ``wf`` or ``db_url`` runs twice: on a SQLite file and on a fresh database of a
real PostgreSQL server that the session starts (tests/pg.py) and stops. A test that also takes
``db_path`` (it reads the SQLite file itself) runs on SQLite only.
"""

from __future__ import annotations

import inspect
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


BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize every database test by backend; SQLite only where the test reads the file."""
    if "backend" not in metafunc.fixturenames:
        return
    own = inspect.signature(metafunc.function).parameters
    backends = ["sqlite"] if "db_path" in own else list(BACKENDS)
    metafunc.parametrize("backend", backends, scope="function")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A real PostgreSQL server for the whole session, stopped at its end."""
    import pg

    with pg.running() as server:
        yield server


@pytest.fixture(scope="session")
def pg_template(pg_server: Any) -> str:
    """A database holding gpw's schema, cloned for each test (CREATE DATABASE … TEMPLATE)."""
    from workflow import Workflow

    name = str(pg_server.create_database())
    Workflow.open(pg_server.url(name), clock=far_ahead).close()
    return name


@pytest.fixture
def db_url(backend: str, db_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The test's own database: a SQLite file, or a fresh PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite:///{db_path}"
        return
    server = request.getfixturevalue("pg_server")
    name = server.create_database(template=request.getfixturevalue("pg_template"))
    yield server.url(name)
    server.drop_database(name)


@pytest.fixture
def wf(db_url: str) -> Iterator[Any]:
    from workflow import Workflow

    workflow = Workflow.open(db_url, clock=far_ahead)
    yield workflow
    workflow.close()
