"""Lost races: a serialisation failure or a deadlock becomes ConcurrentUpdate, and gpw's own
transactions are tried again a bounded number of times (issue #7, "PostgreSQL semantics")."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from workflow import ConcurrentUpdate
from workflow.db import RACE_ATTEMPTS, retrying, translate


def _race(kind: str = "retryable") -> ConcurrentUpdate:
    return ConcurrentUpdate(details={"retryable": True} if kind == "retryable" else {})


def test_a_lost_race_is_tried_again_until_it_wins() -> None:
    calls = {"n": 0}

    def work() -> str:
        calls["n"] += 1
        if calls["n"] < RACE_ATTEMPTS:
            raise _race()
        return "done"

    assert retrying(work) == "done"
    assert calls["n"] == RACE_ATTEMPTS


def test_a_race_lost_every_time_surfaces_as_concurrent_update() -> None:
    calls = {"n": 0}

    def work() -> None:
        calls["n"] += 1
        raise _race()

    with pytest.raises(ConcurrentUpdate):
        retrying(work)
    assert calls["n"] == RACE_ATTEMPTS


def test_a_stale_version_and_a_hosts_transaction_are_never_retried() -> None:
    calls = {"n": 0}

    def stale() -> None:
        calls["n"] += 1
        raise _race("stale")

    with pytest.raises(ConcurrentUpdate):
        retrying(stale)
    assert calls["n"] == 1

    def lost() -> None:
        calls["n"] += 1
        raise _race()

    with pytest.raises(ConcurrentUpdate):
        retrying(lost, connection=object())  # type: ignore[arg-type]
    assert calls["n"] == 2


def test_a_real_serialization_failure_is_a_retryable_concurrent_update(pg_server: Any) -> None:
    url = pg_server.url(pg_server.create_database())
    engine = create_engine(url, isolation_level="SERIALIZABLE")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id int primary key, n int)"))
        conn.execute(text("INSERT INTO t VALUES (1, 0), (2, 0)"))
    a, b = engine.connect(), engine.connect()
    try:
        a.begin()
        b.begin()
        # write skew: each reads the other's row and writes its own
        a.execute(text("SELECT n FROM t WHERE id = 2")).all()
        b.execute(text("SELECT n FROM t WHERE id = 1")).all()
        a.execute(text("UPDATE t SET n = 1 WHERE id = 1"))
        b.execute(text("UPDATE t SET n = 1 WHERE id = 2"))
        a.commit()
        with pytest.raises(DBAPIError) as err:
            b.commit()
        mine = translate(err.value)
        assert isinstance(mine, ConcurrentUpdate) and mine.details["retryable"] is True
        assert mine.details["sqlstate"] == "40001"
    finally:
        a.close()
        b.close()
        engine.dispose()
