"""The dashboard's read models (issue #8, R15 全程监督): the project list, the deadline and notice
lists, and the supervisor's overview, each within a reader's :class:`Scope`.

The scope, every filter, the order and the page are applied by the database
(:mod:`workflow.store.lists`); Python builds the rows of one page. Lists are read a page at a
time by **keyset**: the cursor carries the last row's sort value and id, so a page costs the same
at the first row and the millionth, and a row that ties on the sort value is neither missed nor
repeated. A cursor is opaque and URL-safe (base64 of a small JSON, with a checksum that refuses a
damaged or hand-edited one); it names the list and the order it was made for. It is no secret
and grants nothing: it only says where a page starts, and the scope is applied to every page.

Days are business days in Asia/Shanghai and late is counted in **working days** on the workflow's
calendar (调休 included): a deadline is *overdue* once its due day is over (its ``due_at``, the
midnight after the due day, is not after ``now``), and it is late by the working days after the
due day up to and including today. Every number of the :class:`~workflow.views.Overview` is the
length of one of these lists (its docstring maps each number to its list).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from states.calendar import WorkingDayCalendar
from states.deadlines import business_date, end_of_day
from states.enums import DeadlineKind, ProjectState
from states.errors import InvalidInput, WorkflowError
from states.policy import Policy
from workflow.db import Database
from workflow.services.calendar import CalendarService
from workflow.services.details import redact
from workflow.services.facts import Facts
from workflow.services.notices import NOTICE_STATUSES, NoticeEngine
from workflow.services.policies import PolicyRegistry
from workflow.services.scope import Scope
from workflow.store import lists as store
from workflow.store.parties import RELATIONS
from workflow.views import (
    DeadlineItem,
    LeagueRow,
    NoticeItem,
    Overview,
    Page,
    ProjectSummary,
)

#: a page holds 1..200 rows
MAX_LIMIT = 200
#: "due soon": falling due within this many working days
DUE_SOON_WORKING_DAYS = 5
#: the deadline list's statuses
DEADLINE_STATUSES = (
    "open",
    "overdue",
    "due_soon",
    "met",
    "cancelled",
    "suspended",
    "escalated",
    "all",
)
#: the notice list's statuses: one of the outbox's, ``failing`` (failed, dead, undeliverable)
#: or ``all``
FAILING = ("failed", "dead", "undeliverable")
NOTICE_FILTERS = (*NOTICE_STATUSES, "failing", "all")
#: the overview shows this many rows of its league table, due-soon deadlines, failing notices
LEAGUE_SHOWN = 50
DUE_SOON_SHOWN = 20
NOTICES_SHOWN = 20
_MAX_TEXT = 200
#: the largest id a filter or a cursor may name (a 64-bit integer)
_MAX_ID = 2**63 - 1
_CURSOR_FORMAT = 1
_CURSOR_ALPHABET = re.compile(r"[A-Za-z0-9_-]{1,1024}")


# -- cursors --------------------------------------------------------------------------------------


def _bad_cursor(reason_zh: str, reason_en: str) -> InvalidInput:
    return InvalidInput(
        f"游标无效（{reason_zh}）：请从第一页重新开始",
        f"invalid cursor ({reason_en}): start again from the first page",
        field="cursor",
    )


def _checksum(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=6, person=b"gpw-cursor").digest()


def encode_cursor(kind: str, value: Any, last_id: int) -> str:
    """The cursor after a row: its list and order (``kind``), sort value and id."""
    if isinstance(value, datetime):
        value = value.isoformat()
    payload = json.dumps(
        [_CURSOR_FORMAT, kind, value, last_id], ensure_ascii=False, separators=(",", ":")
    ).encode()
    return base64.urlsafe_b64encode(payload + _checksum(payload)).rstrip(b"=").decode("ascii")


def decode_cursor(token: Any, kind: str, value_type: str) -> tuple[Any, int]:
    """(sort value, id) of a cursor made by :func:`encode_cursor` for this list and order.
    ``value_type``: ``datetime``, ``str`` or ``int``. Anything else is refused (``cursor``)."""
    if not isinstance(token, str) or not _CURSOR_ALPHABET.fullmatch(token):
        raise _bad_cursor("格式不对", "malformed")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise _bad_cursor("格式不对", "malformed") from exc
    payload, check = raw[:-6], raw[-6:]
    if len(raw) <= 6 or _checksum(payload) != check:
        raise _bad_cursor("已损坏或被改动", "damaged or altered")
    try:
        decoded = json.loads(payload)
    except ValueError as exc:
        raise _bad_cursor("格式不对", "malformed") from exc
    if (
        not isinstance(decoded, list)
        or len(decoded) != 4
        or decoded[0] != _CURSOR_FORMAT
        or not _is_int(decoded[3])
        or not 0 <= decoded[3] <= _MAX_ID
    ):
        raise _bad_cursor("格式不对", "malformed")
    if decoded[1] != kind:
        raise _bad_cursor("属于另一个列表或排序", "made for another list or order")
    value, last_id = decoded[2], decoded[3]
    if value_type == "datetime":
        try:
            when = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            raise _bad_cursor("格式不对", "malformed")
        return when, last_id
    if value_type == "int":
        if value is not None:
            raise _bad_cursor("格式不对", "malformed")
        return last_id, last_id
    if not isinstance(value, str) or any(ord(ch) < 32 for ch in value):
        raise _bad_cursor("格式不对", "malformed")
    return value, last_id


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# -- checks ---------------------------------------------------------------------------------------


def _check_scope(scope: Any) -> Scope:
    if not isinstance(scope, Scope):
        raise InvalidInput("scope 须为 Scope", "scope must be a Scope", field="scope")
    return scope


def _check_limit(limit: Any) -> int:
    if not _is_int(limit) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"limit 须为 1 到 {MAX_LIMIT} 的整数：{limit!r}",
            f"limit must be an integer from 1 to {MAX_LIMIT}: {limit!r}",
            field="limit",
        )
    return int(limit)


def _check_choice(value: Any, allowed: Iterable[str], field: str) -> str:
    options = tuple(allowed)
    if not isinstance(value, str) or value not in options:
        raise InvalidInput(
            f"{field} 须为 {', '.join(options)} 之一：{value!r}",
            f"{field} must be one of {', '.join(options)}: {value!r}",
            field=field,
        )
    return value


def _check_text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not value
        or len(value) > _MAX_TEXT
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in value)
    ):
        raise InvalidInput(
            f"{field} 须为一行不超过 {_MAX_TEXT} 字的文本：{value!r}",
            f"{field} must be one line of at most {_MAX_TEXT} characters: {value!r}",
            field=field,
        )
    return value


def _check_id(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if not _is_int(value) or not 1 <= value <= _MAX_ID:
        raise InvalidInput(
            f"{field} 须为正整数：{value!r}",
            f"{field} must be a positive integer: {value!r}",
            field=field,
        )
    return int(value)


def _check_flag(value: Any, field: str) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise InvalidInput(
            f"{field} 须为 true、false 或不填：{value!r}",
            f"{field} must be true, false or absent: {value!r}",
            field=field,
        )
    return value


def _check_relation(value: Any) -> str | None:
    return None if value is None else _check_choice(value, RELATIONS, "relation")


#: sort key → the cursor's value type
_SORT_TYPES = {
    "updated": "datetime",
    "created": "datetime",
    "title": "str",
    "state": "str",
    "id": "int",
}
PROJECT_SORTS = tuple(s for key in _SORT_TYPES for s in (key, f"-{key}"))


class Lists:
    """The dashboard's and the JSON API's lists and overview, within a reader's scope.

    Args:
        db: the database (reads run in a snapshot of their own, or in a host's ``connection``).
        policies: the policies (which notice stage is an escalation).
        calendar: the working-day calendar (working days left and late).
        notices: the notice engine (the overview's ``health``).
    """

    def __init__(
        self,
        db: Database,
        policies: PolicyRegistry,
        calendar: CalendarService,
        notices: NoticeEngine,
        facts: Facts | None = None,
    ) -> None:
        self._db = db
        self._policies = policies
        self._calendar = calendar
        self._notices = notices
        #: R18 shares and R19 slips, read from the facts the events keep (issue #10)
        self._facts = facts or Facts(db, policies, calendar)

    # -- projects ---------------------------------------------------------------------------------

    def list_projects(
        self,
        scope: Scope,
        *,
        state: str | None = None,
        org: str | None = None,
        relation: str | None = None,
        contractor_id: int | None = None,
        policy: str | None = None,
        overdue: bool | None = None,
        provisional: bool | None = None,
        q: str | None = None,
        sort: str = "-updated",
        cursor: str | None = None,
        limit: int = 50,
        now: datetime | None = None,
        connection: Connection | None = None,
    ) -> Page[ProjectSummary]:
        """A page of the projects ``scope`` lets the reader see.

        Args:
            state: projects in this state.
            org: projects this organisation is a party to: purchaser, awarded contractor
                (registered name) or a supervising body; ``relation`` narrows it to one of
                ``purchaser``, ``contractor``, ``government``, ``finance``, ``audit``, ``leader``.
            contractor_id: projects awarded to this registered contractor.
            policy: projects under this policy.
            overdue: True: with an open deadline past due; False: with none.
            provisional: True: with an open provisional (暂定) deadline; False: with none.
            q: a piece of the title; ASCII letters match in either case (``%`` and ``_`` are
                plain characters).
            sort: ``updated``, ``created``, ``title``, ``state`` (its name) or ``id``; ``-`` in
                front for descending. Ties are broken by id, in the same direction.
            cursor: the ``next_cursor`` of the previous page (same sort).
            limit: rows a page, 1..200.
        """
        scope = _check_scope(scope)
        sort = _check_choice(sort, PROJECT_SORTS, "sort")
        limit = _check_limit(limit)
        filters = store.ProjectFilters(
            state=None if state is None else _check_choice(state, _states(), "state"),
            org=_check_text(org, "org"),
            relation=_check_relation(relation),
            contractor_id=_check_id(contractor_id, "contractor_id"),
            policy=_check_text(policy, "policy"),
            overdue=_check_flag(overdue, "overdue"),
            provisional=_check_flag(provisional, "provisional"),
            q=_check_text(q, "q"),
        )
        key = sort.lstrip("-")
        kind = f"projects:{sort}"
        after = None if cursor is None else decode_cursor(cursor, kind, _SORT_TYPES[key])
        now = self._db.at(now)
        today = business_date(now)
        with self._db.read(connection) as conn:
            rows = store.project_page(
                conn,
                scope=store.resolve(conn, scope),
                filters=filters,
                now=now,
                sort=key,
                descending=sort.startswith("-"),
                after=after,
                limit=limit + 1,
            )
            more = len(rows) > limit
            rows = rows[:limit]
            stats = store.deadline_stats(conn, [r.id for r in rows], now)
            late = any(s.worst_due_at is not None for s in stats.values())
            calendar = self._calendar.current(conn) if late else None
        items = tuple(_summary(r, stats.get(r.id), today, calendar) for r in rows)
        next_cursor = None
        if more and rows:
            last = rows[-1]
            value = None if key == "id" else getattr(last, _SORT_COLUMNS[key])
            next_cursor = encode_cursor(kind, value, last.id)
        return Page(items=items, next_cursor=next_cursor)

    # -- deadlines --------------------------------------------------------------------------------

    def deadlines(
        self,
        scope: Scope,
        *,
        status: str = "open",
        org: str | None = None,
        relation: str | None = None,
        kind: str | None = None,
        project_id: int | None = None,
        sort: str = "due",
        cursor: str | None = None,
        limit: int = 50,
        now: datetime | None = None,
        connection: Connection | None = None,
    ) -> Page[DeadlineItem]:
        """A page of the deadlines of the projects ``scope`` lets the reader see, by due day
        (``sort="-due"``: latest first), ties by id.

        Args:
            status: ``open``; ``overdue`` (open, due day over); ``due_soon`` (open, not overdue,
                due by the fifth working day after today); ``met``; ``cancelled``;
                ``suspended`` (its clock stopped, 中止计时); ``escalated`` (open, its notices
                reached an escalation stage); ``all``.
            org, relation: deadlines of the projects this organisation is a party to (as for
                :meth:`list_projects`).
            kind: ``dispatch``, ``payment_1``…``payment_3``, ``evaluation``, ``rectification``,
                ``contract_end``.
            project_id: one project's deadlines.
        """
        scope = _check_scope(scope)
        status = _check_choice(status, DEADLINE_STATUSES, "status")
        sort = _check_choice(sort, ("due", "-due"), "sort")
        limit = _check_limit(limit)
        filters = store.DeadlineFilters(
            status=status,
            org=_check_text(org, "org"),
            relation=_check_relation(relation),
            kind=None if kind is None else _check_choice(kind, _kinds(), "kind"),
            project_id=_check_id(project_id, "project_id"),
        )
        cursor_kind = f"deadlines:{sort}"
        after = None if cursor is None else decode_cursor(cursor, cursor_kind, "datetime")
        now = self._db.at(now)
        with self._db.read(connection) as conn:
            calendar = self._calendar.current(conn)
            items, last, more = self._deadline_page(
                conn,
                store.resolve(conn, scope),
                filters,
                now=now,
                calendar=calendar,
                descending=sort == "-due",
                after=after,
                limit=limit,
            )
        next_cursor = encode_cursor(cursor_kind, last.due_at, last.id) if more and last else None
        return Page(items=items, next_cursor=next_cursor)

    def _deadline_page(
        self,
        conn: Connection,
        scope: store.Seen,
        filters: store.DeadlineFilters,
        *,
        now: datetime,
        calendar: WorkingDayCalendar,
        descending: bool = False,
        after: tuple[Any, int] | None = None,
        limit: int,
    ) -> tuple[tuple[DeadlineItem, ...], Any, bool]:
        today = business_date(now)
        escalation = self._escalation()
        rows = store.deadline_page(
            conn,
            scope=scope,
            filters=filters,
            now=now,
            due_soon_until=_due_soon_until(today, calendar),
            escalation=escalation,
            descending=descending,
            after=after,
            limit=limit + 1,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        items = tuple(self._deadline_item(r, today, calendar, escalation) for r in rows)
        return items, (rows[-1] if rows else None), more

    def _deadline_item(
        self,
        row: Any,
        today: date,
        calendar: WorkingDayCalendar,
        escalation: store.Escalation,
    ) -> DeadlineItem:
        (
            deadline_id,
            project_id,
            title,
            purchaser,
            contractor,
            key,
            kind,
            owner,
            rule,
            due,
            provisional,
            status,
            met_on,
            late,
            stage_index,
            policy,
            _,
        ) = row
        is_open = status == "open"
        overdue = is_open and due < today
        left: int | None = None
        late_days = 0
        if is_open:
            left = calendar.working_days_between(today, due)
            late_days = -left if overdue else 0
        elif status == "met" and met_on is not None and met_on > due:
            late_days = calendar.working_days_between(due, met_on)
        escalated = (
            is_open
            and kind != DeadlineKind.CONTRACT_END
            and stage_index >= escalation.threshold(policy)
        )
        return DeadlineItem(
            id=deadline_id,
            project_id=project_id,
            project_title=title,
            purchaser=purchaser,
            contractor=contractor,
            key=key,
            kind=kind,
            owner=owner,
            rule=rule,
            due=due,
            provisional=bool(provisional),
            status=status,
            overdue=overdue,
            working_days_left=left,
            late_working_days=late_days,
            stage=self._stage_name(policy, kind, stage_index),
            escalated=escalated,
            met_on=met_on,
            late=bool(late),
        )

    def _stage_name(self, policy: str, kind: str, index: int) -> str | None:
        if index < 0:
            return None
        if kind == DeadlineKind.CONTRACT_END:
            return "reminder"  # its ladder is one reminder (R13)
        stages = self._policy(policy)
        if stages is None or index >= len(stages.notices.stages):
            return None
        return stages.notices.stages[index].stage

    def _policy(self, name: str) -> Policy | None:
        try:
            return self._policies.named(name)
        except WorkflowError:
            return None

    def _escalation(self) -> store.Escalation:
        """The stage index from which each known policy's ladder is escalating."""
        thresholds = {p.name: _escalation_index(p) for p in self._policies.known()}
        default = thresholds.get(self._policies.default.name, store.NEVER)
        return store.Escalation(
            default=default,
            by_policy=tuple(sorted((k, v) for k, v in thresholds.items() if v != default)),
        )

    # -- notices ----------------------------------------------------------------------------------

    def notices(
        self,
        scope: Scope,
        *,
        status: str = "failing",
        project_id: int | None = None,
        cursor: str | None = None,
        limit: int = 50,
        connection: Connection | None = None,
    ) -> Page[NoticeItem]:
        """A page of the notices about the projects ``scope`` lets the reader see, newest
        first. ``status``: ``pending``, ``sent``, ``failed``, ``dead``, ``undeliverable``,
        ``failing`` (failed, dead or undeliverable) or ``all``."""
        scope = _check_scope(scope)
        status = _check_choice(status, NOTICE_FILTERS, "status")
        limit = _check_limit(limit)
        project_id = _check_id(project_id, "project_id")
        before = None if cursor is None else decode_cursor(cursor, "notices", "int")[1]
        with self._db.read(connection) as conn:
            rows = store.notice_page(
                conn,
                store.resolve(conn, scope),
                statuses=_notice_statuses(status),
                project_id=project_id,
                before=before,
                limit=limit + 1,
            )
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor("notices", None, rows[-1].id) if more and rows else None
        return Page(items=tuple(_notice_item(r) for r in rows), next_cursor=next_cursor)

    # -- the overview -----------------------------------------------------------------------------

    def health(
        self,
        scope: Scope,
        *,
        now: datetime | None = None,
        connection: Connection | None = None,
    ) -> dict[str, Any]:
        """The engine's health as this reader sees it (``NoticeEngine.health``): a reader who
        does not see every project gets the outbox counted over the notices of the projects it
        sees (each number is the length of its list), and none of the problems that count the
        whole outbox (dead, undeliverable); the worker's runs and waits are the engine's."""
        scope = _check_scope(scope)
        now = self._db.at(now)
        with self._db.read(connection) as conn:
            return self._health(conn, store.resolve(conn, scope), now)

    def _health(self, conn: Connection, seen: Any, now: datetime) -> dict[str, Any]:
        health = self._notices.health(now, connection=conn)
        if seen.everything:
            return health
        counts = store.count_notices(conn, seen, NOTICE_STATUSES)
        # the engine's outbox problems are not a scoped reader's (subscriptions: issue #11)
        problems = [
            p
            for p in health["problems"]
            if p["code"] not in _OUTBOX_PROBLEMS and p["code"] != "dead_subscription_deliveries"
        ]
        mine = {s: counts.get(s, 0) for s in NOTICE_STATUSES}
        for status, code, zh, en in _OUTBOX_PROBLEMS.values():
            if mine[status]:
                problems.insert(0, {"code": code, "message_zh": zh(mine), "message_en": en(mine)})
        return {**health, "notices": mine, "ok": not problems, "problems": problems}

    def overview(
        self,
        scope: Scope,
        *,
        now: datetime | None = None,
        connection: Connection | None = None,
    ) -> Overview:
        """Projects by state, the league table of organisations, what falls due within five
        working days, notices failing, and the engine's health (see :class:`Overview` for the
        list behind each number)."""
        scope = _check_scope(scope)
        now = self._db.at(now)
        today = business_date(now)
        escalation = self._escalation()
        with self._db.read(connection) as conn:
            calendar = self._calendar.current(conn)
            seen = store.resolve(conn, scope)
            by_state = store.count_by_state(conn, seen)
            league = store.league(
                conn,
                seen,
                now=now,
                escalation=escalation,
                working_days_late=lambda due_at: calendar.working_days_between(
                    _due_day(due_at), today
                ),
            )
            until = _due_soon_until(today, calendar)
            soon = store.DeadlineFilters(status="due_soon")
            due_soon, _, _ = self._deadline_page(
                conn, seen, soon, now=now, calendar=calendar, limit=DUE_SOON_SHOWN
            )
            due_soon_count = store.count_deadlines(
                conn,
                scope=seen,
                filters=soon,
                now=now,
                due_soon_until=until,
                escalation=escalation,
            )
            failing = store.notice_page(
                conn, seen, statuses=FAILING, project_id=None, before=None, limit=NOTICES_SHOWN
            )
            failing_count = store.count_notices(conn, seen, FAILING)
            health = self._health(conn, seen, now)
            shares = self._facts.budget_shares(conn, seen, today.year)
            slipping = self._facts.slipping(conn, seen, today, calendar)
        rows = sorted(
            (
                LeagueRow(
                    org=r["org"],
                    relation=r["relation"],
                    open=r["open"],
                    overdue=r["overdue"],
                    escalated=r["escalated"],
                    overdue_working_days=r["late_sum"],
                    worst_overdue_working_days=r["late_max"],
                )
                for r in league
            ),
            key=lambda r: (
                -r.overdue_working_days,
                -r.overdue,
                -r.escalated,
                -r.open,
                r.org,
                r.relation,
            ),
        )
        # every project has one purchaser: its rows add up to the scope's totals
        purchasers = [r for r in rows if r.relation == "purchaser"]
        bought = [r for r in league if r["relation"] == "purchaser"]
        return Overview(
            now=now,
            today=today,
            by_state={s.value: by_state.get(s.value, 0) for s in ProjectState},
            projects=sum(by_state.values()),
            open=sum(r.open for r in purchasers),
            overdue=sum(r.overdue for r in purchasers),
            escalated=sum(r.escalated for r in purchasers),
            overdue_working_days=sum(r.overdue_working_days for r in purchasers),
            worst_overdue_working_days=max(
                (r.worst_overdue_working_days for r in purchasers), default=0
            ),
            overdue_projects=sum(r["overdue_projects"] for r in bought),
            provisional_projects=sum(r["provisional_projects"] for r in bought),
            league=tuple(rows[:LEAGUE_SHOWN]),
            league_total=len(rows),
            due_soon=due_soon,
            due_soon_count=due_soon_count,
            due_soon_until=_due_soon_day(today, calendar),
            notices_failing=tuple(_notice_item(r) for r in failing),
            notices_failing_count={s: failing_count.get(s, 0) for s in FAILING},
            health=health,
            budget_shares=shares,
            slipping=slipping,
        )


# -- helpers --------------------------------------------------------------------------------------

#: the health's problems that count the whole outbox, recounted within a reader's scope
_OUTBOX_PROBLEMS: dict[str, tuple[str, str, Any, Any]] = {
    "undeliverable_notices": (
        "undeliverable",
        "undeliverable_notices",
        lambda n: f"{n['undeliverable']} 条通知在通讯录中找不到可送达的收件人（undeliverable）",
        lambda n: (
            f"{n['undeliverable']} notice(s) are undeliverable: no recipient in the directory"
        ),
    ),
    "dead_notices": (
        "dead",
        "dead_notices",
        lambda n: f"{n['dead']} 条通知投递失败已放弃（dead），请检查后 gpw notices resend",
        lambda n: f"{n['dead']} notice(s) are dead (gave up); check and gpw notices resend",
    ),
}


#: the row attribute of each sort key's value
_SORT_COLUMNS = {
    "updated": "updated_at",
    "created": "created_at",
    "title": "title",
    "state": "state",
    "id": "id",
}


def _states() -> tuple[str, ...]:
    return tuple(s.value for s in ProjectState)


def _kinds() -> tuple[str, ...]:
    return tuple(k.value for k in DeadlineKind)


def _notice_statuses(status: str) -> Sequence[str] | None:
    if status == "all":
        return None
    if status == "failing":
        return FAILING
    return (status,)


def _escalation_index(policy: Policy) -> int:
    """The index of the first escalation stage of the policy's ladder (:data:`NEVER`: none)."""
    return next(
        (i for i, s in enumerate(policy.notices.stages) if s.stage.startswith("escalation")),
        store.NEVER,
    )


def _due_day(due_at: datetime) -> date:
    """The due day of a deadline row's ``due_at`` (the midnight after it, Asia/Shanghai)."""
    return business_date(due_at) - timedelta(days=1)


def _due_soon_day(today: date, calendar: WorkingDayCalendar) -> date:
    """The fifth working day after today: the last due day "due soon" reaches."""
    return calendar.add_working_days(today, DUE_SOON_WORKING_DAYS).date


def _due_soon_until(today: date, calendar: WorkingDayCalendar) -> datetime:
    """The end of the fifth working day after today (its ``due_at``)."""
    return end_of_day(_due_soon_day(today, calendar))


def _summary(
    row: Any, stats: Any, today: date, calendar: WorkingDayCalendar | None
) -> ProjectSummary:
    (
        project_id,
        title,
        purchaser,
        contractor_id,
        contractor,
        policy,
        state,
        version,
        updated_at,
        created_at,
    ) = row
    opened = overdue = worst = 0
    provisional = False
    if stats is not None:
        _, opened, overdue, worst_due_at, provisional = stats
        if worst_due_at is not None and calendar is not None:
            worst = calendar.working_days_between(_due_day(worst_due_at), today)
    return ProjectSummary(
        id=project_id,
        title=title,
        purchaser=purchaser,
        contractor=contractor,
        contractor_id=contractor_id,
        policy=policy,
        state=state,
        version=version,
        updated_at=updated_at,
        created_at=created_at,
        open_deadlines=int(opened),
        overdue=int(overdue or 0),
        worst_overdue_working_days=worst,
        provisional=bool(provisional),
    )


def _notice_item(row: Any) -> NoticeItem:
    (
        notice_id,
        key,
        project_id,
        title,
        deadline_key,
        deadline_kind,
        stage,
        recipients,
        subject,
        status,
        attempts,
        last_error,
        created_at,
        sent_at,
    ) = row
    return NoticeItem(
        id=notice_id,
        key=key,
        project_id=project_id,
        project_title=title,
        deadline_key=deadline_key,
        deadline_kind=deadline_kind,
        stage=stage,
        recipients=tuple(dict(r) for r in recipients),
        subject=subject,
        status=status,
        attempts=attempts,
        last_error=redact(last_error),  # a webhook's address in it may carry its token
        created_at=created_at,
        sent_at=sent_at,
    )
