"""The overview's R18 shares and R19 slips, from the facts the events keep (issue #10), on SQLite
and PostgreSQL; and R18's floor over a purchaser's plans of the year through the engine.

Hand-worked on 2026's calendar (清明 04-04..06 off): seen on Wed 2026-04-08, Dawukou's planned
timeline (001 §七: 立项 February, 组织购买 March, 签订合同 early April, 资金拨付 mid-April,
人员派遣 late April) gives

* S1, created 02-10, no procurement notice yet: March's window closed on 03-31; 04-01, 02, 03, 07,
  08: 5 working days overdue (组织购买);
* S3, created 02-12, notice published 04-07: done 4 working days late (04-01, 02, 03, 07); the
  contract's window (04-01..10) is not over: 4;
* S2, created 02-10, notice 03-20, signed 03-31 (before its window: early), first payment due in
  mid-April: nothing slips, not listed;
* S5, created 2025-11-03 in 2025: every 2025 window is long past, its notice overdue since
  2025-03-31: first;
* a Nanyang project (no planned timeline) and a terminated 2025 project: not listed.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from dbtools import rows
from sqlalchemy import select
from support import CLERK, FINANCE, GOV, QUALIFIED, TERMS, at

from states.errors import GuardRefused
from states.model import Actor
from workflow import Workflow, schema
from workflow.services.scope import Scope
from workflow.tables import fact_t, project_t

NOW = at("2026-04-08", 12)
JILIN_CLERK = Actor(id="j", role="purchaser", org="吉林某县民政局")
JILIN_GOV = Actor(id="jg", role="government", org="吉林某县人民政府")
JILIN_FIN = Actor(id="jf", role="finance", org="吉林某县财政局")
JILIN = {"government": "吉林某县人民政府", "finance": "吉林某县财政局", "audit": "吉林某县审计局"}
FUNDS = "100000000.00"


def plan(wf: Workflow, title: str, created: str, **kw: Any) -> int:
    data: dict[str, Any] = {
        "actor": CLERK,
        "at": at(created),
        "title": title,
        "purchaser": "大武口区民政局",
        "budget": "1200000.00",
        "items": [{"name": "入户核查", "quantity": 1}],
    }
    data.update(kw)
    return int(wf.create_project(**data))


def approved(wf: Workflow, pid: int, day: str) -> None:
    wf.fire(pid, "submit", actor=CLERK, at=at(day))
    wf.fire(pid, "review_budget", actor=FINANCE, at=at(day), approved=True)
    wf.fire(pid, "approve", actor=GOV, at=at(day))


def world(wf: Workflow) -> dict[str, int]:
    ids: dict[str, int] = {}
    ids["S1"] = plan(wf, "未发公告", "2026-02-10")
    approved(wf, ids["S1"], "2026-02-24")
    ids["S2"] = plan(wf, "按计划推进", "2026-02-10")
    approved(wf, ids["S2"], "2026-02-24")
    cid = wf.register_contractor(
        actor=CLERK,
        at=at("2026-01-05"),
        name="星海社会工作服务中心",
        org_type="social_organization",
        qualifications=QUALIFIED,
    )
    fire = lambda ev, who, day, **d: wf.fire(ids["S2"], ev, actor=who, at=at(day), **d)  # noqa: E731
    fire("publish_notice", CLERK, "2026-03-20", method="open_tender", notice="公告")
    fire(
        "record_review",
        CLERK,
        "2026-03-27",
        reviewers=["甲"],
        criteria={"quality": 70, "price": 30},
        scores={str(cid): 90},
    )
    fire("award", CLERK, "2026-03-30", contractor_id=cid)
    fire(
        "sign_contract",
        CLERK,
        "2026-03-31",
        signed_on="2026-03-31",
        effective_on="2026-04-01",
        price="1000000.00",
        form="purchase",
        term_months=12,
        terms=TERMS,
    )
    ids["S3"] = plan(wf, "公告迟发", "2026-02-12")
    approved(wf, ids["S3"], "2026-02-24")
    wf.fire(
        ids["S3"],
        "publish_notice",
        actor=CLERK,
        at=at("2026-04-07"),
        method="open_tender",
        notice="公告",
    )
    ids["S5"] = plan(wf, "去年立项", "2025-11-03")
    ids["N"] = plan(
        wf,
        "南阳项目",
        "2026-02-10",
        policy="nanyang-2019",
        purchaser="大武口区民政局",
        supervisors={
            "government": "大武口区人民政府",
            "finance": "大武口区财政局",
            "audit": "审计",
        },
    )
    ids["T"] = plan(wf, "已终止", "2025-11-03")
    wf.fire(ids["T"], "terminate", actor=CLERK, at=at("2025-11-04"), reason="预算调整")
    return ids


def test_R19_the_overview_lists_the_projects_slipping_most(wf: Workflow) -> None:
    ids = world(wf)
    o = wf.lists.overview(Scope.all(), now=NOW)
    by_id = {v: k for k, v in ids.items()}
    slips = [(by_id[r.project_id], r.step, r.status, r.slip_working_days) for r in o.slipping]
    year_late = wf.calendar.current().working_days_between(date(2025, 3, 31), date(2026, 4, 8))
    assert year_late == 253
    assert slips == [
        ("S5", "notice_published", "overdue", year_late),
        ("S1", "notice_published", "overdue", 5),
        ("S3", "notice_published", "late", 4),
    ]
    assert o.to_dict()["slipping"][1] == {
        "project_id": ids["S1"],
        "title": "未发公告",
        "purchaser": "大武口区民政局",
        "state": "approved",
        "step": "notice_published",
        "status": "overdue",
        "slip_working_days": 5,
        "rule": "R19",
    }
    # the project page says the same of each (its plan against actual, from the trail)
    for key, step, status, slip in slips:
        page = wf.details.project_detail(ids[key], Scope.all(), now=NOW).plan_vs_actual
        line = next(s for s in page.steps if s.milestone == step)
        assert (line.status, line.slip_working_days) == (status, slip), key
    # once S1 publishes its notice, it slipped 5 (done late), the contract's window not over
    wf.fire(ids["S1"], "publish_notice", actor=CLERK, at=NOW, method="open_tender", notice="公告")
    again = wf.lists.overview(Scope.all(), now=NOW).slipping
    assert [(by_id[r.project_id], r.status, r.slip_working_days) for r in again][1] == (
        "S1",
        "late",
        5,
    )
    # a reader sees only its own scope's: by party (the government), by purchaser name (a region)
    assert wf.lists.overview(Scope.of("purchaser", "卧龙区民政局"), now=NOW).slipping == ()
    government = Scope.of("government", "大武口区人民政府")
    assert [r.project_id for r in wf.lists.overview(government, now=NOW).slipping] == [
        ids["S5"],
        ids["S1"],
        ids["S3"],
    ]
    region = Scope.of("supervisor", "自治区民政厅", ["大武口区"])
    assert len(wf.lists.overview(region, now=NOW).slipping) == 3


def jilin_plan(wf: Workflow, budget: str, created: str, funds: str | None = FUNDS) -> int:
    return plan(
        wf,
        f"吉林购买服务 {budget}",
        created,
        purchaser=JILIN_CLERK.org,
        actor=JILIN_CLERK,
        budget=budget,
        supervisors=JILIN,
        policy="jilin-2017",
        **({"assistance_funds": funds} if funds else {}),
    )


def submitted(wf: Workflow, pid: int, day: str) -> None:
    wf.fire(pid, "submit", actor=JILIN_CLERK, at=at(day))
    wf.fire(pid, "review_budget", actor=JILIN_FIN, at=at(day), approved=True)


def test_R18_the_floor_counts_the_purchaser_s_plans_of_the_year(wf: Workflow) -> None:
    wf.register_policy("jilin-2017")
    small = jilin_plan(wf, "400000.00", "2026-02-02")
    submitted(wf, small, "2026-02-03")
    # alone, 400,000 is 0.4 % of the funds: refused, and nothing written
    version = wf.project(small).version
    with pytest.raises(GuardRefused) as err:
        wf.fire(small, "approve", actor=JILIN_GOV, at=at("2026-02-04"))
    assert (err.value.rule, err.value.field) == ("R18", "budget")
    assert wf.project(small).version == version
    # a draft, a plan of 2025 and a terminated one do not count
    jilin_plan(wf, "900000.00", "2026-02-02")
    last_year = jilin_plan(wf, "900000.00", "2025-12-30")
    submitted(wf, last_year, "2025-12-31")
    dropped = jilin_plan(wf, "900000.00", "2026-02-02")
    submitted(wf, dropped, "2026-02-03")
    wf.fire(dropped, "terminate", actor=JILIN_CLERK, at=at("2026-02-04"), reason="合并")
    with pytest.raises(GuardRefused):
        wf.fire(small, "approve", actor=JILIN_GOV, at=at("2026-02-04"))
    # a second plan of 2026 submitted for 600,000: together 1 %, both approved
    large = jilin_plan(wf, "600000.00", "2026-02-05")
    submitted(wf, large, "2026-02-05")
    assert wf.fire(small, "approve", actor=JILIN_GOV, at=at("2026-02-06")).state == "approved"
    assert wf.fire(large, "approve", actor=JILIN_GOV, at=at("2026-02-06")).state == "approved"

    [share] = wf.lists.overview(Scope.all(), now=at("2026-02-06", 12)).budget_shares
    assert (share.purchaser, share.year, share.plans) == (JILIN_CLERK.org, 2026, 2)
    assert (share.budgets, share.funds, share.percent) == (
        Decimal("1000000.00"),
        Decimal(FUNDS),
        Decimal("1.00"),
    )
    assert not share.funds_differ
    assert share.to_dict()["percent"] == "1.00" and share.to_dict()["rule"] == "R18"
    # 2025's share is 2025's: 900,000 of 100,000,000
    [before] = wf.lists.overview(Scope.all(), now=at("2025-12-31", 12)).budget_shares
    assert (before.year, before.plans, before.percent) == (2025, 1, Decimal("0.90"))
    # a supervisor of the purchasers named 吉林… sees it; a reader outside sees nothing of it
    region = Scope.of("supervisor", "吉林省民政厅", ["吉林"])
    assert [s.purchaser for s in wf.lists.overview(region, now=NOW).budget_shares] == [
        JILIN_CLERK.org
    ]
    assert wf.lists.overview(Scope.of("purchaser", "大武口区民政局"), now=NOW).budget_shares == ()


def test_R18_a_plan_without_funds_is_refused_naming_them_then_revised(wf: Workflow) -> None:
    wf.register_policy("jilin-2017")
    pid = jilin_plan(wf, "2000000.00", "2026-02-02", funds=None)
    submitted(wf, pid, "2026-02-03")
    with pytest.raises(GuardRefused) as err:
        wf.fire(pid, "approve", actor=JILIN_GOV, at=at("2026-02-04"))
    assert (err.value.rule, err.value.field) == ("R18", "assistance_funds")
    wf.fire(pid, "reject", actor=JILIN_GOV, at=at("2026-02-04"), reason="请写明专项经费")
    wf.fire(pid, "revise_plan", actor=JILIN_CLERK, at=at("2026-02-05"), assistance_funds=FUNDS)
    submitted(wf, pid, "2026-02-05")
    assert wf.fire(pid, "approve", actor=JILIN_GOV, at=at("2026-02-06")).state == "approved"
    assert wf.history(pid)[0].data.get("assistance_funds") is None  # stated later, by revision
    assert wf.project(pid).data["assistance_funds"] == FUNDS


def test_the_facts_follow_the_events(wf: Workflow, db_url: str) -> None:
    ids = world(wf)
    found = {r["project_id"]: r for r in rows(db_url, select(fact_t).order_by(fact_t.c.project_id))}
    assert set(found) == set(ids.values())
    s2 = found[ids["S2"]]
    assert (s2["state"], s2["active"], s2["counted"], s2["year"]) == (
        "contracted",
        True,
        True,
        2026,
    )
    assert (s2["created_on"], s2["notice_on"], s2["signed_on"]) == (
        date(2026, 2, 10),
        date(2026, 3, 20),
        date(2026, 3, 31),
    )
    assert (s2["plan_to"], s2["open_step"], s2["done_slip"]) == (
        date(2026, 4, 20),
        "first_payment",
        None,
    )
    assert found[ids["T"]]["active"] is False and found[ids["T"]]["counted"] is False
    assert found[ids["S1"]]["budget_cents"] == 120000000
    assert found[ids["N"]]["plan_to"] is None  # Nanyang states no planned timeline


def test_the_upgrade_fills_the_facts_of_an_older_database(db_path: Path) -> None:
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "gpw-v0.1.0.db"
    shutil.copyfile(fixture, db_path)
    url = f"sqlite:///{db_path}"
    schema.upgrade(url)
    projects = rows(url, select(project_t.c.id, project_t.c.data, project_t.c.created_at))
    facts = {r["project_id"]: r for r in rows(url, select(fact_t))}
    assert set(facts) == {p["id"] for p in projects}
    wf = Workflow.open(url, clock=lambda: datetime(2031, 1, 1, tzinfo=NOW.tzinfo))
    try:
        for p in projects:
            fact = facts[p["id"]]
            assert fact["budget_cents"] == int(Decimal(p["data"]["budget"]) * 100)
            page = wf.details.project_detail(p["id"], Scope.all()).plan_vs_actual
            columns = {
                "created": "created_on",
                "notice_published": "notice_on",
                "contract_signed": "signed_on",
                "first_payment": "paid_on",
                "staff_dispatched": "dispatched_on",
            }
            for line in page.steps:  # the migration read the trail as the project page does
                assert fact[columns[line.milestone]] == line.actual, (p["id"], line)
        assert wf.verify().ok
    finally:
        wf.close()
