"""The dashboard's reads at 100k projects and 1M deadlines, against the bare SQL that feeds them.

Run: .venv/bin/python benchmarks/bench_dashboard.py [--backend sqlite|postgresql|both]
     [--projects 100000] [--rounds 7]   (goal: ours / bare ≤ 3× for each read; default: both)

The database: one project made through the facade (contracted 2025-09-26), then copies by SQL
(plain ``INSERT … SELECT``, one statement a table): 100,000 projects over 60 purchasers in 20
counties (``县7单位27``), 200 registered contractors, twelve states, 997 titles; ten deadlines a
project (1,000,000), 30 % open (a tenth of those overdue on the day seen, 2026-06-15, reaching
escalation stages; those due in 2027 provisional), 60 % met, 10 % cancelled; the party rows
(purchaser, contractor, the county's government, finance and audit bureaus, the leader).

What is timed, each as ``Workflow.lists`` serves it and as the bare SQLAlchemy Core statements
that bring the same rows (built once before the clock starts, with the same parameters, rows
fetched and nothing else done with them):

* ``list_projects``: the first page (50, newest first); a filtered page (a county's supervisor:
  in service, overdue, by title); one contractor's projects; a deep page (cursor after 50,000
  rows);
* ``deadlines``: the overdue ones, first page;
* ``overview``: an admin's (every project) and a county supervisor's (a purchaser-name prefix).

The bare side of ``overview`` runs its statements (the calendar's revision, the purchasers a
name prefix opens, projects by state, the league by organisation (counted per project, with
the projects overdue and provisional), its overdue deadlines by organisation and due day, due
soon and its count, failing notices and their count, and the four reads of ``health``); ours
adds what the service does around them: checks, binding the statements, the working days late
of each due day (weighing the organisations' overdue counts) and of each row shown, sorting the
league, the read models. Rounds alternate the two sides; medians are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _setup import contracted_project, machine
from sqlalchemy import Engine, select, text

from states.deadlines import business_date
from workflow import Workflow
from workflow.services import lists as service
from workflow.services.scope import Scope
from workflow.store import lists as store
from workflow.store import outbox
from workflow.store.calendar import revision
from workflow.tables import project_t

TZ = ZoneInfo("Asia/Shanghai")
#: the day the dashboard is looked at
NOW = datetime(2026, 6, 15, 10, tzinfo=TZ)
STATES = (
    "draft",
    "pending_approval",
    "approved",
    "procuring",
    "awarded",
    "contracted",
    "in_service",
    "in_service",
    "in_service",
    "rectifying",
    "accepted",
    "closed",
)
KINDS = (
    "contract_end",
    "dispatch",
    "payment_1",
    "payment_2",
    "payment_3",
    "evaluation",
    "rectification",
)
CONTRACTORS = 200


def _case(expr: str, values: tuple[str, ...]) -> str:
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE {expr} % {len(values)} {whens} END"


def _sql(dialect: str) -> dict[str, str]:
    """Date arithmetic, the one thing the two databases spell differently."""
    if dialect == "sqlite":
        return {
            "created": "datetime('2025-01-01', '+' || (n.i % 500) || ' days', "
            "'+' || (n.i % 86400) || ' seconds') || '.000000'",
            "updated": "datetime('2025-01-01', '+' || (n.i % 500 + n.i % 97) || ' days', "
            "'+' || (n.i % 86400) || ' seconds') || '.000000'",
            "due": "date('2026-06-15', x.days || ' days')",
            # the end of the due day, Asia/Shanghai: 16:00 UTC, as SQLAlchemy writes it
            "due_at": "date('2026-06-15', x.days || ' days') || ' 16:00:00.000000'",
        }
    return {
        "created": "TIMESTAMPTZ '2025-01-01 00:00:00+00' + (n.i % 500) * INTERVAL '1 day' "
        "+ (n.i % 86400) * INTERVAL '1 second'",
        "updated": "TIMESTAMPTZ '2025-01-01 00:00:00+00' + (n.i % 500 + n.i % 97) "
        "* INTERVAL '1 day' + (n.i % 86400) * INTERVAL '1 second'",
        "due": "DATE '2026-06-15' + x.days",
        "due_at": "(DATE '2026-06-15' + x.days + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'",
    }


def build(engine: Engine, projects: int) -> None:
    """Copies of project 1 and contractor 1, their deadlines and party rows (see the module
    docstring)."""
    sql = _sql(engine.dialect.name)
    counter = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :k) "
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # the copies take longer than gpw's default
            conn.execute(text("SET LOCAL statement_timeout = 0"))
        conn.execute(
            text(
                counter + "INSERT INTO gpw_contractor (name, org_type, sme, data, version, "
                "created_at) SELECT '社工机构' || n.i, c.org_type, c.sme, c.data, 1, c.created_at "
                "FROM gpw_contractor c, n WHERE c.id = 1"
            ),
            {"k": CONTRACTORS - 1},
        )
        conn.execute(
            text(
                counter + "INSERT INTO gpw_project (title, purchaser, policy, state, "
                "contractor_id, version, data, audit_seq, audit_head, created_at, updated_at) "
                "SELECT '社会救助服务项目' || (n.i % 997), "
                "'县' || (n.i % 20) || '单位' || (n.i % 60), t.policy, "
                f"{_case('n.i', STATES)}, "
                f"CASE WHEN n.i % 12 >= 4 THEN 1 + n.i % {CONTRACTORS} END, "
                f"t.version, t.data, t.audit_seq, t.audit_head, {sql['created']}, "
                f"{sql['updated']} FROM gpw_project t, n WHERE t.id = 1"
            ),
            {"k": projects - 1},
        )
        conn.execute(
            text(
                "WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < 10) "
                "INSERT INTO gpw_deadline (project_id, key, kind, owner, rule, due, due_at, "
                "provisional, status, met_on, late, version, stage_index, next_stage, "
                "next_fire_at, moved_from, updated_at) "
                f"SELECT x.pid, 'bench#' || x.j, {_case('x.j', KINDS)}, 'purchaser', 'R7', "
                f"{sql['due']}, {sql['due_at']}, "
                "CASE WHEN x.s < 3 AND x.days >= 200 THEN TRUE ELSE FALSE END, "
                "CASE WHEN x.s < 3 THEN 'open' WHEN x.s < 9 THEN 'met' ELSE 'cancelled' END, "
                "NULL, FALSE, 1, CASE WHEN x.s < 3 AND x.days < -5 THEN 3 "
                "WHEN x.s < 3 AND x.days < -2 THEN 2 WHEN x.s < 3 AND x.days < 0 THEN 1 "
                "ELSE -1 END, NULL, NULL, NULL, x.up "
                "FROM (SELECT p.id AS pid, p.updated_at AS up, k.j AS j, (p.id + k.j) % 10 AS s, "
                "CASE WHEN (p.id + k.j) % 10 < 3 THEN (p.id * 13 + k.j * 37) % 400 - 40 "
                "ELSE -1 - (p.id * 7 + k.j * 11) % 365 END AS days "
                "FROM gpw_project p, k WHERE p.id != 1) x"
            )
        )
        county = "'县' || ((p.id - 1) % 20)"  # project i + 1 is copy i
        conn.execute(
            text(
                "INSERT INTO gpw_project_party (project_id, relation, org) "
                "SELECT p.id, 'purchaser', p.purchaser FROM gpw_project p WHERE p.id != 1 "
                "UNION ALL SELECT p.id, 'leader', p.purchaser FROM gpw_project p WHERE p.id != 1 "
                "UNION ALL SELECT p.id, 'contractor', c.name FROM gpw_project p "
                "JOIN gpw_contractor c ON c.id = p.contractor_id WHERE p.id != 1 "
                + " ".join(
                    f"UNION ALL SELECT p.id, '{relation}', {county} || '{body}' "
                    "FROM gpw_project p WHERE p.id != 1"
                    for relation, body in (
                        ("government", "人民政府"),
                        ("finance", "财政局"),
                        ("audit", "审计局"),
                    )
                )
            )
        )
    # the statistics, and on PostgreSQL the visibility map a running database's autovacuum keeps
    # (index-only scans need it): what a database that has run a while has
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET statement_timeout = 0"))
        conn.execute(text("ANALYZE" if engine.dialect.name == "sqlite" else "VACUUM ANALYZE"))


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'dashboard.db'}"
    else:
        import pg

        with pg.running() as server:
            yield server.url(server.create_database())


# -- the bare side --------------------------------------------------------------------------------


def resolved(wf: Workflow, scope: Scope) -> tuple[store.Seen, Callable[[Any], Any]]:
    """The scope as the database answers it, and the read that answers it (the purchasers
    whose name starts with a prefix), to run on the bare side too."""
    query = store.resolve_query(scope)
    with wf.engine.connect() as conn:
        seen = store.resolve(conn, scope)

    def read(conn: Any) -> Any:
        return None if query is None else conn.execute(*query).all()

    return seen, read


def bare_project_page(wf: Workflow, scope: Scope, **kwargs: Any) -> Callable[[], Any]:
    """The statements a project page runs (the page, its deadlines' counts, the calendar's
    revision when a row is late), built once."""
    sort = kwargs.pop("sort", "-updated")
    after = kwargs.pop("after", None)
    seen, read_scope = resolved(wf, scope)
    page, page_params = store.project_page_query(
        seen,
        store.ProjectFilters(**kwargs),
        now=NOW,
        sort=sort.lstrip("-"),
        descending=sort.startswith("-"),
        after=after,
        limit=51,
    )
    with wf.engine.connect() as conn:
        ids = [r.id for r in conn.execute(page, page_params)][:50]
        stats, stats_params = store.deadline_stats_query(ids, NOW)
        late = any(r.worst_due_at is not None for r in conn.execute(stats, stats_params))

    def run() -> Any:
        with wf.engine.connect() as conn, conn.begin():
            read_scope(conn)
            rows = conn.execute(page, page_params).all()
            counts = conn.execute(stats, stats_params).all() if ids else []
            return rows, counts, revision(conn) if late else None

    return run


def bare_deadline_page(
    wf: Workflow, scope: Scope, status: str, limit: int = 50
) -> Callable[[], Any]:
    calendar = wf.calendar.current()
    today = business_date(NOW)
    seen, read_scope = resolved(wf, scope)
    query, params = store.deadline_page_query(
        seen,
        store.DeadlineFilters(status=status),
        now=NOW,
        due_soon_until=service._due_soon_until(today, calendar),
        escalation=wf.lists._escalation(),
        descending=False,
        after=None,
        limit=limit + 1,
    )

    def run() -> Any:
        with wf.engine.connect() as conn, conn.begin():
            return revision(conn), read_scope(conn), conn.execute(query, params).all()

    return run


def bare_overview(wf: Workflow, scope: Scope) -> Callable[[], Any]:
    """The overview's statements, built once with the day table worked out beforehand."""
    calendar = wf.calendar.current()
    today = business_date(NOW)
    escalation = wf.lists._escalation()
    until = service._due_soon_until(today, calendar)
    soon = store.DeadlineFilters(status="due_soon")
    seen, read_scope = resolved(wf, scope)
    statements = [
        store.by_state_query(seen),
        store.league_counts_query(seen, now=NOW, escalation=escalation),
        store.league_late_query(seen, now=NOW),
        store.deadline_page_query(
            seen,
            soon,
            now=NOW,
            due_soon_until=until,
            escalation=escalation,
            descending=False,
            after=None,
            limit=service.DUE_SOON_SHOWN + 1,
        ),
        store.count_deadlines_query(
            seen, soon, now=NOW, due_soon_until=until, escalation=escalation
        ),
        store.notice_page_query(
            seen,
            statuses=service.FAILING,
            project_id=None,
            before=None,
            limit=service.NOTICES_SHOWN,
        ),
        store.count_notices_query(seen, service.FAILING),
    ]

    def run() -> Any:
        with wf.engine.connect() as conn, conn.begin():
            revision(conn)
            read_scope(conn)
            out = [conn.execute(s, params).all() for s, params in statements]
            out.append(
                (
                    outbox.oldest_due_stage(conn, NOW),
                    outbox.count_by_status(conn),
                    outbox.oldest_undelivered(conn),
                    outbox.meta(conn),
                )
            )
            return out

    return run


# -- timing ---------------------------------------------------------------------------------------


def median_pair(
    ours: Callable[[], Any], bare: Callable[[], Any], rounds: int
) -> tuple[float, float]:
    ours(), bare()  # warm: caches, compiled statements, the calendar
    a: list[float] = []
    b: list[float] = []
    for r in range(rounds):
        for side, times in ((ours, a), (bare, b))[:: 1 if r % 2 == 0 else -1]:
            t0 = time.perf_counter()
            side()
            times.append(time.perf_counter() - t0)
    return statistics.median(a), statistics.median(b)


def run_backend(backend: str, projects: int, rounds: int) -> None:
    with database(backend) as url:
        t0 = time.perf_counter()
        wf = Workflow.open(url, clock=lambda: NOW)
        contracted_project(wf)
        build(wf.engine, projects)
        built = time.perf_counter() - t0
        with wf.engine.connect() as conn:
            counts = {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("gpw_project", "gpw_deadline", "gpw_project_party")
            }
            open_, overdue = conn.execute(
                text(
                    "SELECT count(*), sum(CASE WHEN due_at <= :now THEN 1 ELSE 0 END) "
                    "FROM gpw_deadline WHERE status = 'open'"
                ).bindparams(now=NOW),
            ).one()
            # the row 50,000 deep (half the projects if fewer), newest first: the cursor a deep
            # page starts after
            depth = min(50_000, projects // 2)
            deep = conn.execute(
                select(project_t.c.updated_at, project_t.c.id)
                .order_by(project_t.c.updated_at.desc(), project_t.c.id.desc())
                .offset(depth - 1)
                .limit(1)
            ).one()
        name = "SQLite file (WAL)" if backend == "sqlite" else "PostgreSQL (loopback)"
        print(
            f"[{name}] {counts['gpw_project']:,} projects, {counts['gpw_deadline']:,} deadlines "
            f"({open_:,} open, {overdue:,} overdue), {counts['gpw_project_party']:,} party rows; "
            f"built in {built:.0f} s; medians of {rounds * 4 + 1} rounds (pages), "
            f"{rounds} (overviews)"
        )
        admin = Scope.all()
        county = Scope.of("supervisor", "自治区民政厅", ["县7单位"])
        one_contractor = Scope.of("contractor", "社工机构17")
        deep_cursor = service.encode_cursor("projects:-updated", deep.updated_at, deep.id)
        lists = wf.lists
        cases: list[tuple[str, Callable[[], Any], Callable[[], Any]]] = [
            (
                "list_projects: first page (admin, newest first)",
                lambda: lists.list_projects(admin, now=NOW),
                bare_project_page(wf, admin),
            ),
            (
                "list_projects: county supervisor, in_service, overdue, by title",
                lambda: lists.list_projects(
                    county, state="in_service", overdue=True, sort="title", now=NOW
                ),
                bare_project_page(wf, county, state="in_service", overdue=True, sort="title"),
            ),
            (
                "list_projects: one contractor's projects",
                lambda: lists.list_projects(one_contractor, now=NOW),
                bare_project_page(wf, one_contractor),
            ),
            (
                f"list_projects: {depth:,} rows deep (cursor)",
                lambda: lists.list_projects(admin, cursor=deep_cursor, now=NOW),
                bare_project_page(wf, admin, after=(deep.updated_at, deep.id)),
            ),
            (
                "deadlines: overdue, first page (admin)",
                lambda: lists.deadlines(admin, status="overdue", now=NOW),
                bare_deadline_page(wf, admin, "overdue"),
            ),
            (
                "overview (admin: every project)",
                lambda: lists.overview(admin, now=NOW),
                bare_overview(wf, admin),
            ),
            (
                "overview (county supervisor: a name prefix)",
                lambda: lists.overview(county, now=NOW),
                bare_overview(wf, county),
            ),
        ]
        for label, ours, bare in cases:
            # a page takes a millisecond or two: more rounds steady its median
            a, b = median_pair(ours, bare, rounds if "overview" in label else rounds * 4 + 1)
            print(
                f"  {label:<66} ours {a * 1e3:8.2f} ms   bare SQL {b * 1e3:8.2f} ms   {a / b:5.2f}×"
            )
        print("  (goal: ours / bare ≤ 3× for each)")
        wf.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--projects", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(machine())
    for backend in ("sqlite", "postgresql") if args.backend == "both" else (args.backend,):
        run_backend(backend, args.projects, args.rounds)


if __name__ == "__main__":
    main()
