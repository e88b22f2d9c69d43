"""``gpw demo``: a Dawukou caseworker purchase walked through its whole lifecycle (R1–R13).

The timeline follows Dawukou's plan (R19, 001 §七) one year back, so that every step lies in the
past: initiation in February 2025, procurement in March, the contract on 2025-04-03 (twelve
months, to 2026-04-02), the first tranche mid-April, staff dispatched late April, the mid-term
evaluation before the October holidays, the final one in March 2026, acceptance and closing at
the end of the term. The civil-affairs bureau leads each evaluation with the street offices and
the recipients (001 §八(二)).

Two more projects are signed relative to the workflow's clock (``wf.clock``), so that ``gpw
worker`` has notices to send at once: one whose dispatch deadline has just passed, one whose
reminder is due. Every step goes through the public facade, exactly as a host platform would call
it; nothing reads the real date except through the injected clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from states.deadlines import business_date
from states.enums import QUALIFICATIONS, DeadlineKind
from states.errors import GuardRefused, InvalidInput
from states.ladder import due_now, ladder
from states.model import Actor
from workflow.facade import Workflow

TZ = ZoneInfo("Asia/Shanghai")

CLERK = Actor(id="zhang.min", role="purchaser", org="大武口区民政局", name="张敏")
FINANCE = Actor(id="li.cai", role="finance", org="大武口区财政局", name="李财")
GOVERNMENT = Actor(id="wang.qu", role="government", org="大武口区人民政府", name="王区长")

#: Dawukou's evaluators: the bureau leads, street offices and recipients take part (001 §八(二))
EVALUATORS = ["purchaser", "street_office", "recipients"]
TERMS = {
    "scope": "入户核查",
    "quantity": "16人",
    "quality": "按合同附件考核",
    "payment_schedule": "30/30/40",
    "rights_and_duties": "见合同第五条",
    "liability": "见合同第八条",
    "exit_mechanism": "临时接管预案",
}


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=TZ)


def register_contractor(wf: Workflow, when: datetime) -> int:
    return wf.register_contractor(
        actor=CLERK,
        name="星海社会工作服务中心",
        org_type="social_organization",
        sme=False,
        qualifications=dict.fromkeys(QUALIFICATIONS, True),
        at=when,
    )


def procurement(contractor_id: int) -> list[tuple[Actor, str, dict[str, Any]]]:
    """立项 to award (R1–R5): (actor, event, data)."""
    return [
        (CLERK, "submit", {}),
        (FINANCE, "review_budget", {"approved": True, "note": "预算已纳入社会救助资金"}),
        (GOVERNMENT, "approve", {}),
        (
            CLERK,
            "publish_notice",
            {"method": "open_tender", "notice": "社会救助入户核查员服务公开招标公告"},
        ),
        (
            CLERK,
            "record_review",
            {
                "reviewers": ["专家甲", "专家乙", "专家丙"],
                "criteria": {"quality": 70, "price": 30},
                "scores": {str(contractor_id): 91},
            },
        ),
        (CLERK, "award", {"contractor_id": contractor_id}),
    ]


def walk_to_contracted(
    wf: Workflow, *, contractor_id: int, title: str, signed_on: str, price: str, when: datetime
) -> int:
    """A project drafted, approved, procured and signed on ``signed_on``, all recorded at
    ``when`` (not before ``signed_on``); returns its id (the demo's live projects and the
    benchmarks use it)."""
    pid = wf.create_project(
        actor=CLERK,
        title=title,
        purchaser="大武口区民政局",
        budget="1200000.00",
        items=[{"name": "社会救助入户核查", "quantity": 16, "unit": "人"}],
        at=when,
    )
    for actor, event, data in procurement(contractor_id):
        wf.fire(pid, event, actor=actor, at=when, **data)
    wf.fire(
        pid,
        "sign_contract",
        actor=CLERK,
        at=when,
        signed_on=signed_on,
        effective_on=signed_on,
        price=price,
        form="purchase",
        term_months=12,
        terms=TERMS,
    )
    return pid


#: the walkthrough after signing: (label shown after the step or None, actor, event, day, data)
SERVICE: list[tuple[str | None, Actor, str, str, dict[str, Any]]] = [
    (None, FINANCE, "pay", "2025-04-15", {"tranche": 1, "amount": "345600.00", "on": "2025-04-15"}),
    (
        "拨付首期、人员派遣 pay 1, dispatch (R7, R8)",
        CLERK,
        "dispatch_staff",
        "2025-04-23",
        {
            "on": "2025-04-23",
            "staff": [{"name": f"核查员{i + 1:02d}", "education": "大专"} for i in range(16)],
        },
    ),
    (
        "中期评估 midterm evaluation (R10)",
        CLERK,
        "evaluate",
        "2025-09-26",
        {
            "kind": "midterm",
            "score": 85,
            "satisfaction": 90,
            "on": "2025-09-26",
            "evaluators": EVALUATORS,
        },
    ),
    (
        "拨付二期 pay 2 (R7)",
        FINANCE,
        "pay",
        "2025-10-15",
        {"tranche": 2, "amount": "345600.00", "on": "2025-10-15"},
    ),
    (
        "终期评估 final evaluation (R10)",
        CLERK,
        "evaluate",
        "2026-03-20",
        {
            "kind": "final",
            "score": 88,
            "satisfaction": 92,
            "on": "2026-03-20",
            "evaluators": EVALUATORS,
        },
    ),
    (None, FINANCE, "pay", "2026-03-27", {"tranche": 3, "amount": "460800.00", "on": "2026-03-27"}),
    (None, CLERK, "accept", "2026-04-02", {"on": "2026-04-02"}),
    ("验收、结项 accept, close (R13)", CLERK, "close", "2026-04-03", {}),
]
#: the walk's first and last days: the clock must be past the last one (nothing is recorded in
#: the future)
WALK_STARTS, WALK_ENDS = "2025-02-05", SERVICE[-1][3]


def run_demo(wf: Workflow, *, echo: Callable[[str], Any] = print, as_json: bool = False) -> int:
    """Run the demo on ``wf``; returns the walked-through project's id.

    The live projects are placed relative to ``wf.clock()``, which must lie after the walk's
    last day (2026-04-03): inject a clock (``Workflow.open(..., clock=...)``) to replay the demo
    as of any later moment.
    """
    now = wf.clock()
    if business_date(now) <= date.fromisoformat(WALK_ENDS):
        raise InvalidInput(  # its steps would be records of the future (R15)
            f"演示流程截至 {WALK_ENDS}，时钟（{now.isoformat()}）须晚于该日：不记录未来的事",
            f"the demo's walk ends on {WALK_ENDS}: the clock ({now.isoformat()}) must be later, "
            "the future is not recorded",
            field="clock",
            rule="R15",
        )
    log: list[dict[str, Any]] = []

    def show(step: str, pid: int) -> None:
        view = wf.project(pid)
        log.append(
            {
                "step": step,
                "state": view.state,
                "version": view.version,
                "open_deadlines": [d.to_dict() for d in view.open_deadlines],
            }
        )
        if as_json:
            return
        echo(f"[{view.state}] v{view.version}  {step}")
        open_ = [
            f"{d.key}→{d.due}{'（暂定/provisional）' if d.provisional else ''}"
            for d in view.open_deadlines
        ]
        if open_:
            echo("    期限 / open deadlines: " + "  ".join(open_))

    cid = register_contractor(wf, at(WALK_STARTS))
    pid = wf.create_project(
        actor=CLERK,
        title="2025年大武口区社会救助入户核查员服务",
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
        at=at("2025-02-10"),
    )
    show("立项 create_project", pid)
    days = ["2025-02-12", "2025-02-17", "2025-02-20", "2025-03-03", "2025-03-25", "2025-03-27"]
    labels = {"approve": "批准 approve (R1, R2)", "award": "确定承接主体 award (R4, R5)"}
    for day, (actor, event, data) in zip(days, procurement(cid), strict=True):
        wf.fire(pid, event, actor=actor, at=at(day), **data)
        if event in labels:
            show(labels[event], pid)
    wf.fire(
        pid,
        "sign_contract",
        actor=CLERK,
        at=at("2025-04-03"),
        signed_on="2025-04-03",
        effective_on="2025-04-03",
        price="1152000.00",
        form="purchase",
        term_months=12,
        terms=TERMS,
    )
    show("签订合同 sign_contract (R6)", pid)
    for label, actor, event, day, data in SERVICE:
        wf.fire(pid, event, actor=actor, at=at(day), **data)
        if event == "pay" and data["tranche"] == 1:
            try:  # R7: the second tranche waits for a passed mid-term evaluation
                wf.fire(
                    pid,
                    "pay",
                    actor=FINANCE,
                    at=at("2025-04-16"),
                    tranche=2,
                    amount="345600.00",
                    on="2025-04-16",
                )
            except GuardRefused as exc:
                if not as_json:
                    echo(f"    拒绝 / refused: pay tranche 2 — {exc.message}")
        if label:
            show(label, pid)
    live = _live_projects(wf, cid)
    if not as_json:
        echo("")
        for lpid in live:
            view = wf.project(lpid)
            echo(f"[{view.state}] v{view.version}  实时项目 live project #{lpid} {view.title}")
            echo(
                "    期限 / open deadlines: "
                + "  ".join(
                    f"{d.key}→{d.due}{'（暂定/provisional）' if d.provisional else ''}"
                    for d in view.open_deadlines
                )
            )
    report = wf.verify()
    if as_json:
        echo(
            json.dumps(
                {
                    "project_id": pid,
                    "live_projects": live,
                    "steps": log,
                    "verify": report.to_dict(),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        echo(f"留痕核验 verify: {'OK' if report.ok else 'ALTERED'} ({report.entries} 条 / entries)")
        echo(f"项目 / project {pid}: gpw project history {pid}")
    return pid


def _live_projects(wf: Workflow, contractor_id: int) -> list[int]:
    """Two projects signed relative to the clock, so the worker has notices to send right away:
    one whose dispatch deadline has just passed (its overdue notice is due), one whose reminder
    is due. Real titles: a notice names its project."""
    now = wf.clock()
    for org, role, name in [
        ("大武口区民政局", "purchaser", "张敏"),
        ("大武口区民政局", "leader", "刘局长"),
        ("大武口区财政局", "finance", "李财"),
        ("大武口区财政局", "head", "赵局长"),
        ("星海社会工作服务中心", "contractor", "陈主任"),
    ]:
        if not wf.directory.people(org=org, role=role):
            wf.directory.add(org=org, role=role, name=name)
    live = []
    for place, stage in [("星海镇", "overdue"), ("长胜街道", "reminder")]:
        signed = _signed_on(wf, now, stage)
        live.append(
            walk_to_contracted(
                wf,
                contractor_id=contractor_id,
                title=f"{signed.year}年{place}社会救助入户核查服务",
                when=at(signed.isoformat()),
                signed_on=signed.isoformat(),
                price="288000.00",
            )
        )
    return live


def _signed_on(wf: Workflow, now: datetime, stage: str) -> date:
    """The latest signing day, before today, whose dispatch deadline (R8) has ``stage`` as the
    most severe notice due at ``now``, whatever the hour or the day of the week."""
    calendar = wf.calendar.current()
    policy = wf.policy
    today = business_date(now)
    for back in range(1, 60):
        signed = calendar.add_working_days(today, -back).date
        if at(signed.isoformat()) > now:
            continue
        due = calendar.add_working_days(signed, policy.dispatch_window_working_days).date
        sent = due_now(ladder(DeadlineKind.DISPATCH.value, due, policy, calendar), -1, now)
        if sent and sent[-1].stage == stage:
            return signed
    raise AssertionError(f"没有签订日能使 {stage} 到期 / no signing day makes {stage} due")
