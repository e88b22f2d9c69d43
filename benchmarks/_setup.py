"""Shared set-up for the benchmarks: one project made through the facade, then cheap copies."""

from __future__ import annotations

import os
import platform
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text

from workflow import Workflow
from workflow.demo import register_contractor, walk_to_contracted

TZ = ZoneInfo("Asia/Shanghai")
PROJECT_COLS = (
    "title, purchaser, policy, state, contractor_id, version, data, audit_seq, "
    "audit_head, created_at, updated_at"
)


def machine() -> str:
    """The machine a run was on, for the record: date, cores, Python, load average (other work
    on the machine moves every number here, the baselines' too)."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{date.today()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"load average {load}"
    )


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=10, tzinfo=TZ)


def contracted_project(wf: Workflow) -> int:
    """A project signed 2025-09-26 (dispatch and payment_1 due 2025-10-23)."""
    cid = register_contractor(wf, at("2025-07-01"))
    return walk_to_contracted(
        wf,
        contractor_id=cid,
        title="入户核查员服务",
        signed_on="2025-09-26",
        price="900000.00",
        when=at("2025-09-26"),
    )


def clone(
    engine: Engine, *, projects: int, deadlines_per_project: int, due: int, template: int = 1
) -> None:
    """Copy the template project ``projects`` times and give the copies deadline rows: ``due``
    of them due now (the template's dispatch row, whose reminder time has passed), the rest
    with their next stage years away. Plain SQL that runs on SQLite and PostgreSQL alike."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :k) "
                f"INSERT INTO gpw_project ({PROJECT_COLS}) SELECT {PROJECT_COLS} "
                "FROM gpw_project, n WHERE gpw_project.id = :t"
            ),
            {"k": projects, "t": template},
        )
        conn.execute(
            text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :k) "
                "INSERT INTO gpw_deadline (project_id, key, kind, owner, rule, due, due_at, "
                "provisional, status, met_on, late, version, stage_index, next_stage, next_fire_at,"
                " moved_from, updated_at) "
                "SELECT p.id, 'bench#' || n.i, d.kind, d.owner, d.rule, d.due, d.due_at, "
                "d.provisional, d.status, NULL, FALSE, 1, -1, d.next_stage, "
                "CASE WHEN (p.id * :k + n.i) % :every = 0 THEN d.next_fire_at "
                "ELSE '2099-01-01 00:00:00.000000' END, NULL, d.updated_at "
                "FROM gpw_project p, n, gpw_deadline d "
                "WHERE p.id != :t AND d.project_id = :t AND d.key = 'dispatch'"
            ),
            {
                "k": deadlines_per_project,
                "t": template,
                "every": max(1, projects * deadlines_per_project // due),
            },
        )
        conn.execute(text("ANALYZE"))
