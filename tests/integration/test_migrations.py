"""Alembic owns the schema (issue #7): an empty database and one gpw 0.1.0 made are brought to
this release's schema, the rows survive with their values, ``verify`` passes, the projects go on.

``tests/fixtures/gpw-v0.1.0.db`` was written by the tagged release v0.1.0 (see
``tests/fixtures/README.md``): ``gpw demo`` (a project walked to closed, two live ones), ``tick``
and ``relay`` (inbox and log channels) at a fixed ``--at``. On PostgreSQL the same rows are
loaded into v0.1.0's schema (migration ``0001_v0_1_0``, JSON columns, no version table), as
gpw 0.1.0 would have left them there.

Every test takes a URL (``blank_url``: an empty database; ``v010_url``: the old one), so it runs
on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from dbtools import sqlite_files
from sqlalchemy import MetaData, create_engine, inspect, select, text
from sqlalchemy.engine import Connection
from support import trained

from states.errors import ConfigurationError
from states.model import Actor
from workflow import Workflow, schema
from workflow.audit import entry_hash_v1
from workflow.cli import main
from workflow.persistence import audit_t, drop_schema, make_engine, project_t

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "gpw-v0.1.0.db"
TZ = ZoneInfo("Asia/Shanghai")
CLERK = Actor(id="zhang.min", role="purchaser", org="大武口区民政局")
#: after the fixture's last entry (2026-11-24 08:41 UTC): a new event may be dated here
AFTER = datetime(2026, 11, 25, 10, tzinfo=TZ)
#: what gpw 0.1.0's demo, tick and relay left in the fixture
V010_COUNTS = {
    "gpw_project": 3,
    "gpw_audit": 38,
    "gpw_audit_head": 2,
    "gpw_deadline": 15,
    "gpw_notice": 4,
    "gpw_delivery": 8,
    "gpw_inbox": 8,
    "gpw_person": 5,
    "gpw_contractor": 1,
    "gpw_meta": 2,
}
#: v0.1.0's columns of gpw_audit (the migration adds recorded_at, version, digest, hash_format)
NEW_AUDIT_COLUMNS = {"recorded_at", "version", "digest", "hash_format"}


# -- databases ------------------------------------------------------------------------------------


@pytest.fixture
def blank_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new PostgreSQL database without any table."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    server = request.getfixturevalue("pg_server")
    name = server.create_database()
    yield server.url(name)
    server.drop_database(name)


def _aware(value: Any) -> Any:
    # SQLite hands v0.1.0's datetimes back naive (they are UTC)
    return value.replace(tzinfo=UTC) if isinstance(value, datetime) else value


def _load_v010(url: str) -> None:
    """Into an empty server database: v0.1.0's schema (revision 0001, no version table, as
    gpw 0.1.0's create_all left it) and the fixture's rows, sequences moved past them."""
    source = create_engine(f"sqlite:///{FIXTURE}")
    engine = make_engine(url)
    try:
        with engine.begin() as conn, source.connect() as old:
            command.upgrade(schema.alembic_config(conn), schema.BASELINE)
            conn.execute(text(f"DROP TABLE {schema.VERSION_TABLE}"))
            tables = MetaData()
            tables.reflect(conn)
            found = MetaData()
            found.reflect(old)
            for table in found.sorted_tables:
                rows = [
                    {k: _aware(v) for k, v in r._mapping.items()}
                    for r in old.execute(select(table))
                ]
                if rows:
                    conn.execute(tables.tables[table.name].insert(), rows)
                if "id" in table.c:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"COALESCE((SELECT max(id) FROM {table.name}), 1))"
                        )
                    )
    finally:
        engine.dispose()
        source.dispose()


@pytest.fixture
def v010_url(blank_url: str, tmp_path: Path) -> str:
    """A database gpw 0.1.0 made: the fixture file copied, or its rows on PostgreSQL."""
    if blank_url.startswith("sqlite"):
        path = tmp_path / "v010.db"
        shutil.copyfile(FIXTURE, path)
        return f"sqlite:///{path}"
    _load_v010(blank_url)
    return blank_url


def snapshot(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every gpw table, as reflected (old and new schemas alike), by primary key;
    gpw_audit without the columns the migration adds."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            reflected = MetaData()
            reflected.reflect(conn)
            out: dict[str, list[dict[str, Any]]] = {}
            for name, table in sorted(reflected.tables.items()):
                if not name.startswith("gpw_") or name == schema.VERSION_TABLE:
                    continue
                columns = [c for c in table.c if c.name not in NEW_AUDIT_COLUMNS]
                order = list(table.primary_key.columns) or columns
                out[name] = [
                    {k: _aware(v) for k, v in r._mapping.items()}
                    for r in conn.execute(select(*columns).order_by(*order))
                ]
            return out
    finally:
        engine.dispose()


def as_before(
    after: dict[str, list[dict[str, Any]]], before: dict[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """``after`` cut to the tables and columns ``before`` had: later migrations add tables and
    columns (users, inbox acknowledgements …), never change what was there."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name, rows in before.items():
        keys = list(rows[0]) if rows else None
        out[name] = [
            {k: r[k] for k in keys} if keys is not None else r for r in after.get(name, [])
        ]
    return out


def differences(conn: Connection) -> list[Any]:
    """What ``alembic check`` would report: the database against the tables the code declares."""
    context = MigrationContext.configure(
        conn,
        opts={
            "include_name": schema.include_name,
            "compare_type": True,
            "version_table": schema.VERSION_TABLE,
        },
    )
    return list(compare_metadata(context, schema.target_metadata()))


def at_head(url: str) -> tuple[str | None, list[Any], list[str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return (
                schema.current_revision(conn),
                differences(conn),
                sorted(inspect(conn).get_table_names()),
            )
    finally:
        engine.dispose()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


# -- an empty database ----------------------------------------------------------------------------


def test_an_empty_database_is_upgraded_to_the_head_and_matches_the_tables(blank_url: str) -> None:
    result = schema.upgrade(blank_url)

    assert (result.before, result.after, result.changed) == (None, schema.head_revision(), True)
    revision, diffs, tables = at_head(blank_url)
    assert revision == schema.head_revision()
    assert diffs == []
    assert schema.VERSION_TABLE in tables and "alembic_version" not in tables


def test_json_columns_are_jsonb_on_postgresql_and_json_elsewhere(blank_url: str) -> None:
    schema.upgrade(blank_url)
    engine = create_engine(blank_url)
    try:
        with engine.connect() as conn:
            types = {
                (t, c["name"]): type(c["type"]).__name__.upper()
                for t in ("gpw_project", "gpw_audit", "gpw_notice", "gpw_contractor")
                for c in inspect(conn).get_columns(t)
                if c["name"] in ("data", "recipients")
            }
    finally:
        engine.dispose()
    want = "JSONB" if blank_url.startswith("postgresql") else "JSON"
    assert len(types) == 4 and set(types.values()) == {want}


def test_upgrading_twice_is_a_no_op(blank_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--db", blank_url, "--json", "db", "upgrade")
    assert code == 0 and '"from": null' in out and '"changed": true' in out
    before = snapshot(blank_url), sqlite_files(blank_url)

    code, out, err = run(capsys, "--db", blank_url, "db", "upgrade")

    assert (code, err) == (0, "")
    assert f"schema already current: {schema.head_revision()}" in out
    assert (snapshot(blank_url), sqlite_files(blank_url)) == before
    code, out, _ = run(capsys, "--db", blank_url, "db", "current")
    assert code == 0 and "up to date" in out


def test_a_version_row_left_by_dropped_tables_counts_as_empty(blank_url: str) -> None:
    """``gpw demo --replace`` on a server drops gpw's tables, not the version table."""
    schema.upgrade(blank_url)
    engine = make_engine(blank_url)
    try:
        drop_schema(engine)
        with engine.connect() as conn:
            assert schema.current_revision(conn) is None
        result = schema.upgrade(engine)
    finally:
        engine.dispose()
    assert (result.before, result.after) == (None, schema.head_revision())
    assert at_head(blank_url)[:2] == (schema.head_revision(), [])


def test_gpw_init_creates_the_schema_through_the_migrations(
    blank_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", blank_url, "init")

    assert code == 0 and f"→ {schema.head_revision()}" in out
    assert at_head(blank_url)[:2] == (schema.head_revision(), [])


# -- a database gpw 0.1.0 made --------------------------------------------------------------------


def test_the_fixture_is_what_v0_1_0_wrote(v010_url: str) -> None:
    """The file holds v0.1.0's schema (no version table, no recorded_at) and every kind of row."""
    old = snapshot(v010_url)
    assert {name: len(rows) for name, rows in old.items() if rows} == V010_COUNTS
    engine = create_engine(v010_url)
    try:
        with engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("gpw_audit")}
            assert schema.current_revision(conn) == schema.BASELINE
            assert not inspect(conn).has_table(schema.VERSION_TABLE)
    finally:
        engine.dispose()
    assert not columns & NEW_AUDIT_COLUMNS
    # the entries are hashed with v0.1.0's formula
    entry = old["gpw_audit"][0]
    assert entry["hash"] == entry_hash_v1(
        **{k: entry[k] for k in ("stream", "seq", "at", "actor_id", "role", "org", "event")},
        from_state=entry["from_state"],
        to_state=entry["to_state"],
        data=entry["data"],
        prev_hash=entry["prev_hash"],
    )


def test_a_v0_1_0_database_is_upgraded_with_every_row_intact(
    v010_url: str, clock: Callable[[], datetime]
) -> None:
    before = snapshot(v010_url)

    result = schema.upgrade(v010_url)

    assert (result.before, result.after) == (schema.BASELINE, schema.head_revision())
    # every project, entry, deadline, notice, delivery…
    assert as_before(snapshot(v010_url), before) == before
    revision, diffs, _ = at_head(v010_url)
    assert (revision, diffs) == (schema.head_revision(), [])
    engine = create_engine(v010_url)
    try:
        with engine.connect() as conn:
            entries = conn.execute(select(audit_t).order_by(audit_t.c.id)).all()
    finally:
        engine.dispose()
    assert len(entries) == V010_COUNTS["gpw_audit"]
    for e in entries:  # old entries: v0.1.0's formula, recorded when they happened
        assert (e.hash_format, e.recorded_at, e.version, e.digest) == (1, e.at, None, None)

    wf = Workflow.open(v010_url, clock=clock)
    try:
        report = wf.verify()
        assert (report.ok, report.entries, report.problems) == (True, 38, [])
        views = {pid: wf.project(pid) for pid in (1, 2, 3)}
        assert {pid: (v.state, v.version) for pid, v in views.items()} == {
            1: ("closed", 16),
            2: ("contracted", 8),
            3: ("contracted", 8),
        }
        assert [len(wf.history(pid)) for pid in (1, 2, 3)] == [16, 8, 8]
        assert len(wf.notices()) == 4
        assert len(wf.inbox(org="大武口区民政局", role="purchaser")) == 4
        assert sum(len(wf.deliveries(n.id)) for n in wf.notices()) == 8
    finally:
        wf.close()


def test_an_upgraded_project_takes_new_events_and_still_verifies(
    v010_url: str, clock: Callable[[], datetime]
) -> None:
    schema.upgrade(v010_url)
    wf = Workflow.open(v010_url, clock=clock)
    try:
        view = wf.fire(
            2, "pay", actor=CLERK, at=AFTER, tranche=1, amount="86400.00", on="2026-11-25"
        )
        assert (view.state, view.version) == ("contracted", 9)
        # R14: trained before duty (an upgraded contracted project too)
        wf.fire(3, "record_training", actor=CLERK, at=AFTER, **trained("2026-11-25", attendees=1))
        view = wf.fire(
            3,
            "dispatch_staff",
            actor=CLERK,
            at=AFTER,
            on="2026-11-25",
            staff=[{"name": "王芳", "education": "本科", "computer_literate": True}],
        )
        assert view.state == "in_service"
        last = wf.history(2)[-1]
        assert (last.seq, last.hash_format, last.version) == (9, 2, 9) and last.digest
        assert wf.verify().ok
        wf.tick(AFTER)
        wf.relay(AFTER)
        report = wf.verify()
        assert report.ok, report.problems
        assert report.entries == 41  # three new entries (tick and relay write none)
    finally:
        wf.close()


# -- refused until upgraded -----------------------------------------------------------------------


def test_opening_creates_the_schema_in_an_empty_database_only(blank_url: str) -> None:
    """``ensure_current`` (what opening a workflow does): an empty database gets the schema
    when the caller may create, and is refused otherwise."""
    engine = make_engine(blank_url)
    try:
        with pytest.raises(ConfigurationError, match="run gpw db upgrade"):
            schema.ensure_current(engine)  # may not create: nothing is made
        assert at_head(blank_url)[0] is None
        schema.ensure_current(engine, create=True)
        schema.ensure_current(engine, create=True)
        schema.ensure_current(engine)
    finally:
        engine.dispose()
    assert at_head(blank_url)[:2] == (schema.head_revision(), [])


def test_opening_never_alters_an_old_database(v010_url: str) -> None:
    before = snapshot(v010_url), sqlite_files(v010_url)
    engine = make_engine(v010_url)
    try:
        with pytest.raises(ConfigurationError, match="run gpw db upgrade") as caught:
            schema.ensure_current(engine, create=True)
    finally:
        engine.dispose()
    assert caught.value.details == {"current": schema.BASELINE, "head": schema.head_revision()}
    assert (snapshot(v010_url), sqlite_files(v010_url)) == before


def test_check_current_refuses_an_old_database(v010_url: str) -> None:
    engine = create_engine(v010_url)
    try:
        with engine.connect() as conn, pytest.raises(ConfigurationError) as caught:
            schema.check_current(conn)
    finally:
        engine.dispose()
    assert caught.value.field == "db"
    assert caught.value.message_zh == "数据库结构版本过旧：请运行 gpw db upgrade"
    assert caught.value.message_en == (
        "the database schema is older than this release: run gpw db upgrade"
    )


@pytest.mark.parametrize(
    "command", [["verify"], ["project", "list"], ["tick"], ["project", "show", "2"]]
)
def test_an_old_database_is_refused_and_left_unchanged(
    v010_url: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(v010_url), sqlite_files(v010_url)

    code, out, err = run(capsys, "--db", v010_url, *command)

    assert code == 8, (out, err)
    assert "run gpw db upgrade" in err and "Traceback" not in err
    assert (snapshot(v010_url), sqlite_files(v010_url)) == before


def test_gpw_db_upgrade_brings_an_old_database_to_the_head(
    v010_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", v010_url, "db", "current")
    assert code == 0 and schema.BASELINE in out and "run gpw db upgrade" in out

    code, out, _ = run(capsys, "--db", v010_url, "db", "upgrade")

    assert code == 0 and f"{schema.BASELINE} → {schema.head_revision()}" in out
    code, out, _ = run(capsys, "--db", v010_url, "verify")
    assert code == 0, out
    code, out, _ = run(capsys, "--db", v010_url, "db", "upgrade")
    assert code == 0 and "already current" in out


def test_a_database_newer_than_the_code_is_refused(
    blank_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    schema.upgrade(blank_url)
    engine = create_engine(blank_url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"UPDATE {schema.VERSION_TABLE} SET version_num = '9999_future'"))
        with engine.connect() as conn, pytest.raises(ConfigurationError) as caught:
            schema.check_current(conn)
    finally:
        engine.dispose()
    assert "newer than this release" in caught.value.message_en

    for args in (["db", "upgrade"], ["verify"]):
        code, _, err = run(capsys, "--db", blank_url, *args)
        assert code == 8 and "newer than this release" in err, err


# -- verify on entries of both formats ------------------------------------------------------------


def _entry(url: str, stream: str, seq: int) -> Any:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                select(audit_t).where(audit_t.c.stream == stream, audit_t.c.seq == seq)
            ).one()
    finally:
        engine.dispose()


def _update(url: str, statement: Any) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(statement)
    finally:
        engine.dispose()


def _problems(url: str, clock: Callable[[], datetime]) -> set[tuple[str, str | None, int | None]]:
    wf = Workflow.open(url, clock=clock, mode="read")
    try:
        return {(p["kind"], p["stream"], p["seq"]) for p in wf.verify().problems}
    finally:
        wf.close()


def test_an_altered_old_entry_is_found(v010_url: str, clock: Callable[[], datetime]) -> None:
    schema.upgrade(v010_url)
    entry = _entry(v010_url, "project:1", 3)
    _update(
        v010_url,
        audit_t.update().where(audit_t.c.id == entry.id).values(data={**entry.data, "x": 1}),
    )
    assert ("content", "project:1", 3) in _problems(v010_url, clock)


def test_an_old_entry_claiming_the_new_format_is_found(
    v010_url: str, clock: Callable[[], datetime]
) -> None:
    schema.upgrade(v010_url)
    entry = _entry(v010_url, "project:2", 5)
    _update(v010_url, audit_t.update().where(audit_t.c.id == entry.id).values(hash_format=2))
    assert ("content", "project:2", 5) in _problems(v010_url, clock)


def test_an_old_project_row_that_left_its_last_state_is_found(
    v010_url: str, clock: Callable[[], datetime]
) -> None:
    schema.upgrade(v010_url)
    _update(v010_url, project_t.update().where(project_t.c.id == 1).values(state="accepted"))
    assert ("project", "project:1", 16) in _problems(v010_url, clock)


def test_a_new_entry_rehashed_with_the_old_formula_is_found(
    v010_url: str, clock: Callable[[], datetime]
) -> None:
    """Downgrading a project's newest entry to v0.1.0's formula (whose entries vouch for no data
    digest) to alter its data unseen: an old-format entry cannot follow a new one."""
    schema.upgrade(v010_url)
    wf = Workflow.open(v010_url, clock=clock)
    wf.fire(2, "pay", actor=CLERK, at=AFTER, tranche=1, amount="86400.00", on="2026-11-25")
    wf.fire(2, "record_training", actor=CLERK, at=AFTER, **trained("2026-11-25", attendees=1))
    wf.fire(
        2,
        "dispatch_staff",
        actor=CLERK,
        at=AFTER,
        on="2026-11-25",
        staff=[{"name": "王芳", "education": "本科", "computer_literate": True}],
    )
    wf.close()
    last = _entry(v010_url, "project:2", 11)
    rehashed = entry_hash_v1(
        stream=last.stream,
        seq=last.seq,
        at=last.at,
        actor_id=last.actor_id,
        role=last.role,
        org=last.org,
        event=last.event,
        from_state=last.from_state,
        to_state=last.to_state,
        data=last.data,
        prev_hash=last.prev_hash,
    )
    _update(
        v010_url,
        audit_t.update()
        .where(audit_t.c.id == last.id)
        .values(hash_format=1, hash=rehashed, version=None, digest=None),
    )
    _update(v010_url, project_t.update().where(project_t.c.id == 2).values(audit_head=rehashed))
    assert ("content", "project:2", 11) in _problems(v010_url, clock)
