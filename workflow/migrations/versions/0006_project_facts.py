"""Project facts (issue #10): what the overview reads of each project, kept by the events that
change it (``gpw_project_fact``): the purchaser, the year the project was created, its state, its
budget and the assistance funds its plan states (R18, in fen), the first day each milestone of the
planned timeline was reached and the timeline's facts (R19: the largest slip of a step done late,
the last day of the earliest step not reached).

Existing projects get their row here, from the project's data and its audit trail (the milestones
as the project page reads them) and, for a built-in policy, the timeline's facts on the calendar
the database holds (a host's own policy file is not known to a migration: its projects' timeline
facts are filled by their next event).

Revision ID: 0006_project_facts
Revises: 0005_disclosure
Create Date: 2026-12-04
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_project_facts"
down_revision = "0005_disclosure"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
project = sa.table(
    "gpw_project",
    sa.column("id", sa.Integer()),
    sa.column("purchaser", sa.String()),
    sa.column("policy", sa.String()),
    sa.column("state", sa.String()),
    sa.column("data", _JSON),
    sa.column("created_at", sa.DateTime(timezone=True)),
)
audit = sa.table(
    "gpw_audit",
    sa.column("stream", sa.String()),
    sa.column("seq", sa.Integer()),
    sa.column("project_id", sa.Integer()),
    sa.column("event", sa.String()),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("data", _JSON),
)
calendar_year = sa.table(
    "gpw_calendar_year",
    sa.column("year", sa.Integer()),
    sa.column("data", _JSON),
    sa.column("source", sa.String()),
)
MILESTONE_EVENTS = ("create_project", "publish_notice", "sign_contract", "pay", "dispatch_staff")
COLUMNS = {
    "created": "created_on",
    "notice_published": "notice_on",
    "contract_signed": "signed_on",
    "first_payment": "paid_on",
    "staff_dispatched": "dispatched_on",
}


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _cents(value: Any) -> int | None:
    if value is None:
        return None
    try:
        return int(Decimal(str(value)) * 100)
    except ArithmeticError:
        return None


def _fill(conn: sa.Connection, fact: sa.Table) -> None:
    from states.calendar import WorkingDayCalendar, YearSchedule
    from states.enums import ProjectState
    from states.policy import BUILTIN_POLICIES, load_policy
    from states.timeline import milestones, slip_facts

    extra = [
        YearSchedule.from_dict(r.data, source=r.source)
        for r in conn.execute(sa.select(calendar_year).order_by(calendar_year.c.year))
    ]
    calendar = WorkingDayCalendar.official(extra)
    trails: dict[int, list[tuple[str, dict[str, Any], datetime]]] = {}
    query = (
        sa.select(audit.c.project_id, audit.c.event, audit.c.data, audit.c.at)
        .where(audit.c.project_id.is_not(None), audit.c.event.in_(MILESTONE_EVENTS))
        .order_by(audit.c.project_id, audit.c.seq)
    )
    for r in conn.execute(query):
        trails.setdefault(r.project_id, []).append((r.event, dict(r.data or {}), _aware(r.at)))
    final = {ProjectState.CLOSED.value, ProjectState.TERMINATED.value}
    shanghai = ZoneInfo("Asia/Shanghai")
    rows = []
    for p in conn.execute(sa.select(project).order_by(project.c.id)):
        data = p.data if isinstance(p.data, dict) else {}
        reached: dict[str, date] = milestones(trails.get(p.id, []))
        created = _aware(p.created_at).astimezone(shanghai).date()
        reached.setdefault("created", created)
        values: dict[str, Any] = {
            "project_id": p.id,
            "purchaser": p.purchaser,
            "year": created.year,
            "state": p.state,
            "active": p.state not in final,
            "counted": p.state not in ("draft", "terminated"),
            "budget_cents": _cents(data.get("budget")) or 0,
            "funds_cents": _cents(data.get("assistance_funds")),
            **{column: reached.get(m) for m, column in COLUMNS.items()},
            "done_slip": None,
            "done_step": None,
            "plan_to": None,
            "open_step": None,
        }
        if p.policy in BUILTIN_POLICIES:
            facts = slip_facts(load_policy(p.policy), calendar, reached, ended=p.state in final)
            values.update(
                done_slip=facts.done_slip,
                done_step=facts.done_step,
                plan_to=facts.plan_to,
                open_step=facts.open_step,
            )
        rows.append(values)
        if len(rows) >= 1000:
            conn.execute(fact.insert(), rows)
            rows = []
    if rows:
        conn.execute(fact.insert(), rows)


def upgrade() -> None:
    fact = op.create_table(
        "gpw_project_fact",
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("gpw_project.id"), nullable=False),
        sa.Column("purchaser", sa.String(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("budget_cents", sa.BigInteger(), nullable=False),
        sa.Column("funds_cents", sa.BigInteger(), nullable=True),
        sa.Column("created_on", sa.Date(), nullable=True),
        sa.Column("notice_on", sa.Date(), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("dispatched_on", sa.Date(), nullable=True),
        sa.Column("done_slip", sa.Integer(), nullable=True),
        sa.Column("done_step", sa.String(), nullable=True),
        sa.Column("plan_to", sa.Date(), nullable=True),
        sa.Column("open_step", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("project_id"),
    )
    op.create_index(
        "ix_gpw_project_fact_year_purchaser",
        "gpw_project_fact",
        ["year", "counted", "purchaser", "budget_cents", "funds_cents"],
    )
    op.create_index("ix_gpw_project_fact_active_slip", "gpw_project_fact", ["active", "done_slip"])
    op.create_index("ix_gpw_project_fact_active_plan_to", "gpw_project_fact", ["active", "plan_to"])
    assert fact is not None
    _fill(op.get_bind(), fact)


def downgrade() -> None:
    op.drop_index("ix_gpw_project_fact_active_plan_to", table_name="gpw_project_fact")
    op.drop_index("ix_gpw_project_fact_active_slip", table_name="gpw_project_fact")
    op.drop_index("ix_gpw_project_fact_year_purchaser", table_name="gpw_project_fact")
    op.drop_table("gpw_project_fact")
