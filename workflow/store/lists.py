"""The SQL of the dashboard's lists (issue #8, R15 全程监督): projects, deadlines and notices as a
reader's scope lets them be seen, a page at a time, and the overview's counts.

Everything a list filters, sorts or counts is done by the database: the reader's scope, the
filters, the keyset (the last row's sort value and id: ``(value, id) < (:value, :id)``, which the
``(sort key, id)`` indexes answer without counting skipped rows), the counts by state and by
organisation (per project first, from ``ix_gpw_deadline_status_project`` alone), and the overdue
deadlines per organisation and due day (the caller weighs each due day by its working days late,
on the working-day calendar). Python sees a page of rows, or a row per state, organisation, or
organisation and due day.

Each statement is built once per *shape* (which filters are given, the sort, how many prefixes a
scope has) with bind parameters, and kept: a call only binds its values. Each ``*_query``
function returns the statement and its parameters; the others run them. Rows in, rows out;
nothing here begins, commits or rolls back. The scope arrives as anything with ``everything``,
``orgs`` and ``prefixes`` (``workflow.services.scope.Scope``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    String,
    and_,
    bindparam,
    case,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    tuple_,
)

from workflow.store.parties import CONTRACTOR, PURCHASER
from workflow.tables import contractor_t, deadline_t, notice_t, party_t, project_t

p, d, c, pp, n = project_t, deadline_t, contractor_t, party_t, notice_t

#: a statement and the values of its bind parameters
Query = tuple[Any, dict[str, Any]]
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
#: statements kept per kind of list (shapes are few: flags, sorts, prefix counts)
_SHAPES = 512


def _now() -> Any:
    return bindparam("b_now", type_=d.c.due_at.type)


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
    by_policy: tuple[tuple[str, int], ...] = ()

    def threshold(self, policy: str) -> int:
        if not self.by_policy:
            return self.default
        return dict(self.by_policy).get(policy, self.default)

    def reached(self, policy_column: Any) -> ColumnElement[bool]:
        """Open, not a ``contract_end`` (its one stage is a reminder), and past the threshold."""
        threshold: Any = literal(self.default)
        if self.by_policy:
            threshold = case(
                *((policy_column == name, idx) for name, idx in self.by_policy),
                else_=self.default,
            )
        return and_(d.c.status == "open", d.c.kind != "contract_end", d.c.stage_index >= threshold)

    @property
    def needs_project(self) -> bool:
        return bool(self.by_policy)


# -- scope and filters ----------------------------------------------------------------------------


#: a scope's shape: everything; whether it names organisations; whether it names purchasers
ScopeShape = tuple[bool, bool, bool]


@dataclass(frozen=True, slots=True)
class Seen:
    """A reader's scope as the database answers it (:func:`resolve`): every project, or those
    one of ``orgs`` is a party to, or whose purchaser is one of ``purchasers`` (None: the scope
    names no purchaser-name prefix)."""

    everything: bool = False
    orgs: tuple[str, ...] = ()
    purchasers: tuple[str, ...] | None = None

    def shape(self) -> ScopeShape:
        if self.everything:
            return (True, False, False)
        return (False, bool(self.orgs), self.purchasers is not None)

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if not self.everything and self.orgs:
            out["s_orgs"] = list(self.orgs)
        if not self.everything and self.purchasers is not None:
            out["s_purchasers"] = list(self.purchasers)
        return out


@lru_cache(maxsize=_SHAPES)
def _purchasers_like(prefixes: int) -> Any:
    starts = (
        func.substr(p.c.purchaser, 1, bindparam(f"s_len{i}", type_=Integer()))
        == bindparam(f"s_prefix{i}", type_=String())
        for i in range(prefixes)
    )
    return select(p.c.purchaser).where(or_(*starts)).distinct()


def resolve_query(scope: Visible) -> Query | None:
    """The purchasers whose name starts with one of the scope's prefixes (None: it has none).
    ``substr``, not ``LIKE``: exact and case-sensitive on both databases, no wildcard to escape;
    it reads ``ix_gpw_project_purchaser`` alone."""
    prefixes = tuple(prefix for prefix in scope.prefixes if prefix)
    if scope.everything or not prefixes:
        return None
    params: dict[str, Any] = {}
    for i, prefix in enumerate(prefixes):
        params[f"s_len{i}"], params[f"s_prefix{i}"] = len(prefix), prefix
    return _purchasers_like(len(prefixes)), params


def resolve(conn: Connection, scope: Visible) -> Seen:
    """The scope as the database answers it, read in the caller's transaction (so every list
    and count of one call sees the same purchasers)."""
    if scope.everything:
        return Seen(everything=True)
    query = resolve_query(scope)
    purchasers = None
    if query is not None:
        purchasers = tuple(sorted(conn.execute(query[0], query[1]).scalars()))
    return Seen(orgs=tuple(sorted(scope.orgs)), purchasers=purchasers)


def visible(shape: ScopeShape, project_id: Any, purchaser: Any = None) -> ColumnElement[bool]:
    """The projects a scope of this shape opens, as a condition on a project id column: every
    one; those one of its organisations is a party to (purchaser, awarded contractor, a
    supervising body); those of its purchasers. One ``IN`` over the party rows, which
    ``ix_gpw_project_party_org`` answers (a semi-join: the database may drive from the scope's
    projects or check each row against them, whichever is cheaper). ``purchaser`` (a purchaser
    column) is not needed: the party rows hold the purchaser."""
    del purchaser
    everything, orgs, purchasers = shape
    if everything:
        return true()
    parties: list[ColumnElement[bool]] = []
    if orgs:
        parties.append(pp.c.org.in_(bindparam("s_orgs", expanding=True)))
    if purchasers:
        among: Any = bindparam("s_purchasers", expanding=True)
        parties.append(and_(pp.c.relation == PURCHASER, pp.c.org.in_(among)))
    if not parties:
        return false()
    found: ColumnElement[bool] = project_id.in_(select(pp.c.project_id).where(or_(*parties)))
    return found


def _party_of(project_id: Any, by_org: bool, by_relation: bool) -> ColumnElement[bool]:
    """Projects ``:b_org`` is a party to (in ``:b_relation``, or in any)."""
    query = select(pp.c.project_id)
    if by_org:
        query = query.where(pp.c.org == bindparam("b_org", type_=String()))
    if by_relation:
        query = query.where(pp.c.relation == bindparam("b_relation", type_=String()))
    found: ColumnElement[bool] = project_id.in_(query)
    return found


def _open_deadline(*conditions: ColumnElement[bool]) -> Any:
    return (
        select(literal(1))
        .where(d.c.project_id == p.c.id, d.c.status == "open", *conditions)
        .exists()
    )


def _like_pattern(text: str) -> str:
    """``text`` anywhere, its ``%`` and ``_`` plain characters (escaped with ``/``)."""
    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped.lower()}%"


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

    def shape(self) -> tuple[Any, ...]:
        return (
            self.state is not None,
            self.org is not None,
            self.relation is not None,
            self.contractor_id is not None,
            self.policy is not None,
            self.overdue,
            self.provisional,
            bool(self.q),
        )

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("state", "org", "relation", "contractor_id", "policy"):
            value = getattr(self, key)
            if value is not None:
                out[f"b_{key}"] = value
        if self.q:
            out["b_q"] = _like_pattern(self.q)
        return out


def _project_conditions(scope: ScopeShape, shape: tuple[Any, ...]) -> list[ColumnElement[bool]]:
    state, org, relation, contractor_id, policy, overdue, provisional, q = shape
    where = [visible(scope, p.c.id)]
    if state:
        where.append(p.c.state == bindparam("b_state", type_=String()))
    if org or relation:
        where.append(_party_of(p.c.id, org, relation))
    if contractor_id:
        where.append(p.c.contractor_id == bindparam("b_contractor_id", type_=Integer()))
    if policy:
        where.append(p.c.policy == bindparam("b_policy", type_=String()))
    if overdue is not None:
        late = _open_deadline(d.c.due_at <= _now())
        where.append(late if overdue else not_(late))
    if provisional is not None:
        tentative = _open_deadline(d.c.provisional.is_(True))
        where.append(tentative if provisional else not_(tentative))
    if q:
        # ASCII letters in either case (SQLite's LIKE and lower() know no others)
        where.append(func.lower(p.c.title).like(bindparam("b_q", type_=String()), escape="/"))
    return where


def _after(key: Any, id_column: Any, descending: bool) -> ColumnElement[bool]:
    """The keyset: rows strictly after the last one shown (``:b_after``, ``:b_after_id``)."""
    last_id = bindparam("b_after_id", type_=Integer())
    if key is id_column:
        beyond: ColumnElement[bool] = id_column < last_id if descending else id_column > last_id
        return beyond
    pair = tuple_(key, id_column)
    bound = tuple_(bindparam("b_after", type_=key.type), last_id)
    return pair < bound if descending else pair > bound


def _order(key: Any, id_column: Any, descending: bool) -> list[Any]:
    if key is id_column:
        return [id_column.desc() if descending else id_column.asc()]
    if descending:
        return [key.desc(), id_column.desc()]
    return [key.asc(), id_column.asc()]


def _after_params(after: tuple[Any, int] | None) -> dict[str, Any]:
    if after is None:
        return {}
    return {"b_after": after[0], "b_after_id": after[1]}


# -- projects -------------------------------------------------------------------------------------


_SUMMARY = (
    p.c.id,
    p.c.title,
    p.c.purchaser,
    p.c.contractor_id,
    c.c.name.label("contractor"),
    p.c.policy,
    p.c.state,
    p.c.version,
    p.c.updated_at,
    p.c.created_at,
)


@lru_cache(maxsize=_SHAPES)
def _project_page(
    scope: ScopeShape, shape: tuple[Any, ...], sort: str, descending: bool, after: bool
) -> Any:
    key = PROJECT_SORTS[sort]
    where = _project_conditions(scope, shape)
    if after:
        where.append(_after(key, p.c.id, descending))
    return (
        select(*_SUMMARY)
        .select_from(p.outerjoin(c, c.c.id == p.c.contractor_id))
        .where(*where)
        .order_by(*_order(key, p.c.id, descending))
        .limit(bindparam("b_limit", type_=Integer()))
    )


def project_page_query(
    scope: Seen,
    filters: ProjectFilters,
    *,
    now: datetime,
    sort: str,
    descending: bool,
    after: tuple[Any, int] | None,
    limit: int,
) -> Query:
    """A page of projects: id, title, purchaser, contractor_id, contractor, policy, state,
    version, updated_at, created_at (``limit`` rows: ask one more to know if another page
    follows)."""
    statement = _project_page(scope.shape(), filters.shape(), sort, descending, after is not None)
    params = {
        **scope.params(),
        **filters.params(),
        **_after_params(after),
        "b_now": now,
        "b_limit": limit,
    }
    return statement, params


def project_page(conn: Connection, **kwargs: Any) -> list[Any]:
    statement, params = project_page_query(**kwargs)
    return list(conn.execute(statement, params))


_DEADLINE_STATS = (
    select(
        d.c.project_id,
        func.count().label("open"),
        func.sum(case((d.c.due_at <= _now(), 1), else_=0)).label("overdue"),
        func.min(case((d.c.due_at <= _now(), d.c.due_at))).label("worst_due_at"),
        func.max(case((d.c.provisional.is_(True), 1), else_=0)).label("provisional"),
    )
    .where(d.c.project_id.in_(bindparam("b_ids", expanding=True)), d.c.status == "open")
    .group_by(d.c.project_id)
)


def deadline_stats_query(project_ids: Sequence[int], now: datetime) -> Query:
    """Per project: open deadlines, how many are overdue, the ``due_at`` of the most overdue,
    and whether one is provisional (from ``ix_gpw_deadline_status_project`` alone)."""
    return _DEADLINE_STATS, {"b_ids": list(project_ids), "b_now": now}


def deadline_stats(conn: Connection, project_ids: Sequence[int], now: datetime) -> dict[int, Any]:
    if not project_ids:
        return {}
    statement, params = deadline_stats_query(project_ids, now)
    return {r.project_id: r for r in conn.execute(statement, params)}


@lru_cache(maxsize=_SHAPES)
def _by_state(scope: ScopeShape) -> Any:
    return (
        select(p.c.state, func.count().label("n")).where(visible(scope, p.c.id)).group_by(p.c.state)
    )


def by_state_query(scope: Seen) -> Query:
    return _by_state(scope.shape()), scope.params()


def count_by_state(conn: Connection, scope: Seen) -> dict[str, int]:
    statement, params = by_state_query(scope)
    return {r.state: int(r.n) for r in conn.execute(statement, params)}


# -- deadlines ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeadlineFilters:
    #: open, overdue, due_soon, met, cancelled, suspended, escalated, all
    status: str = "open"
    org: str | None = None
    relation: str | None = None
    kind: str | None = None
    project_id: int | None = None

    def shape(self) -> tuple[Any, ...]:
        return (
            self.status,
            self.org is not None,
            self.relation is not None,
            self.kind is not None,
            self.project_id is not None,
        )

    def params(self, now: datetime, due_soon_until: datetime) -> dict[str, Any]:
        out: dict[str, Any] = {"b_now": now, "b_until": due_soon_until}
        for key in ("org", "relation", "kind", "project_id"):
            value = getattr(self, key)
            if value is not None:
                out[f"b_{key}"] = value
        return out


def _deadline_conditions(
    scope: ScopeShape, shape: tuple[Any, ...], escalation: Escalation
) -> list[ColumnElement[bool]]:
    status, org, relation, kind, project_id = shape
    where = [visible(scope, p.c.id)]
    if status in ("open", "overdue", "due_soon"):
        where.append(d.c.status == "open")
    if status == "overdue":
        where.append(d.c.due_at <= _now())
    elif status == "due_soon":
        until = bindparam("b_until", type_=d.c.due_at.type)
        where.extend((d.c.due_at > _now(), d.c.due_at <= until))
    elif status in ("met", "cancelled", "suspended"):
        where.append(d.c.status == status)
    elif status == "escalated":
        where.append(escalation.reached(p.c.policy))
    if org or relation:
        where.append(_party_of(d.c.project_id, org, relation))
    if kind:
        where.append(d.c.kind == bindparam("b_kind", type_=String()))
    if project_id:
        where.append(d.c.project_id == bindparam("b_project_id", type_=Integer()))
    return where


_DEADLINE = (
    d.c.id,
    d.c.project_id,
    p.c.title,
    p.c.purchaser,
    c.c.name.label("contractor"),
    d.c.key,
    d.c.kind,
    d.c.owner,
    d.c.rule,
    d.c.due,
    d.c.provisional,
    d.c.status,
    d.c.met_on,
    d.c.late,
    d.c.stage_index,
    p.c.policy,
    d.c.due_at,
)
_DEADLINE_FROM = d.join(p, p.c.id == d.c.project_id).outerjoin(c, c.c.id == p.c.contractor_id)


@lru_cache(maxsize=_SHAPES)
def _deadline_page(
    scope: ScopeShape,
    shape: tuple[Any, ...],
    escalation: Escalation,
    descending: bool,
    after: bool,
) -> Any:
    where = _deadline_conditions(scope, shape, escalation)
    if after:
        where.append(_after(d.c.due_at, d.c.id, descending))
    return (
        select(*_DEADLINE)
        .select_from(_DEADLINE_FROM)
        .where(*where)
        .order_by(*_order(d.c.due_at, d.c.id, descending))
        .limit(bindparam("b_limit", type_=Integer()))
    )


def deadline_page_query(
    scope: Seen,
    filters: DeadlineFilters,
    *,
    now: datetime,
    due_soon_until: datetime,
    escalation: Escalation,
    descending: bool,
    after: tuple[Any, int] | None,
    limit: int,
) -> Query:
    """A page of deadlines in due order (``due_at`` orders as ``due`` does: the end of the due
    day), ties by id: id, project_id, title, purchaser, contractor, key, kind, owner, rule, due,
    provisional, status, met_on, late, stage_index, policy, due_at."""
    statement = _deadline_page(
        scope.shape(), filters.shape(), escalation, descending, after is not None
    )
    params = {
        **scope.params(),
        **filters.params(now, due_soon_until),
        **_after_params(after),
        "b_limit": limit,
    }
    return statement, params


def deadline_page(conn: Connection, **kwargs: Any) -> list[Any]:
    statement, params = deadline_page_query(**kwargs)
    return list(conn.execute(statement, params))


@lru_cache(maxsize=_SHAPES)
def _count_deadlines(scope: ScopeShape, shape: tuple[Any, ...], escalation: Escalation) -> Any:
    where = _deadline_conditions(scope, shape, escalation)
    return select(func.count()).select_from(d.join(p, p.c.id == d.c.project_id)).where(*where)


def count_deadlines_query(
    scope: Seen,
    filters: DeadlineFilters,
    *,
    now: datetime,
    due_soon_until: datetime,
    escalation: Escalation,
) -> Query:
    statement = _count_deadlines(scope.shape(), filters.shape(), escalation)
    return statement, {**scope.params(), **filters.params(now, due_soon_until)}


def count_deadlines(conn: Connection, **kwargs: Any) -> int:
    statement, params = count_deadlines_query(**kwargs)
    return int(conn.execute(statement, params).scalar_one())


@lru_cache(maxsize=_SHAPES)
def _league_counts(scope: ScopeShape, escalation: Escalation) -> Any:
    inner: Any = d
    if escalation.needs_project:
        inner = d.join(p, p.c.id == d.c.project_id)
    per_project = (
        select(
            d.c.project_id,
            func.count().label("open"),
            func.sum(case((d.c.due_at <= _now(), 1), else_=0)).label("overdue"),
            func.sum(case((escalation.reached(p.c.policy), 1), else_=0)).label("escalated"),
            func.max(case((d.c.provisional.is_(True), 1), else_=0)).label("provisional"),
        )
        .select_from(inner)
        .where(d.c.status == "open", visible(scope, d.c.project_id))
        .group_by(d.c.project_id)
        .subquery("per_project")
    )
    return (
        select(
            pp.c.org,
            pp.c.relation,
            func.sum(per_project.c.open).label("open"),
            func.sum(per_project.c.overdue).label("overdue"),
            func.sum(per_project.c.escalated).label("escalated"),
            func.sum(case((per_project.c.overdue > 0, 1), else_=0)).label("overdue_projects"),
            func.sum(per_project.c.provisional).label("provisional_projects"),
        )
        .select_from(per_project.join(pp, pp.c.project_id == per_project.c.project_id))
        .where(pp.c.relation.in_(LEAGUE_RELATIONS))
        .group_by(pp.c.org, pp.c.relation)
    )


def league_counts_query(scope: Seen, *, now: datetime, escalation: Escalation) -> Query:
    """Per organisation and relation (purchaser, contractor): open deadlines, overdue ones,
    escalated ones, and the projects with an overdue one and with a provisional one. Counted per
    project first, from ``ix_gpw_deadline_status_project`` alone, then added up over the
    projects' parties (each project has one purchaser: the purchasers' rows add up to the
    scope's totals)."""
    statement = _league_counts(scope.shape(), escalation)
    return statement, {**scope.params(), "b_now": now}


@lru_cache(maxsize=_SHAPES)
def _league_late(scope: ScopeShape) -> Any:
    return (
        select(pp.c.org, pp.c.relation, d.c.due_at, func.count().label("n"))
        .select_from(d.join(pp, pp.c.project_id == d.c.project_id))
        .where(
            d.c.status == "open",
            d.c.due_at <= _now(),
            pp.c.relation.in_(LEAGUE_RELATIONS),
            visible(scope, d.c.project_id),
        )
        .group_by(pp.c.org, pp.c.relation, d.c.due_at)
    )


def league_late_query(scope: Seen, *, now: datetime) -> Query:
    """Per organisation, relation and due day: how many of its deadlines are overdue (the
    caller weighs each due day by its working days late: a row per due day and organisation,
    not per deadline)."""
    return _league_late(scope.shape()), {**scope.params(), "b_now": now}


def league(
    conn: Connection,
    scope: Seen,
    *,
    now: datetime,
    escalation: Escalation,
    working_days_late: Callable[[datetime], int],
) -> list[dict[str, Any]]:
    """The league's rows: org, relation, open, overdue, escalated, overdue_projects,
    provisional_projects, late_sum, late_max. ``working_days_late``: of a deadline with this
    ``due_at``, today."""
    statement, params = league_counts_query(scope, now=now, escalation=escalation)
    rows = {
        (org, relation): {
            "org": org,
            "relation": relation,
            "open": int(opened),
            "overdue": int(overdue or 0),
            "escalated": int(escalated or 0),
            "overdue_projects": int(overdue_projects or 0),
            "provisional_projects": int(provisional_projects or 0),
            "late_sum": 0,
            "late_max": 0,
        }
        for (
            org,
            relation,
            opened,
            overdue,
            escalated,
            overdue_projects,
            provisional_projects,
        ) in conn.execute(statement, params)
    }
    statement, params = league_late_query(scope, now=now)
    late: dict[datetime, int] = {}
    for org, relation, due_at, count in conn.execute(statement, params):
        days = late.get(due_at)
        if days is None:
            days = late[due_at] = working_days_late(due_at)
        found = rows.get((org, relation))
        if found is not None:  # always: an overdue deadline is an open one
            found["late_sum"] += days * int(count)
            found["late_max"] = max(found["late_max"], days)
    return list(rows.values())


# -- notices --------------------------------------------------------------------------------------


_NOTICE = (
    n.c.id,
    n.c.key,
    n.c.project_id,
    p.c.title,
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
)


def _notice_conditions(
    scope: ScopeShape, statuses: bool, project_id: bool
) -> list[ColumnElement[bool]]:
    where = [visible(scope, p.c.id)]
    if statuses:
        where.append(n.c.status.in_(bindparam("b_statuses", expanding=True)))
    if project_id:
        where.append(n.c.project_id == bindparam("b_project_id", type_=Integer()))
    return where


@lru_cache(maxsize=_SHAPES)
def _notice_page(scope: ScopeShape, statuses: bool, project_id: bool, before: bool) -> Any:
    where = _notice_conditions(scope, statuses, project_id)
    if before:
        where.append(n.c.id < bindparam("b_before", type_=Integer()))
    return (
        select(*_NOTICE)
        .select_from(n.join(p, p.c.id == n.c.project_id))
        .where(*where)
        .order_by(n.c.id.desc())
        .limit(bindparam("b_limit", type_=Integer()))
    )


def _notice_params(
    scope: Seen, statuses: Sequence[str] | None, project_id: int | None
) -> dict[str, Any]:
    params = scope.params()
    if statuses is not None:
        params["b_statuses"] = list(statuses)
    if project_id is not None:
        params["b_project_id"] = project_id
    return params


def notice_page_query(
    scope: Seen,
    *,
    statuses: Sequence[str] | None,
    project_id: int | None,
    before: int | None,
    limit: int,
) -> Query:
    """Newest first (by id), after the notice ``before``: id, key, project_id, title,
    deadline_key, deadline_kind, stage, recipients, subject, status, attempts, last_error,
    created_at, sent_at."""
    statement = _notice_page(
        scope.shape(), statuses is not None, project_id is not None, before is not None
    )
    params = {**_notice_params(scope, statuses, project_id), "b_limit": limit}
    if before is not None:
        params["b_before"] = before
    return statement, params


def notice_page(conn: Connection, scope: Seen, **kwargs: Any) -> list[Any]:
    statement, params = notice_page_query(scope, **kwargs)
    return list(conn.execute(statement, params))


@lru_cache(maxsize=_SHAPES)
def _count_notices(scope: ScopeShape) -> Any:
    return (
        select(n.c.status, func.count().label("n"))
        .select_from(n.join(p, p.c.id == n.c.project_id))
        .where(*_notice_conditions(scope, True, False))
        .group_by(n.c.status)
    )


def count_notices_query(scope: Seen, statuses: Sequence[str]) -> Query:
    return _count_notices(scope.shape()), _notice_params(scope, statuses, None)


def count_notices(conn: Connection, scope: Seen, statuses: Sequence[str]) -> dict[str, int]:
    statement, params = count_notices_query(scope, statuses)
    return {r.status: int(r.n) for r in conn.execute(statement, params)}
