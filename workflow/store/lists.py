"""The SQL of the dashboard's lists (issue #8, R15 全程监督): projects, deadlines and notices as a
reader's scope lets them be seen, a page at a time, and the overview's counts.

Everything a list filters, sorts or counts is done by the database: the reader's scope, the
filters, the keyset (the last row's sort value and id: ``(value, id) < (:value, :id)``, which the
``(sort key, id)`` indexes answer without counting skipped rows), the counts by state and by
organisation, and the working days late summed over overdue deadlines (from a small table of
"working days late if due on day D", one row a day, that the caller works out on the working-day
calendar). Python sees a page of rows, or one row per state or organisation.

Rows in, rows out; nothing here begins, commits or rolls back. The scope arrives as anything
with ``everything``, ``orgs`` and ``prefixes`` (``workflow.services.scope.Scope``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Integer,
    and_,
    bindparam,
    case,
    column,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    tuple_,
    values,
)

from workflow.store.parties import CONTRACTOR, PURCHASER
from workflow.tables import contractor_t, deadline_t, notice_t, party_t, project_t

p, d, c, pp, n = project_t, deadline_t, contractor_t, party_t, notice_t

#: the project list's sort keys and their columns (each with the id that breaks ties)
PROJECT_SORTS: Mapping[str, Any] = {
    "updated": p.c.updated_at,
    "created": p.c.created_at,
    "title": p.c.title,
    "state": p.c.state,
    "id": p.c.id,
}
#: a stage index no ladder reaches: "never escalated"
NEVER = 1_000_000
#: the relations the overview's league ranks
LEAGUE_RELATIONS = (PURCHASER, CONTRACTOR)


class Visible(Protocol):
    """What a reader may see (``workflow.services.scope.Scope``)."""

    @property
    def everything(self) -> bool: ...

    @property
    def orgs(self) -> frozenset[str]: ...

    @property
    def prefixes(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class Escalation:
    """From which stage index a deadline's ladder has reached an escalation, by policy:
    ``default`` for every policy not in ``by_policy`` (:data:`NEVER`: no escalation stage)."""

    default: int
    by_policy: Mapping[str, int]

    def reached(self, policy_column: Any) -> ColumnElement[bool]:
        """Open, not a ``contract_end`` (its one stage is a reminder), and past the threshold."""
        threshold: Any = literal(self.default)
        if self.by_policy:
            threshold = case(
                *((policy_column == name, idx) for name, idx in sorted(self.by_policy.items())),
                else_=self.default,
            )
        return and_(d.c.status == "open", d.c.kind != "contract_end", d.c.stage_index >= threshold)

    @property
    def needs_project(self) -> bool:
        return bool(self.by_policy)


# -- scope and filters ----------------------------------------------------------------------------


def visible(scope: Visible, project_id: Any, purchaser: Any) -> ColumnElement[bool]:
    """The projects ``scope`` opens, as a condition on a project id and purchaser column: every
    one; those one of its organisations is a party to (purchaser, awarded contractor, a
    supervising body); those whose purchaser's name starts with one of its prefixes."""
    if scope.everything:
        return true()
    parts: list[ColumnElement[bool]] = []
    if scope.orgs:
        parts.append(
            project_id.in_(select(pp.c.project_id).where(pp.c.org.in_(sorted(scope.orgs))))
        )
    # substr, not LIKE: exact and case-sensitive on both databases, no wildcard to escape
    parts.extend(
        func.substr(purchaser, 1, len(prefix)) == prefix for prefix in scope.prefixes if prefix
    )
    return or_(*parts) if parts else false()


def party_of(project_id: Any, org: str, relation: str | None) -> ColumnElement[bool]:
    """Projects ``org`` is a party to (in ``relation``, or in any)."""
    query = select(pp.c.project_id).where(pp.c.org == org)
    if relation is not None:
        query = query.where(pp.c.relation == relation)
    found: ColumnElement[bool] = project_id.in_(query)
    return found


def _open_deadline(*conditions: ColumnElement[bool]) -> Any:
    return (
        select(literal(1))
        .where(d.c.project_id == p.c.id, d.c.status == "open", *conditions)
        .exists()
    )


@dataclass(frozen=True, slots=True)
class ProjectFilters:
    state: str | None = None
    org: str | None = None
    relation: str | None = None
    contractor_id: int | None = None
    policy: str | None = None
    overdue: bool | None = None
    provisional: bool | None = None
    q: str | None = None


def _project_conditions(
    scope: Visible, f: ProjectFilters, now: datetime
) -> list[ColumnElement[bool]]:
    where = [visible(scope, p.c.id, p.c.purchaser)]
    if f.state is not None:
        where.append(p.c.state == f.state)
    if f.org is not None:
        where.append(party_of(p.c.id, f.org, f.relation))
    elif f.relation is not None:
        where.append(p.c.id.in_(select(pp.c.project_id).where(pp.c.relation == f.relation)))
    if f.contractor_id is not None:
        where.append(p.c.contractor_id == f.contractor_id)
    if f.policy is not None:
        where.append(p.c.policy == f.policy)
    if f.overdue is not None:
        late = _open_deadline(d.c.due_at <= now)
        where.append(late if f.overdue else not_(late))
    if f.provisional is not None:
        tentative = _open_deadline(d.c.provisional.is_(True))
        where.append(tentative if f.provisional else not_(tentative))
    if f.q:
        # ASCII letters in either case (SQLite's LIKE and lower() know no others)
        where.append(p.c.title.icontains(f.q, autoescape=True))
    return where


def _after(
    key: Any, id_column: Any, after: tuple[Any, int] | None, descending: bool
) -> list[ColumnElement[bool]]:
    """The keyset: rows strictly after the last one shown, in the list's order."""
    if after is None:
        return []
    value, last_id = after
    if key is id_column:
        return [id_column < last_id if descending else id_column > last_id]
    pair = tuple_(key, id_column)
    bound = tuple_(bindparam(None, value, type_=key.type), bindparam(None, last_id, Integer()))
    return [pair < bound if descending else pair > bound]


def _order(key: Any, id_column: Any, descending: bool) -> list[Any]:
    if key is id_column:
        return [id_column.desc() if descending else id_column.asc()]
    if descending:
        return [key.desc(), id_column.desc()]
    return [key.asc(), id_column.asc()]


# -- projects -------------------------------------------------------------------------------------


_SUMMARY = (
    p.c.id,
    p.c.title,
    p.c.purchaser,
    p.c.policy,
    p.c.state,
    p.c.version,
    p.c.contractor_id,
    c.c.name.label("contractor"),
    p.c.created_at,
    p.c.updated_at,
)


def project_page_query(
    scope: Visible,
    filters: ProjectFilters,
    *,
    now: datetime,
    sort: str,
    descending: bool,
    after: tuple[Any, int] | None,
    limit: int,
) -> Any:
    """The statement of a page of projects (``limit`` rows: ask one more to know if another
    page follows)."""
    key = PROJECT_SORTS[sort]
    return (
        select(*_SUMMARY)
        .select_from(p.outerjoin(c, c.c.id == p.c.contractor_id))
        .where(*_project_conditions(scope, filters, now), *_after(key, p.c.id, after, descending))
        .order_by(*_order(key, p.c.id, descending))
        .limit(limit)
    )


def project_page(conn: Connection, **kwargs: Any) -> list[Any]:
    return list(conn.execute(project_page_query(**kwargs)))


def deadline_stats_query(project_ids: Sequence[int], now: datetime) -> Any:
    """Per project: open deadlines, how many are overdue, the earliest overdue due day (the
    worst), and whether one is provisional."""
    overdue = d.c.due_at <= now
    return (
        select(
            d.c.project_id,
            func.count().label("open"),
            func.sum(case((overdue, 1), else_=0)).label("overdue"),
            func.min(case((overdue, d.c.due))).label("worst_due"),
            func.max(case((d.c.provisional.is_(True), 1), else_=0)).label("provisional"),
        )
        .where(d.c.project_id.in_(list(project_ids)), d.c.status == "open")
        .group_by(d.c.project_id)
    )


def deadline_stats(conn: Connection, project_ids: Sequence[int], now: datetime) -> dict[int, Any]:
    if not project_ids:
        return {}
    return {r.project_id: r for r in conn.execute(deadline_stats_query(project_ids, now))}


def by_state_query(scope: Visible) -> Any:
    return (
        select(p.c.state, func.count().label("n"))
        .where(visible(scope, p.c.id, p.c.purchaser))
        .group_by(p.c.state)
    )


def count_by_state(conn: Connection, scope: Visible) -> dict[str, int]:
    return {r.state: int(r.n) for r in conn.execute(by_state_query(scope))}


def flagged_projects_query(scope: Visible, now: datetime) -> Any:
    """How many projects have an open overdue deadline, and how many an open provisional one."""
    source: Any = d
    where: list[ColumnElement[bool]] = [d.c.status == "open"]
    if not scope.everything:
        source = d.join(p, p.c.id == d.c.project_id)
        where.append(visible(scope, p.c.id, p.c.purchaser))
    return (
        select(
            func.count(func.distinct(case((d.c.due_at <= now, d.c.project_id)))).label("overdue"),
            func.count(func.distinct(case((d.c.provisional.is_(True), d.c.project_id)))).label(
                "provisional"
            ),
        )
        .select_from(source)
        .where(*where)
    )


def count_flagged_projects(conn: Connection, scope: Visible, now: datetime) -> dict[str, int]:
    row = conn.execute(flagged_projects_query(scope, now)).one()
    return {"overdue": int(row.overdue), "provisional": int(row.provisional)}


# -- deadlines ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeadlineFilters:
    #: open, overdue, due_soon, met, cancelled, escalated, all
    status: str = "open"
    org: str | None = None
    relation: str | None = None
    kind: str | None = None
    project_id: int | None = None


def _deadline_conditions(
    scope: Visible,
    f: DeadlineFilters,
    *,
    now: datetime,
    due_soon_until: datetime,
    escalation: Escalation,
) -> list[ColumnElement[bool]]:
    where = [visible(scope, p.c.id, p.c.purchaser)]
    status = f.status
    if status in ("open", "overdue", "due_soon"):
        where.append(d.c.status == "open")
    if status == "overdue":
        where.append(d.c.due_at <= now)
    elif status == "due_soon":
        where.extend((d.c.due_at > now, d.c.due_at <= due_soon_until))
    elif status in ("met", "cancelled"):
        where.append(d.c.status == status)
    elif status == "escalated":
        where.append(escalation.reached(p.c.policy))
    if f.org is not None:
        where.append(party_of(d.c.project_id, f.org, f.relation))
    elif f.relation is not None:
        where.append(d.c.project_id.in_(select(pp.c.project_id).where(pp.c.relation == f.relation)))
    if f.kind is not None:
        where.append(d.c.kind == f.kind)
    if f.project_id is not None:
        where.append(d.c.project_id == f.project_id)
    return where


_DEADLINE = (
    d.c.id,
    d.c.project_id,
    d.c.key,
    d.c.kind,
    d.c.owner,
    d.c.rule,
    d.c.due,
    d.c.due_at,
    d.c.provisional,
    d.c.status,
    d.c.met_on,
    d.c.late,
    d.c.stage_index,
    p.c.title,
    p.c.purchaser,
    p.c.policy,
    c.c.name.label("contractor"),
)
_DEADLINE_FROM = d.join(p, p.c.id == d.c.project_id).outerjoin(c, c.c.id == p.c.contractor_id)


def deadline_page_query(
    scope: Visible,
    filters: DeadlineFilters,
    *,
    now: datetime,
    due_soon_until: datetime,
    escalation: Escalation,
    descending: bool,
    after: tuple[Any, int] | None,
    limit: int,
) -> Any:
    """A page of deadlines in due order (``due_at`` orders as ``due`` does: the end of the due
    day), ties by id."""
    where = _deadline_conditions(
        scope, filters, now=now, due_soon_until=due_soon_until, escalation=escalation
    )
    return (
        select(*_DEADLINE)
        .select_from(_DEADLINE_FROM)
        .where(*where, *_after(d.c.due_at, d.c.id, after, descending))
        .order_by(*_order(d.c.due_at, d.c.id, descending))
        .limit(limit)
    )


def deadline_page(conn: Connection, **kwargs: Any) -> list[Any]:
    return list(conn.execute(deadline_page_query(**kwargs)))


def count_deadlines_query(
    scope: Visible,
    filters: DeadlineFilters,
    *,
    now: datetime,
    due_soon_until: datetime,
    escalation: Escalation,
) -> Any:
    where = _deadline_conditions(
        scope, filters, now=now, due_soon_until=due_soon_until, escalation=escalation
    )
    return select(func.count()).select_from(d.join(p, p.c.id == d.c.project_id)).where(*where)


def count_deadlines(conn: Connection, **kwargs: Any) -> int:
    return int(conn.execute(count_deadlines_query(**kwargs)).scalar_one())


def oldest_overdue(conn: Connection, now: datetime) -> datetime | None:
    """The earliest ``due_at`` of an open overdue deadline, anyone's (one index probe)."""
    found: datetime | None = conn.execute(
        select(func.min(d.c.due_at)).where(d.c.status == "open", d.c.due_at <= now)
    ).scalar()
    return found


def overdue_due_days(conn: Connection, now: datetime) -> list[date]:
    """Every due day of an open overdue deadline (when they span too many days for a range)."""
    return list(
        conn.execute(
            select(d.c.due).where(d.c.status == "open", d.c.due_at <= now).distinct()
        ).scalars()
    )


def league_query(
    scope: Visible,
    *,
    now: datetime,
    late: Sequence[tuple[date, int]],
    escalation: Escalation,
) -> Any:
    """Per organisation and relation (purchaser, contractor): open deadlines, overdue ones,
    escalated ones, and the sum and the largest of the overdue ones' working days late.

    ``late``: (due day, working days late today) for every day an open deadline can be overdue
    on (every day before today, back to the oldest overdue due day), joined on the due day."""
    overdue = d.c.due_at <= now
    source: Any = d.join(pp, pp.c.project_id == d.c.project_id)
    needs_project = escalation.needs_project or (not scope.everything and bool(scope.prefixes))
    if needs_project:
        source = source.join(p, p.c.id == d.c.project_id)
    late_sum: Any = literal(0)
    late_max: Any = literal(0)
    if late:
        days = (
            values(column("day", Date()), column("late", Integer()), name="late_days")
            .data(list(late))
            .cte("late_days")
        )
        source = source.outerjoin(days, days.c.day == d.c.due)
        late_sum, late_max = (
            func.coalesce(func.sum(days.c.late), 0),
            func.coalesce(func.max(days.c.late), 0),
        )
    where: list[ColumnElement[bool]] = [
        d.c.status == "open",
        pp.c.relation.in_(LEAGUE_RELATIONS),
    ]
    if not scope.everything:
        where.append(visible(scope, d.c.project_id, p.c.purchaser))
    return (
        select(
            pp.c.org,
            pp.c.relation,
            func.count().label("open"),
            func.sum(case((overdue, 1), else_=0)).label("overdue"),
            func.sum(case((escalation.reached(p.c.policy), 1), else_=0)).label("escalated"),
            late_sum.label("late_sum"),
            late_max.label("late_max"),
        )
        .select_from(source)
        .where(*where)
        .group_by(pp.c.org, pp.c.relation)
    )


def league(conn: Connection, scope: Visible, **kwargs: Any) -> list[Any]:
    return list(conn.execute(league_query(scope, **kwargs)))


# -- notices --------------------------------------------------------------------------------------


_NOTICE = (
    n.c.id,
    n.c.key,
    n.c.project_id,
    n.c.deadline_key,
    n.c.deadline_kind,
    n.c.stage,
    n.c.recipients,
    n.c.subject,
    n.c.status,
    n.c.attempts,
    n.c.last_error,
    n.c.created_at,
    n.c.sent_at,
    p.c.title,
)


def _notice_conditions(
    scope: Visible, statuses: Sequence[str] | None, project_id: int | None
) -> list[ColumnElement[bool]]:
    where = [visible(scope, p.c.id, p.c.purchaser)]
    if statuses is not None:
        where.append(n.c.status.in_(list(statuses)))
    if project_id is not None:
        where.append(n.c.project_id == project_id)
    return where


def notice_page_query(
    scope: Visible,
    *,
    statuses: Sequence[str] | None,
    project_id: int | None,
    before: int | None,
    limit: int,
) -> Any:
    """Newest first (by id), after the notice ``before``."""
    where = _notice_conditions(scope, statuses, project_id)
    if before is not None:
        where.append(n.c.id < before)
    return (
        select(*_NOTICE)
        .select_from(n.join(p, p.c.id == n.c.project_id))
        .where(*where)
        .order_by(n.c.id.desc())
        .limit(limit)
    )


def notice_page(conn: Connection, scope: Visible, **kwargs: Any) -> list[Any]:
    return list(conn.execute(notice_page_query(scope, **kwargs)))


def count_notices_query(scope: Visible, statuses: Sequence[str]) -> Any:
    return (
        select(n.c.status, func.count().label("n"))
        .select_from(n.join(p, p.c.id == n.c.project_id))
        .where(*_notice_conditions(scope, statuses, None))
        .group_by(n.c.status)
    )


def count_notices(conn: Connection, scope: Visible, statuses: Sequence[str]) -> dict[str, int]:
    return {r.status: int(r.n) for r in conn.execute(count_notices_query(scope, statuses))}
