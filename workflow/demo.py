"""``gpw demo``: a Dawukou caseworker purchase walked through its whole lifecycle (R1–R13).

The timeline follows Dawukou's plan (R19): initiation in February, procurement in March, the
contract early in April, staff dispatched within 15 working days, tranches against evaluations.
Every step goes through the public facade, exactly as a host platform would call it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from states.deadlines import business_date
from states.enums import QUALIFICATIONS
from states.errors import GuardRefused
from states.model import Actor
from workflow.core import Workflow

TZ = ZoneInfo("Asia/Shanghai")

CLERK = Actor(id="zhang.min", role="purchaser", org="大武口区民政局", name="张敏")
FINANCE = Actor(id="li.cai", role="finance", org="大武口区财政局", name="李财")
GOVERNMENT = Actor(id="wang.qu", role="government", org="大武口区人民政府", name="王区长")
EVALUATOR = Actor(id="eval.co", role="evaluator", org="宁夏社会工作评估中心", name="评估中心")
CONTRACTOR = Actor(id="xinghai.sw", role="contractor", org="星海社会工作服务中心")

ALL = ["purchaser", "recipients", "third_party"]


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=TZ)


def run_demo(wf: Workflow, *, echo: Callable[[str], Any] = print, as_json: bool = False) -> int:
    """Run the demo on ``wf``; returns the project id."""
    log: list[dict[str, Any]] = []

    def show(step: str, pid: int) -> None:
        view = wf.project(pid)
        open_ = [
            f"{d.key}→{d.due}{'（暂定/provisional）' if d.provisional else ''}"
            for d in view.open_deadlines
        ]
        log.append(
            {
                "step": step,
                "state": view.state,
                "version": view.version,
                "open_deadlines": [d.to_dict() for d in view.open_deadlines],
            }
        )
        if not as_json:
            echo(f"[{view.state}] v{view.version}  {step}")
            if open_:
                echo("    期限 / open deadlines: " + "  ".join(open_))

    cid = wf.register_contractor(
        actor=CLERK,
        name="星海社会工作服务中心",
        org_type="social_organization",
        sme=False,
        qualifications=dict.fromkeys(QUALIFICATIONS, True),
        at=at("2026-02-02"),
    )
    pid = wf.create_project(
        actor=CLERK,
        title="2026年大武口区社会救助入户核查员服务",
        purchaser="大武口区民政局",
        budget="1200000.00",
        items=[
            {
                "name": "社会救助入户核查",
                "quantity": 16,
                "unit": "人",
                "standard": "大专及以上，熟练操作计算机",
            }
        ],
        at=at("2026-02-03"),
    )
    show("立项 create_project", pid)
    wf.fire(pid, "submit", actor=CLERK, at=at("2026-02-09"))
    wf.fire(
        pid,
        "review_budget",
        actor=FINANCE,
        at=at("2026-02-11"),
        approved=True,
        note="预算已纳入社会救助资金 / within the assistance budget",
    )
    wf.fire(pid, "approve", actor=GOVERNMENT, at=at("2026-02-26"))
    show("批准 approve (R1, R2)", pid)
    wf.fire(
        pid,
        "publish_notice",
        actor=CLERK,
        at=at("2026-03-02"),
        method="open_tender",
        notice="大武口区社会救助入户核查员服务公开招标公告",
    )
    wf.fire(
        pid,
        "record_review",
        actor=CLERK,
        at=at("2026-03-25"),
        reviewers=["专家甲", "专家乙", "专家丙"],
        criteria={"quality": 70, "price": 30},
        scores={str(cid): 91},
    )
    wf.fire(pid, "award", actor=CLERK, at=at("2026-03-27"), contractor_id=cid)
    show("确定承接主体 award (R4, R5)", pid)
    wf.fire(
        pid,
        "sign_contract",
        actor=CLERK,
        at=at("2026-04-03"),
        signed_on="2026-04-03",
        effective_on="2026-04-03",
        price="1152000.00",
        form="purchase",
        term_months=12,
        terms={
            "scope": "入户核查",
            "quantity": "16人",
            "quality": "按合同附件考核",
            "payment_schedule": "30/30/40",
            "rights_and_duties": "见合同第五条",
            "liability": "见合同第八条",
            "exit_mechanism": "临时接管预案",
        },
    )
    show("签订合同 sign_contract (R6)", pid)
    wf.fire(
        pid,
        "pay",
        actor=FINANCE,
        at=at("2026-04-17"),
        tranche=1,
        amount="345600.00",
        on="2026-04-17",
    )
    try:  # R7: the second tranche waits for a passed mid-term evaluation
        wf.fire(
            pid,
            "pay",
            actor=FINANCE,
            at=at("2026-04-20"),
            tranche=2,
            amount="345600.00",
            on="2026-04-20",
        )
    except GuardRefused as exc:
        if not as_json:
            echo(f"    拒绝 / refused: pay tranche 2 — {exc.message}")
    wf.fire(
        pid,
        "dispatch_staff",
        actor=CLERK,
        at=at("2026-04-22"),
        on="2026-04-22",
        staff=[{"name": f"核查员{i + 1:02d}", "education": "大专"} for i in range(16)],
    )
    show("拨付首期、人员派遣 pay 1, dispatch (R7, R8)", pid)
    wf.fire(
        pid,
        "evaluate",
        actor=EVALUATOR,
        at=at("2026-10-09"),
        kind="midterm",
        score=85,
        satisfaction=90,
        on="2026-10-09",
        evaluators=ALL,
    )
    show("中期评估 midterm evaluation (R10)", pid)
    wf.fire(
        pid,
        "pay",
        actor=FINANCE,
        at=at("2026-10-20"),
        tranche=2,
        amount="345600.00",
        on="2026-10-20",
    )
    show("拨付二期 pay 2 (R7)", pid)
    wf.fire(
        pid,
        "evaluate",
        actor=EVALUATOR,
        at=at("2027-03-26"),
        kind="final",
        score=88,
        satisfaction=92,
        on="2027-03-26",
        evaluators=ALL,
    )
    show("终期评估 final evaluation (R10)", pid)
    wf.fire(
        pid,
        "pay",
        actor=FINANCE,
        at=at("2027-04-01"),
        tranche=3,
        amount="460800.00",
        on="2027-04-01",
    )
    wf.fire(pid, "accept", actor=CLERK, at=at("2027-04-02"), on="2027-04-02")
    wf.fire(pid, "close", actor=CLERK, at=at("2027-04-06"))
    show("验收、结项 accept, close (R13)", pid)
    live = _live_projects(wf, cid)
    if not as_json:
        echo("")
        for lpid in live:
            view = wf.project(lpid)
            open_ = [f"{d.key}→{d.due}" for d in view.open_deadlines]
            echo(f"[{view.state}] v{view.version}  实时项目 live project #{lpid} {view.title}")
            echo("    期限 / open deadlines: " + "  ".join(open_))
    report = wf.verify()
    if as_json:
        echo(
            json.dumps(
                {"project_id": pid, "steps": log, "verify": report.to_dict()},
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        echo(f"留痕核验 verify: {'OK' if report.ok else 'ALTERED'} ({report.entries} 条 / entries)")
        echo(f"项目 / project {pid}: gpw project history {pid}")
    return pid


def _live_projects(wf: Workflow, contractor_id: int) -> list[int]:
    """Two projects signed relative to today, so the worker has notices to send right away:
    one whose dispatch deadline just passed, one whose reminder is due."""
    now = wf.clock()
    today = business_date(now)
    for org, role, name in [
        ("大武口区民政局", "purchaser", "张敏"),
        ("大武口区民政局", "leader", "刘局长"),
        ("大武口区财政局", "finance", "李财"),
        ("大武口区财政局", "head", "赵局长"),
        ("星海社会工作服务中心", "contractor", "陈主任"),
    ]:
        if not wf.directory.people(org=org, role=role):
            wf.directory.add(org=org, role=role, name=name)
    out = []
    for title, back in [
        ("人员派遣已逾期的项目 / dispatch overdue", 16),
        ("人员派遣即将到期的项目 / dispatch due soon", 12),
    ]:
        signed = wf.calendar.add_working_days(today, -back).date.isoformat()
        pid = wf.create_project(
            actor=CLERK,
            title=title,
            purchaser="大武口区民政局",
            budget="300000.00",
            items=[{"name": "入户核查", "quantity": 4}],
            at=now,
        )
        wf.fire(pid, "submit", actor=CLERK, at=now)
        wf.fire(pid, "review_budget", actor=FINANCE, at=now, approved=True)
        wf.fire(pid, "approve", actor=GOVERNMENT, at=now)
        wf.fire(
            pid,
            "publish_notice",
            actor=CLERK,
            at=now,
            method="single_source",
            notice="单一来源采购公示",
        )
        wf.fire(
            pid,
            "record_review",
            actor=CLERK,
            at=now,
            reviewers=["专家甲"],
            criteria={"quality": 80, "price": 20},
            scores={str(contractor_id): 88},
        )
        wf.fire(pid, "award", actor=CLERK, at=now, contractor_id=contractor_id)
        wf.fire(
            pid,
            "sign_contract",
            actor=CLERK,
            at=now,
            signed_on=signed,
            effective_on=signed,
            price="288000.00",
            form="purchase",
            term_months=12,
            terms={
                t: "见合同"
                for t in (
                    "scope",
                    "quantity",
                    "quality",
                    "payment_schedule",
                    "rights_and_duties",
                    "liability",
                    "exit_mechanism",
                )
            },
        )
        out.append(pid)
    return out
