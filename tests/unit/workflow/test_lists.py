"""The dashboard's lists and overview (issue #8, R15 全程监督), on SQLite and PostgreSQL.

A small world of seven projects at different states, three purchasers and two contractors, seen
on 2026-02-25 (the week after the 2026 Spring Festival: 02-15..23 off, Saturdays 02-14 and 02-28
worked). Every number below was worked out by hand on the State Council's 2026 schedule:

* P1 (大武口区民政局, 星海): contracted 2026-01-20, effective 01-26, six months. dispatch due
  02-10 (15 working days after 01-20): late 6 working days on 02-25 (02-11, 12, 13, 14 (the
  make-up Saturday), 24, 25), 15 calendar days; payment_1 due 02-14 (the make-up Saturday): late
  2 (02-24, 25). tick on 02-25 sent escalation_2 (+5: 02-24) and escalation_1 (+2: 02-25).
* P3 (大武口区星海镇人民政府, 卧龙): rectification due 02-13: late 3 (02-14, 24, 25), escalated.
* P6 (大武口区民政局, 卧龙): rectification due 03-02: due soon, 4 working days left (02-26, 27, 28,
  03-02); payment_1 due 01-13 paid 01-20: met late by 5 (01-14, 15, 16, 19, 20).
* P5 (卧龙区民政局, 卧龙): contracted 02-12 for twelve months: evaluation#2 due 2027-02-12 rests on
  2027, whose schedule is not published: provisional (暂定).
* P2 draft, P4 awarded (星海), P7 terminated (nanyang-2019), P8 terminated after signing (its
  deadlines cancelled).
* R14 (issue #10), Dawukou's trainings: the contracted projects (P1, P5, P8) trained their staff
  on the day they signed, P3 and P6 on their dispatch day (each training#0 met). P3 and P6 hold
  training#1 (half a year from the dispatch: 2026-06-30) and training#2 (2026-12-30 lies after
  the term: due on its last day, 2026-12-21), open, neither due soon.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from dbtools import rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from support import CLERK, FINANCE, GOV, ITEMS, QUALIFIED, STAFF, TERMS, TZ, at

from notifications.testing import RecordingChannel
from states.enums import ProjectState
from states.machine import EVENTS
from states.model import Actor
from workflow import InvalidInput, Workflow, schema
from workflow.persistence import make_engine
from workflow.services.lists import PROJECT_SORTS, Lists, encode_cursor
from workflow.services.scope import Scope, project_parties
from workflow.tables import party_t
from workflow.views import DeadlineItem, Page, ProjectSummary

A, B, C = "大武口区民政局", "大武口区星海镇人民政府", "卧龙区民政局"
X, Y = "星海社会工作服务中心", "卧龙社会工作服务社"
WOLONG = {"government": "卧龙区人民政府", "finance": "卧龙区财政局", "audit": "卧龙区审计局"}
CLERKS = {
    A: CLERK,
    B: Actor(id="b", role="purchaser", org=B),
    C: Actor(id="c", role="purchaser", org=C),
}
FIN = {A: FINANCE, B: FINANCE, C: Actor(id="cf", role="finance", org="卧龙区财政局")}
GOVS = {A: GOV, B: GOV, C: Actor(id="cg", role="government", org="卧龙区人民政府")}
STEPS = ("draft", "approved", "awarded", "contracted", "in_service", "rectifying")
#: the day the world is seen on, after the morning's tick
NOW = at("2026-02-25")
EVERYONE = Scope.all()


# -- the world ----------------------------------------------------------------------------------


def build(
    wf: Workflow,
    purchaser: str,
    title: str,
    to: str,
    *,
    contractor: int | None = None,
    signed: str = "",
    effective: str = "",
    months: int = 12,
    dispatched: str = "",
    paid: str = "",
    rect_at: str = "",
    rect_due: str = "",
    policy: str | None = None,
) -> int:
    """A project walked to ``to`` with the dates given (procured in 2025)."""
    clerk, fin, gov = CLERKS[purchaser], FIN[purchaser], GOVS[purchaser]
    pid = wf.create_project(
        actor=clerk,
        at=at("2025-07-30"),
        title=title,
        purchaser=purchaser,
        budget="1200000.00",
        items=ITEMS,
        policy=policy,
        supervisors=WOLONG if purchaser == C else None,
    )

    def fire(event: str, who: Actor, day: str, **data: Any) -> None:
        wf.fire(pid, event, actor=who, at=at(day), **data)

    stop = STEPS.index(to)
    if stop >= 1:
        fire("submit", clerk, "2025-08-01")
        fire("review_budget", fin, "2025-08-04", approved=True)
        fire("approve", gov, "2025-08-05")
    if stop >= 2:
        fire("publish_notice", clerk, "2025-08-06", method="open_tender", notice="公告")
        fire(
            "record_review",
            clerk,
            "2025-09-10",
            reviewers=["甲", "乙", "丙"],
            criteria={"quality": 70, "price": 30},
            scores={str(contractor): 90},
        )
        fire("award", clerk, "2025-09-15", contractor_id=contractor)
    if stop >= 3:
        fire(
            "sign_contract",
            clerk,
            signed,
            signed_on=signed,
            effective_on=effective,
            price="1000000.00",
            form="purchase",
            term_months=months,
            terms=dict(TERMS),
        )
        if stop == 3 and "record_training" in EVENTS:  # R14: trained on the day of signing
            fire(
                "record_training",
                clerk,
                signed,
                on=signed,
                topic="上岗培训",
                attendees=2,
                hours="8",
            )
    if stop >= 4:
        if "record_training" in EVENTS:  # R14: trained before duty, where the policy says so
            fire(
                "record_training",
                clerk,
                dispatched,
                on=dispatched,
                topic="上岗培训",
                attendees=len(STAFF),
                hours="8",
            )
        fire("dispatch_staff", clerk, dispatched, on=dispatched, staff=STAFF)
        if paid:
            fire("pay", clerk, paid, tranche=1, amount="300000.00", on=paid)
    if stop >= 5:
        fire("order_rectification", clerk, rect_at, due=rect_due, findings="入户记录不全")
    return pid


def register(wf: Workflow, name: str) -> int:
    return wf.register_contractor(
        actor=CLERK,
        at=at("2025-07-01"),
        name=name,
        org_type="social_organization",
        qualifications=QUALIFIED,
    )


def world(wf: Workflow) -> dict[str, int]:
    """The module docstring's projects, ticked on the morning of 02-25; ids by name (and the
    contractors' as ``X`` and ``Y``)."""
    x, y = register(wf, X), register(wf, Y)
    ids = {"X": x, "Y": y}
    ids["P1"] = build(
        wf,
        A,
        "入户核查员服务",
        "contracted",
        contractor=x,
        signed="2026-01-20",
        effective="2026-01-26",
        months=6,
    )
    ids["P2"] = build(wf, A, "养老服务评估", "draft")
    ids["P3"] = build(
        wf,
        B,
        "星海镇社会救助服务",
        "rectifying",
        contractor=y,
        signed="2025-12-22",
        effective="2025-12-22",
        dispatched="2025-12-30",
        paid="2026-01-05",
        rect_at="2026-02-02",
        rect_due="2026-02-13",
    )
    ids["P4"] = build(wf, C, "卧龙区居家探访", "awarded", contractor=x)
    ids["P5"] = build(
        wf,
        C,
        "卧龙区困难群众帮扶",
        "contracted",
        contractor=y,
        signed="2026-02-12",
        effective="2026-02-12",
    )
    ids["P6"] = build(
        wf,
        A,
        "困难老人探访",
        "rectifying",
        contractor=y,
        signed="2025-12-22",
        effective="2025-12-22",
        dispatched="2025-12-30",
        paid="2026-01-20",
        rect_at="2026-02-24",
        rect_due="2026-03-02",
    )
    ids["P7"] = build(wf, C, "卧龙区南阳政策项目", "approved", policy="nanyang-2019")
    wf.fire(ids["P7"], "terminate", actor=CLERKS[C], at=at("2025-08-10"), reason="预算调整")
    ids["P8"] = build(
        wf,
        C,
        "卧龙区终止项目",
        "contracted",
        contractor=x,
        signed="2026-01-05",
        effective="2026-01-05",
    )
    wf.fire(ids["P8"], "terminate", actor=CLERKS[C], at=at("2026-01-09"), reason="资金未到位")
    wf.tick(NOW)
    return ids


@pytest.fixture
def ids(wf: Workflow) -> dict[str, int]:
    return world(wf)


def walk(read: Callable[..., Page[Any]], **kwargs: Any) -> list[Any]:
    """Every item of a list, page by page, checking that no page is empty but the last."""
    items: list[Any] = []
    cursor = None
    for _ in range(10_000):
        page = read(cursor=cursor, **kwargs)
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        assert page.items, "a page with a next cursor holds items"
        cursor = page.next_cursor
    raise AssertionError("the pages never end")


def projects(wf: Workflow, scope: Scope = EVERYONE, **kwargs: Any) -> list[ProjectSummary]:
    kwargs.setdefault("now", NOW)
    return walk(wf.lists.list_projects, scope=scope, **kwargs)


def deadlines(wf: Workflow, scope: Scope = EVERYONE, **kwargs: Any) -> list[DeadlineItem]:
    kwargs.setdefault("now", NOW)
    return walk(wf.lists.deadlines, scope=scope, **kwargs)


def parties_in(engine: Any) -> list[tuple[int, str, str]]:
    found = rows(engine, select(party_t))
    return sorted((r["project_id"], r["relation"], r["org"]) for r in found)


def names(ids: dict[str, int], items: list[Any]) -> set[str]:
    by_id = {v: k for k, v in ids.items() if k.startswith("P")}
    return {by_id[i.id if isinstance(i, ProjectSummary) else i.project_id] for i in items}


# -- the overview, worked by hand ----------------------------------------------------------------


def test_the_overview_counts_what_the_world_holds(wf: Workflow, ids: dict[str, int]) -> None:
    o = wf.lists.overview(EVERYONE, now=NOW)

    assert o.by_state == {
        **{s.value: 0 for s in ProjectState},
        "draft": 1,
        "awarded": 1,
        "contracted": 2,
        "rectifying": 2,
        "terminated": 2,
    }
    assert o.projects == 8
    assert (o.open, o.overdue, o.escalated) == (17 + 4, 3, 3)  # R14: P3's and P6's trainings
    assert (o.overdue_working_days, o.worst_overdue_working_days) == (6 + 2 + 3, 6)
    assert (o.overdue_projects, o.provisional_projects) == (2, 1)
    # worst first: working days late, then overdue, escalated, open
    assert [(r.org, r.relation, r.open, r.overdue, r.escalated) for r in o.league] == [
        (A, "purchaser", 8 + 2, 2, 2),  # R14: P6's training#1, #2
        (X, "contractor", 4, 2, 2),
        (Y, "contractor", 13 + 4, 1, 1),  # R14: P3's and P6's
        (B, "purchaser", 4 + 2, 1, 1),  # R14: P3's
        (C, "purchaser", 5, 0, 0),
    ]
    assert [(r.overdue_working_days, r.worst_overdue_working_days) for r in o.league] == [
        (8, 6),
        (8, 6),
        (3, 3),
        (3, 3),
        (0, 0),
    ]
    assert o.league_total == 5
    assert o.due_soon_until.isoformat() == "2026-03-03"  # 02-26, 27, 28 (worked), 03-02, 03
    assert o.due_soon_count == 1
    [soon] = o.due_soon
    assert (soon.project_id, soon.key, soon.due.isoformat(), soon.working_days_left) == (
        ids["P6"],
        "rectification#1",
        "2026-03-02",
        4,
    )
    assert (soon.owner, soon.kind, soon.overdue, soon.provisional) == (
        "contractor",
        "rectification",
        False,
        False,
    )
    assert o.notices_failing == () and o.notices_failing_count == {
        "failed": 0,
        "dead": 0,
        "undeliverable": 0,
    }
    assert o.health == wf.health(NOW)
    assert o.to_dict()["league"][0] == {
        "org": A,
        "relation": "purchaser",
        "open": 8 + 2,
        "overdue": 2,
        "escalated": 2,
        "overdue_working_days": 8,
        "worst_overdue_working_days": 6,
    }


def test_overdue_is_counted_in_working_days_across_the_spring_festival(
    wf: Workflow, ids: dict[str, int]
) -> None:
    summary = {s.id: s for s in projects(wf)}
    p1, p3, p5 = summary[ids["P1"]], summary[ids["P3"]], summary[ids["P5"]]
    assert (p1.open_deadlines, p1.overdue, p1.worst_overdue_working_days) == (4, 2, 6)
    assert (p3.open_deadlines, p3.overdue, p3.worst_overdue_working_days) == (4 + 2, 1, 3)
    assert (p5.open_deadlines, p5.overdue, p5.provisional) == (5, 0, True)
    assert (p1.contractor, p1.purchaser, p1.state, p1.policy) == (
        X,
        A,
        "contracted",
        "dawukou-2019",
    )
    assert summary[ids["P2"]].contractor is None

    late = {(d.project_id, d.key): d for d in deadlines(wf, status="overdue")}
    assert {k: (d.late_working_days, d.working_days_left, d.stage) for k, d in late.items()} == {
        (ids["P1"], "dispatch"): (6, -6, "escalation_2"),
        (ids["P1"], "payment_1"): (2, -2, "escalation_1"),
        (ids["P3"], "rectification#1"): (3, -3, "escalation_1"),
    }
    # in the middle of the holiday only the days worked before it count: 02-11, 12, 13, 14
    during = {s.id: s for s in projects(wf, now=at("2026-02-20"))}
    assert during[ids["P1"]].worst_overdue_working_days == 4
    # met late: paid 01-20 for 01-13, five working days (01-14, 15, 16, 19, 20)
    [paid] = [d for d in deadlines(wf, status="met", project_id=ids["P6"]) if d.key == "payment_1"]
    assert (paid.late, paid.late_working_days, paid.working_days_left) == (True, 5, None)


def test_overdue_is_counted_in_working_days_across_national_day(wf: Workflow) -> None:
    # 2026: 09-25 (Mid-Autumn) and 10-01..07 off; Sunday 09-20 and Saturday 10-10 worked
    x = register(wf, X)
    pid = build(
        wf,
        A,
        "国庆前整改",
        "rectifying",
        contractor=x,
        signed="2026-04-20",
        effective="2026-04-20",
        dispatched="2026-04-27",
        paid="2026-05-06",
        rect_at="2026-09-21",
        rect_due="2026-09-29",
    )

    def seen(now: datetime) -> tuple[bool, int | None, int, int]:
        [d] = [d for d in deadlines(wf, project_id=pid, now=now) if d.key == "rectification#1"]
        worst = projects(wf, now=now)[0].worst_overdue_working_days
        return d.overdue, d.working_days_left, d.late_working_days, worst

    last_second = datetime(2026, 9, 29, 23, 59, 59, tzinfo=TZ)
    assert seen(last_second) == (False, 0, 0, 0)
    assert seen(last_second + timedelta(seconds=1)) == (True, -1, 1, 1)  # 09-30
    assert seen(at("2026-10-05")) == (True, -1, 1, 1)  # the holiday adds nothing
    # 09-30, 10-08, 10-09, 10-10 (worked Saturday), 10-12: 13 calendar days, 5 working days
    assert seen(at("2026-10-12")) == (True, -5, 5, 5)
    assert seen(at("2026-09-24")) == (False, 2, 0, 0)  # 09-28, 09-29 (09-25 is off)
    overview = wf.lists.overview(EVERYONE, now=at("2026-10-12"))
    assert (overview.overdue, overview.overdue_working_days) == (1, 5)


# -- scope ----------------------------------------------------------------------------------------


SCOPES = {
    "admin": (Scope.of("admin", "信息中心"), {"P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8"}),
    "contractor X": (Scope.of("contractor", X), {"P1", "P4", "P8"}),
    "contractor Y": (Scope.of("contractor", Y), {"P3", "P5", "P6"}),
    "supervisor 大武口区": (
        Scope.of("supervisor", "宁夏民政厅", ["大武口区"]),
        {"P1", "P2", "P3", "P6"},
    ),
    "supervisor 卧龙区": (Scope.of("supervisor", "某审计局", ["卧龙区"]), {"P4", "P5", "P7", "P8"}),
    "supervisor everywhere": (
        Scope.of("supervisor", "省厅", ["*"]),
        {"P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8"},
    ),
    "government 卧龙区": (Scope.of("government", "卧龙区人民政府"), {"P4", "P5", "P7", "P8"}),
    "finance 大武口区": (Scope.of("finance", "大武口区财政局"), {"P1", "P2", "P3", "P6"}),
    "purchaser B": (Scope.of("purchaser", B), {"P3"}),
    "a stranger": (Scope.of("purchaser", "无关单位"), set()),
    "nothing": (Scope(), set()),
}


def test_a_reader_sees_only_the_projects_of_its_scope(wf: Workflow, ids: dict[str, int]) -> None:
    for who, (scope, expected) in SCOPES.items():
        seen = projects(wf, scope)
        assert names(ids, seen) == expected, who
        with_deadlines = expected & {"P1", "P3", "P5", "P6", "P8"}
        assert names(ids, deadlines(wf, scope, status="all")) == with_deadlines, who
        notified = expected & {"P1", "P3"}  # the morning's tick
        assert names(ids, walk(wf.lists.notices, scope=scope, status="all")) == notified, who
        overview = wf.lists.overview(scope, now=NOW)
        assert overview.projects == len(expected), who
        assert {r.org for r in overview.league} == {
            org for p in seen if p.open_deadlines for org in (p.purchaser, p.contractor) if org
        }, who


def test_a_supervisors_region_matches_the_purchasers_name_from_its_start(
    wf: Workflow, ids: dict[str, int]
) -> None:
    # 星海 is in 大武口区星海镇人民政府 but does not start it; the contractor 星海… is no purchaser
    assert names(ids, projects(wf, Scope.of("supervisor", "某", ["星海"]))) == set()
    assert names(ids, projects(wf, Scope.of("supervisor", "某", ["大武口区星海镇"]))) == {"P3"}


def test_the_party_rows_are_the_projects_parties(wf: Workflow, ids: dict[str, int]) -> None:
    for name in ("P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8"):
        view = wf.project(ids[name])
        contractor = wf.contractor(view.contractor_id).name if view.contractor_id else None
        found = rows(wf.engine, select(party_t.c.org).where(party_t.c.project_id == view.id))
        assert {r["org"] for r in found} == project_parties(
            view.purchaser, contractor, view.data["supervisors"]
        )


def test_the_contractor_party_follows_award_and_reprocurement(wf: Workflow) -> None:
    x, y = register(wf, X), register(wf, Y)
    pid = build(
        wf,
        A,
        "换人项目",
        "in_service",
        contractor=x,
        signed="2025-09-26",
        effective="2025-09-26",
        dispatched="2025-10-20",
        paid="2025-10-20",
    )
    of_x, of_y = Scope.of("contractor", X), Scope.of("contractor", Y)
    assert [p.id for p in projects(wf, of_x)] == [pid] and projects(wf, of_y) == []

    wf.fire(pid, "remove_contractor", actor=CLERK, at=at("2025-12-01"), reason="擅自转包")
    assert [p.id for p in projects(wf, of_x)] == [pid]  # in takeover: still its project
    wf.fire(pid, "reprocure", actor=CLERK, at=at("2025-12-08"), reason="重新招标")
    assert projects(wf, of_x) == []
    wf.fire(
        pid, "publish_notice", actor=CLERK, at=at("2025-12-09"), method="open_tender", notice="再"
    )
    wf.fire(
        pid,
        "record_review",
        actor=CLERK,
        at=at("2025-12-20"),
        reviewers=["甲"],
        criteria={"quality": 70, "price": 30},
        scores={str(y): 90},
    )
    wf.fire(pid, "award", actor=CLERK, at=at("2025-12-22"), contractor_id=y)
    assert projects(wf, of_x) == [] and [p.id for p in projects(wf, of_y)] == [pid]
    assert [p.id for p in projects(wf, org=Y, relation="contractor")] == [pid]


def test_a_hosts_transaction_sees_its_own_project_and_its_rollback_leaves_no_party(
    wf: Workflow,
) -> None:
    with wf.engine.connect() as conn:
        trans = conn.begin()
        pid = wf.create_project(
            actor=CLERK,
            at=at("2025-07-30"),
            title="宿主事务中的项目",
            purchaser=A,
            budget="1000.00",
            items=ITEMS,
            connection=conn,
        )
        inside = wf.lists.list_projects(Scope.of("audit", "大武口区审计局"), connection=conn)
        assert [p.id for p in inside.items] == [pid]
        trans.rollback()
    assert projects(wf) == []
    assert rows(wf.engine, select(party_t)) == []


# -- filters ----------------------------------------------------------------------------------


def test_each_filter_of_the_project_list(wf: Workflow, ids: dict[str, int]) -> None:
    def only(**kwargs: Any) -> set[str]:
        return names(ids, projects(wf, **kwargs))

    assert only(state="rectifying") == {"P3", "P6"}
    assert only(state="terminated") == {"P7", "P8"}
    assert only(state="in_service") == set()
    assert only(org=A) == {"P1", "P2", "P6"}
    assert only(org=X) == {"P1", "P4", "P8"}
    assert only(org="大武口区人民政府") == {"P1", "P2", "P3", "P6"}  # the supervising government
    assert only(org=A, relation="purchaser") == {"P1", "P2", "P6"}
    assert only(org=A, relation="leader") == {"P1", "P2", "P6"}
    assert only(org=A, relation="contractor") == set()
    assert only(relation="contractor") == {"P1", "P3", "P4", "P5", "P6", "P8"}
    assert only(contractor_id=ids["Y"]) == {"P3", "P5", "P6"}
    assert only(policy="nanyang-2019") == {"P7"}
    assert only(overdue=True) == {"P1", "P3"}
    assert only(overdue=False) == {"P2", "P4", "P5", "P6", "P7", "P8"}
    assert only(provisional=True) == {"P5"}
    assert len(only(provisional=False)) == 7
    assert only(q="卧龙区") == {"P4", "P5", "P7", "P8"}
    assert only(q="核查") == {"P1"}
    assert only(q="%") == set()  # a plain character, not a wildcard
    assert only(q="_") == set()
    assert only(state="contracted", org=Y, overdue=False, provisional=True) == {"P5"}
    # overdue on another day: on 02-10 nothing was late yet
    assert names(ids, projects(wf, overdue=True, now=at("2026-02-10"))) == set()


def test_each_status_of_the_deadline_list(wf: Workflow, ids: dict[str, int]) -> None:
    def keys(**kwargs: Any) -> set[tuple[str, str]]:
        by_id = {v: k for k, v in ids.items()}
        return {(by_id[d.project_id], d.key) for d in deadlines(wf, **kwargs)}

    late = {("P1", "dispatch"), ("P1", "payment_1"), ("P3", "rectification#1")}
    assert keys(status="overdue") == late
    assert keys(status="escalated") == late
    assert keys(status="due_soon") == {("P6", "rectification#1")}
    assert len(keys(status="open")) == 17 + 4  # R14: P3's and P6's training#1, #2
    assert keys(status="met") == {
        (p, k) for p in ("P3", "P6") for k in ("dispatch", "payment_1")
    } | {(p, "training#0") for p in ("P1", "P3", "P5", "P6", "P8")}
    assert keys(status="cancelled") == {
        ("P8", k) for k in ("dispatch", "payment_1", "evaluation#1", "evaluation#2", "contract_end")
    }
    assert len(keys(status="all")) == 17 + 4 + 4 + 5 + 5
    assert keys(status="overdue", org=X) == {("P1", "dispatch"), ("P1", "payment_1")}
    assert keys(status="overdue", org=Y, relation="contractor") == {("P3", "rectification#1")}
    assert keys(status="open", kind="rectification") == {
        ("P3", "rectification#1"),
        ("P6", "rectification#1"),
    }
    assert keys(status="all", project_id=ids["P5"]) == {
        ("P5", k)
        for k in (
            "dispatch",
            "payment_1",
            "evaluation#1",
            "evaluation#2",
            "contract_end",
            "training#0",
        )
    }
    # in due order, ties by id; "-due" the other way round
    due = [d.due for d in deadlines(wf, status="open")]
    assert due == sorted(due)
    assert [d.id for d in deadlines(wf, status="open", sort="-due")] == [
        d.id for d in reversed(deadlines(wf, status="open"))
    ]
    [provisional] = [d for d in deadlines(wf, status="open") if d.provisional]
    assert (provisional.project_id, provisional.key) == (ids["P5"], "evaluation#2")
    assert provisional.to_dict()["provisional"] is True


# -- the overview's numbers are the lists' lengths -----------------------------------------------


def test_every_number_of_the_overview_is_the_length_of_its_list(
    wf: Workflow, ids: dict[str, int]
) -> None:
    for who in ("admin", "contractor Y", "supervisor 大武口区", "government 卧龙区"):
        numbers_are_lengths(wf, SCOPES[who][0])


def numbers_are_lengths(wf: Workflow, scope: Scope) -> None:
    o = wf.lists.overview(scope, now=NOW)

    def count(**kwargs: Any) -> int:
        return len(deadlines(wf, scope, limit=2, **kwargs))

    for state, n in o.by_state.items():
        assert n == len(projects(wf, scope, state=state, limit=1)), state
    assert o.projects == len(projects(wf, scope, limit=3))
    assert o.open == count(status="open")
    assert o.overdue == count(status="overdue")
    assert o.escalated == count(status="escalated")
    assert o.overdue_projects == len(projects(wf, scope, overdue=True))
    assert o.provisional_projects == len(projects(wf, scope, provisional=True))
    assert o.due_soon_count == count(status="due_soon")
    assert list(o.due_soon) == deadlines(wf, scope, status="due_soon")[: len(o.due_soon)]
    late = deadlines(wf, scope, status="overdue")
    assert o.overdue_working_days == sum(d.late_working_days for d in late)
    assert o.worst_overdue_working_days == max((d.late_working_days for d in late), default=0)
    for row in o.league:
        for status in ("open", "overdue", "escalated"):
            assert getattr(row, status) == count(**row.filters(status)), (row, status)
        late = deadlines(wf, scope, **row.filters("overdue"))
        assert row.overdue_working_days == sum(d.late_working_days for d in late)
        assert row.worst_overdue_working_days == max((d.late_working_days for d in late), default=0)
    for status, n in o.notices_failing_count.items():
        assert n == len(walk(wf.lists.notices, scope=scope, status=status, limit=1))


def test_failing_notices_are_listed_and_counted(
    wf: Workflow, ids: dict[str, int], db_url: str
) -> None:
    # tick sent P1's dispatch escalation_2 to 大武口区人民政府 (government), P1's payment_1
    # escalation_1 to 大武口区财政局 (head) and P3's rectification escalation_1 to its purchaser's
    # leader. Only the government is in the directory, on a channel that fails: that notice
    # fails (and is retried), the others have nobody to go to
    wf.directory.add(org="大武口区人民政府", role="government", name="王强", email="w@example.org")
    sender = Workflow.open(db_url, clock=wf.clock, channels=[RecordingChannel(fail_times=99)])
    try:
        sender.relay(NOW)
        statuses = {(n.project_id, n.deadline_key): n.status for n in wf.notices()}
        assert statuses == {
            (ids["P1"], "dispatch"): "failed",
            (ids["P1"], "payment_1"): "undeliverable",
            (ids["P3"], "rectification#1"): "undeliverable",
        }
        o = wf.lists.overview(EVERYONE, now=NOW)
        assert o.notices_failing_count == {"failed": 1, "dead": 0, "undeliverable": 2}
        newest_first = sorted((n.id for n in wf.notices()), reverse=True)
        assert [n.id for n in o.notices_failing] == newest_first
        failing = walk(wf.lists.notices, scope=EVERYONE, limit=1)
        assert [n.id for n in failing] == newest_first
        assert {(n.project_title, n.deadline_key, n.status) for n in failing} == {
            ("入户核查员服务", "dispatch", "failed"),
            ("入户核查员服务", "payment_1", "undeliverable"),
            ("星海镇社会救助服务", "rectification#1", "undeliverable"),
        }
        [failed] = walk(wf.lists.notices, scope=EVERYONE, status="failed")
        assert (failed.attempts, failed.recipients[0]["org"]) == (1, "大武口区人民政府")
        assert "recording channel told to fail" in (failed.last_error or "")
        # the contractor 卧龙 sees the notice about its own project only
        [own] = walk(wf.lists.notices, scope=Scope.of("contractor", Y))
        assert own.project_id == ids["P3"]
        assert wf.lists.notices(EVERYONE, status="sent").items == ()
        # retried until the policy gives up (six attempts): a dead letter
        for day in range(1, 8):
            sender.relay(NOW + timedelta(days=day))
        o = wf.lists.overview(EVERYONE, now=NOW)
        assert o.notices_failing_count == {"failed": 0, "dead": 1, "undeliverable": 2}
        assert [n.key for n in wf.lists.notices(EVERYONE, status="dead").items] == [failed.key]
    finally:
        sender.close()


# -- sorting and pages ----------------------------------------------------------------------------


TITLES = ("乙项目", "甲项目", "Alpha", "alpha", "甲项目")


def crowd(wf: Workflow) -> list[int]:
    """29 projects with many ties: three creation times, five titles (two alike), three
    states reached at shared times."""
    made = []
    for i in range(29):
        pid = wf.create_project(
            actor=CLERK,
            at=at("2025-07-2" + str(i % 3)),
            title=TITLES[i % 5],
            purchaser=A,
            budget="1000.00",
            items=ITEMS,
        )
        if i % 3 == 1:
            wf.fire(pid, "submit", actor=CLERK, at=at("2025-08-01"))
        elif i % 4 == 0:
            wf.fire(pid, "submit", actor=CLERK, at=at("2025-08-02"))
            wf.fire(pid, "review_budget", actor=FINANCE, at=at("2025-08-02"), approved=True)
            wf.fire(pid, "approve", actor=GOV, at=at("2025-08-02"))
        made.append(pid)
    return made


SORT_VALUE = {
    "updated": lambda p: p.updated_at,
    "created": lambda p: p.created_at,
    "title": lambda p: p.title,
    "state": lambda p: p.state,
    "id": lambda p: p.id,
}


def expected_order(items: list[ProjectSummary], sort: str) -> list[int]:
    key = SORT_VALUE[sort.lstrip("-")]
    ordered = sorted(items, key=lambda p: (key(p), p.id), reverse=sort.startswith("-"))
    return [p.id for p in ordered]


def test_every_sort_walks_every_project_once_in_order_through_ties(wf: Workflow) -> None:
    made = crowd(wf)
    everything = wf.lists.list_projects(EVERYONE, sort="id", limit=200).items
    assert [p.id for p in everything] == made
    # ties are there to be broken
    for key in ("updated", "created", "title", "state"):
        assert len({SORT_VALUE[key](p) for p in everything}) < len(made) / 3, key

    for sort in PROJECT_SORTS:
        for limit in (1, 4):
            walked = [p.id for p in projects(wf, sort=sort, limit=limit)]
            assert walked == expected_order(list(everything), sort), (sort, limit)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sort=st.sampled_from(PROJECT_SORTS),
    limit=st.integers(min_value=1, max_value=9),
    state=st.sampled_from([None, "draft", "pending_approval", "approved"]),
    q=st.sampled_from([None, "甲", "lpha", "Alpha"]),
)
def test_pages_under_any_filter_miss_and_repeat_nothing(
    wf: Workflow, sort: str, limit: int, state: str | None, q: str | None
) -> None:
    if not wf.lists.list_projects(EVERYONE, limit=1).items:
        crowd(wf)
    everything = wf.lists.list_projects(EVERYONE, sort="id", limit=200).items
    chosen = [p for p in everything if (state is None or p.state == state)]
    chosen = [p for p in chosen if q is None or q.lower() in p.title.lower()]

    walked = [p.id for p in projects(wf, sort=sort, limit=limit, state=state, q=q)]

    assert walked == expected_order(chosen, sort)


# -- refusals ---------------------------------------------------------------------------------


def refused(field: str, call: Callable[[], Any]) -> None:
    with pytest.raises(InvalidInput) as caught:
        call()
    assert caught.value.field == field
    assert caught.value.message_zh and caught.value.message_en


def test_bad_cursors_limits_and_choices_are_refused_naming_the_field(
    wf: Workflow, ids: dict[str, int]
) -> None:
    lists = wf.lists
    first = lists.list_projects(EVERYONE, limit=2, now=NOW)
    good = first.next_cursor
    assert good is not None and good.replace("-", "").replace("_", "").isalnum()
    assert lists.list_projects(EVERYONE, limit=2, cursor=good, now=NOW).items

    tampered = good[:-3] + ("A" if good[-3] != "A" else "B") + good[-2:]
    for cursor in ("", "garbage!", "%%%", "AAAA", tampered, good + "A", "x" * 5000):
        refused("cursor", lambda c=cursor: lists.list_projects(EVERYONE, cursor=c))
    refused("cursor", lambda: lists.list_projects(EVERYONE, cursor=123))  # type: ignore[arg-type]
    # a cursor is for the list and the order it was made for
    refused("cursor", lambda: lists.list_projects(EVERYONE, sort="title", cursor=good))
    refused("cursor", lambda: lists.deadlines(EVERYONE, cursor=good))
    refused("cursor", lambda: lists.notices(EVERYONE, cursor=good))
    # well formed, checksummed, but not what this order's cursor holds
    refused(
        "cursor",
        lambda: lists.list_projects(EVERYONE, cursor=encode_cursor("projects:-updated", "x", 1)),
    )

    # checksummed (the checksum is no secret), made for this order, but not what it holds
    for sort, forged in (
        ("-updated", encode_cursor("projects:-updated", "2026-01-01T00:00:00+00:00", 2**64)),
        ("-updated", encode_cursor("projects:-updated", "2026-01-01T00:00:00", 1)),  # naive
        ("-updated", encode_cursor("projects:-updated", 20260101, 1)),
        ("title", encode_cursor("projects:title", "a\x00b", 1)),
        ("id", encode_cursor("projects:id", 5, 5)),  # an id order's cursor holds no value
    ):
        refused("cursor", lambda c=forged, o=sort: lists.list_projects(EVERYONE, sort=o, cursor=c))
    assert lists.list_projects(EVERYONE, sort="id", cursor=encode_cursor("projects:id", None, 3))

    for limit in (0, 201, -1, True, "5", 2.0, None):
        refused("limit", lambda n=limit: lists.list_projects(EVERYONE, limit=n))
        refused("limit", lambda n=limit: lists.deadlines(EVERYONE, limit=n))
    for status in ("bogus", "OPEN", "", None):
        refused("status", lambda s=status: lists.deadlines(EVERYONE, status=s))
    refused("status", lambda: lists.notices(EVERYONE, status="lost"))
    refused("sort", lambda: lists.list_projects(EVERYONE, sort="budget"))
    refused("sort", lambda: lists.deadlines(EVERYONE, sort="title"))
    refused("state", lambda: lists.list_projects(EVERYONE, state="lost"))
    refused("relation", lambda: lists.list_projects(EVERYONE, relation="friend"))
    refused("kind", lambda: lists.deadlines(EVERYONE, kind="payment"))
    refused("overdue", lambda: lists.list_projects(EVERYONE, overdue="yes"))  # type: ignore[arg-type]
    refused("contractor_id", lambda: lists.list_projects(EVERYONE, contractor_id="1"))  # type: ignore[arg-type]
    refused("q", lambda: lists.list_projects(EVERYONE, q="a\nb"))
    refused("q", lambda: lists.list_projects(EVERYONE, q="长" * 201))
    refused("scope", lambda: lists.overview("admin"))  # type: ignore[arg-type]
    refused("at", lambda: lists.overview(EVERYONE, now=datetime(2026, 2, 25)))  # naive


def test_the_read_models_are_plain_json(wf: Workflow, ids: dict[str, int]) -> None:
    import json

    page = wf.lists.list_projects(EVERYONE, limit=3, now=NOW)
    as_json = json.loads(json.dumps(page.to_dict(), ensure_ascii=False))
    assert [p["id"] for p in as_json["items"]] == [p.id for p in page.items]
    assert as_json["next_cursor"] == page.next_cursor
    assert json.dumps(wf.lists.overview(EVERYONE, now=NOW).to_dict(), ensure_ascii=False)
    assert json.dumps(wf.lists.deadlines(EVERYONE, status="all", now=NOW).to_dict())
    assert isinstance(wf.lists, Lists)


# -- the migration --------------------------------------------------------------------------------


def test_the_migration_fills_the_parties_of_existing_projects(
    wf: Workflow, ids: dict[str, int], db_url: str
) -> None:
    before = parties_in(wf.engine)
    wf.close()
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            command.downgrade(schema.alembic_config(conn), "0003_users_and_inbox_ack")
    finally:
        engine.dispose()
    schema.upgrade(db_url)

    after = Workflow.open(db_url, clock=wf.clock)
    try:
        assert parties_in(after.engine) == before
        assert names(ids, projects(after, Scope.of("contractor", Y))) == {"P3", "P5", "P6"}
    finally:
        after.close()


FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "gpw-v0.1.0.db"


def test_projects_gpw_0_1_0_made_get_their_purchaser_and_contractor(
    db_path: Path, clock: Callable[[], datetime]
) -> None:
    # gpw 0.1.0 recorded no supervising bodies and no contractor name in a project's data: the
    # name comes from the register
    shutil.copyfile(FIXTURE, db_path)
    schema.upgrade(f"sqlite:///{db_path}")
    wf = Workflow.open(f"sqlite:///{db_path}", clock=clock)
    try:
        found = set(parties_in(wf.engine))
        assert found == {
            (pid, relation, org)
            for pid in (1, 2, 3)
            for relation, org in (("purchaser", A), ("contractor", X))
        }
        seen = projects(wf, Scope.of("contractor", X), now=at("2026-11-25"))
        assert sorted(p.id for p in seen) == [1, 2, 3]
    finally:
        wf.close()
