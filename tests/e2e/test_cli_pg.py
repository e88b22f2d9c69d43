"""The CLI on a PostgreSQL server: a plain postgresql:// URL (psycopg 3), GPW_DATABASE_URL, the
connection pool from GPW_DB_* variables (issue #7, "Configuration")."""

from __future__ import annotations

import json
from typing import Any

import pytest

from workflow import Workflow
from workflow.cli import main
from workflow.persistence import PoolSettings


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_plain_postgresql_url_uses_psycopg(
    pg_server: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pg_server.url(pg_server.create_database()).replace(
        "postgresql+psycopg://", "postgresql://"
    )
    code, out, err = run(capsys, "--db", url, "--json", "init")
    assert code == 0, err
    monkeypatch.setenv("GPW_DATABASE_URL", url)
    code, out, err = run(capsys, "--json", "project", "list")
    assert code == 0, err
    assert json.loads(out)["items"] == []


def test_pool_settings_reach_the_engine(pg_server: Any) -> None:
    url = pg_server.url(pg_server.create_database())
    pool = PoolSettings(size=3, max_overflow=1, timeout=2, connect_timeout=3, statement_timeout=5)
    wf = Workflow.open(url, pool=pool)
    try:
        assert wf.db.engine.pool.size() == 3  # type: ignore[attr-defined]
        with wf.db.engine.connect() as conn:
            from sqlalchemy import text

            assert conn.execute(text("SHOW statement_timeout")).scalar() == "5s"
    finally:
        wf.close()


@pytest.mark.parametrize("value", ["many", "-1"])
def test_a_bad_pool_setting_exits_8_naming_it(
    value: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("GPW_DB_POOL_SIZE", value)
    code, _, err = run(capsys, "--db", str(tmp_path / "x.db"), "project", "list")
    assert code == 8
    assert "GPW_DB_POOL_SIZE" in err and "Traceback" not in err
