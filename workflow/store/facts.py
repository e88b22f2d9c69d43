"""Project facts (``gpw_project_fact``): what the overview reads of each project, kept by the
events that change it (issue #10), in the caller's transaction. R18: the purchaser, the year, the
budget and the assistance funds the plan states; R19: the first day each milestone was reached and
the timeline facts of :mod:`states.timeline`.

Statements are built once (bind parameters only), like the other lists'.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, false, func, or_, select, true

from workflow.store.lists import ScopeShape, Seen
from workflow.tables import fact_t, party_t, project_t

f = fact_t
#: milestone (``states.policy.Milestone`` value) → its column
MILESTONE_COLUMNS = {
    "created": "created_on",
    "notice_published": "notice_on",
    "contract_signed": "signed_on",
    "first_payment": "paid_on",
    "staff_dispatched": "dispatched_on",
}
_LOAD = select(f).where(f.c.project_id == bindparam("b_id"))
_OTHER_BUDGETS = select(func.coalesce(func.sum(f.c.budget_cents), 0)).where(
    f.c.purchaser == bindparam("b_purchaser"),
    f.c.year == bindparam("b_year"),
    f.c.counted == true(),
    f.c.project_id != bindparam("b_id"),
)


def _visible(shape: ScopeShape) -> ColumnElement[bool]:
    """The fact rows a reader's scope opens (``Seen``'s parameters): every one; those one of its
    organisations is a party to (a hashed subquery over the party rows); those of its purchasers,
    read from the fact row itself, which keeps the purchaser. Checked row by row, cheaply, as an
    ordered index is walked (a per-row probe of the party rows is what made a county's list slow
    on PostgreSQL)."""
    everything, orgs, purchasers = shape
    if everything:
        return true()
    parts: list[ColumnElement[bool]] = []
    if orgs:
        named = select(party_t.c.project_id).where(
            party_t.c.org.in_(bindparam("s_orgs", expanding=True))
        )
        parts.append(f.c.project_id.in_(named))
    if purchasers:
        parts.append(f.c.purchaser.in_(bindparam("s_purchasers", expanding=True)))
    return or_(*parts) if parts else false()


def cents(value: Decimal | None) -> int | None:
    return None if value is None else int(value * 100)


def yuan(value: int | None) -> Decimal | None:
    return None if value is None else (Decimal(value) / 100).quantize(Decimal("0.01"))


def load(conn: Connection, project_id: int) -> Any:
    return conn.execute(_LOAD, {"b_id": project_id}).first()


def milestones_of(row: Any) -> dict[str, date]:
    """The milestones a fact row records, by ``Milestone`` value."""
    out: dict[str, date] = {}
    if row is None:
        return out
    for milestone, column in MILESTONE_COLUMNS.items():
        value = getattr(row, column)
        if value is not None:
            out[milestone] = value
    return out


def write(conn: Connection, project_id: int, values: Mapping[str, Any], *, exists: bool) -> None:
    """Insert the project's fact row, or update it."""
    if exists:
        conn.execute(f.update().where(f.c.project_id == project_id).values(**values))
    else:
        conn.execute(f.insert().values(project_id=project_id, **values))


def other_budgets(conn: Connection, *, purchaser: str, year: int, project_id: int) -> Decimal:
    """R18: the budgets of the purchaser's other plans of ``year`` that count (submitted or
    approved, not terminated)."""
    total = conn.execute(
        _OTHER_BUDGETS, {"b_purchaser": purchaser, "b_year": year, "b_id": project_id}
    ).scalar_one()
    return yuan(int(total)) or Decimal("0.00")


_SHARES: dict[ScopeShape, Any] = {}


def shares(conn: Connection, seen: Seen, year: int) -> list[Any]:
    """R18: per purchaser, over its plans of ``year`` that count and state their funds: how many,
    their budgets' sum, the least and the most funds stated (fen), within the reader's scope."""
    shape = seen.shape()
    query = _SHARES.get(shape)
    if query is None:
        query = _SHARES[shape] = (
            select(
                f.c.purchaser,
                func.count().label("plans"),
                func.sum(f.c.budget_cents).label("budget_cents"),
                func.min(f.c.funds_cents).label("funds_min"),
                func.max(f.c.funds_cents).label("funds_max"),
            )
            .where(
                f.c.year == bindparam("b_year"),
                f.c.counted == true(),
                f.c.funds_cents.is_not(None),
                _visible(shape),
            )
            .group_by(f.c.purchaser)
            .order_by(f.c.purchaser)
        )
    return list(conn.execute(query, {"b_year": year, **seen.params()}))


_SLIP_COLUMNS = (
    f.c.project_id,
    f.c.purchaser,
    f.c.state,
    f.c.done_slip,
    f.c.done_step,
    f.c.plan_to,
    f.c.open_step,
)
_BY_DONE: dict[ScopeShape, Any] = {}
_BY_OPEN: dict[ScopeShape, Any] = {}


def _slip_query(shape: ScopeShape, by_done: bool) -> Any:
    cache = _BY_DONE if by_done else _BY_OPEN
    query = cache.get(shape)
    if query is None:
        # the fact rows alone (an index on ``active`` and the order): titles are read for the
        # rows shown only
        base = select(*_SLIP_COLUMNS)
        if by_done:
            query = base.where(
                and_(f.c.active == true(), f.c.done_slip > 0),
                _visible(shape),
            ).order_by(f.c.done_slip.desc(), f.c.project_id)
        else:
            query = base.where(
                and_(f.c.active == true(), f.c.plan_to < bindparam("b_today")),
                _visible(shape),
            ).order_by(f.c.plan_to, f.c.project_id)
        query = cache[shape] = query.limit(bindparam("b_limit"))
    return query


def slip_candidates(conn: Connection, seen: Seen, today: date, limit: int) -> list[Any]:
    """R19: the active projects that may slip most on ``today``: the first ``limit`` by the slip
    of a step done late, and the first ``limit`` by the earliest window past of a step not
    reached (each project once). The ``limit`` slipping most are among them."""
    shape = seen.shape()
    params = {"b_limit": limit, "b_today": today, **seen.params()}
    found: dict[int, Any] = {}
    for by_done in (True, False):
        for row in conn.execute(_slip_query(shape, by_done), params):
            found.setdefault(row.project_id, row)
    return list(found.values())


_TITLES = select(project_t.c.id, project_t.c.title).where(
    project_t.c.id.in_(bindparam("b_ids", expanding=True))
)


def titles(conn: Connection, ids: list[int]) -> dict[int, str]:
    """The titles of the projects ``ids``."""
    if not ids:
        return {}
    return {r.id: r.title for r in conn.execute(_TITLES, {"b_ids": ids})}
