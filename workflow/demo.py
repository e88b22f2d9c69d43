"""``gpw demo`` and the data ``make run`` seeds: a district's purchases at every stage (R1–R20).

Sixteen projects, every date placed relative to the workflow's clock (``wf.db.now()``), so the
demo looks live whatever day it runs and is the same for the same clock:

* Dawukou's 16-caseworker purchase (bureau 3, 星海镇 2, 人民路街道 2, nine streets 1 each: R17,
  001 §三(二)) twice: last cycle's walked from 立项 to 结项 (printed step by step, R19's order:
  plan, procurement, contract, first tranche, dispatch, mid-term, final, acceptance), and this
  cycle's in service, its second evaluation and term reaching into next year (暂定 while that
  year's schedule is unpublished);
* a dozen more at every other state (draft … terminated) for the bureau, 星海镇 and seven street
  offices, one Nanyang project (three years, its own supervising bodies) and one Shanghai one
  (30/70 tranches, one final evaluation); a small enterprise (R20); subcontract requests approved,
  rejected and pending (R9); deadlines overdue by a few working days whose notices were escalated
  (dispatch, a payment, an evaluation, a rectification); one project taken over after two low
  half-yearly reviews (R11 removes the contractor by itself), one terminated with a ban (R12);
* two projects whose notices fall due at the clock's now: the worker sends them at once.

Every step goes through the facade as a host platform would call it (``wf.fire``: the guards
judge each one; nothing is written in SQL). The notice ladder is replayed as it would have run:
``wf.tick`` and ``wf.relay`` at each past instant a stage fell due, so the outbox, the inbox and
the deliveries hold the reminders, overdue notices and escalations sent on their days (the
directory has a person for every organisation and role a notice addresses). Last, the web
dashboard gets one demo login per role and organisation (:data:`DEMO_USERS`, password
:data:`DEMO_PASSWORD`, through ``wf.users``).
"""

from __future__ import annotations

import heapq
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher

from states.calendar import WorkingDayCalendar
from states.deadlines import add_months, business_date
from states.enums import QUALIFICATIONS
from states.errors import GuardRefused
from states.ladder import ladder
from states.model import Actor
from states.policy import DEFAULT_POLICY, load_policy
from workflow.facade import Workflow
from workflow.views import ProjectView

TZ = ZoneInfo("Asia/Shanghai")

#: the password of every demo login (``gpw demo`` prints it with the logins)
DEMO_PASSWORD = "demo-2026"

# -- organisations ------------------------------------------------------------------------------

BUREAU = "大武口区民政局"
FINANCE_BUREAU = "大武口区财政局"
DISTRICT = "大武口区人民政府"
AUDIT_BUREAU = "大武口区审计局"
TOWN = "大武口区星海镇人民政府"


def street(name: str) -> str:
    """A street office of 大武口区 (its name starts with the district's: Dawukou's supervising
    bodies apply to it, and a supervisor of 大武口区 reads its projects)."""
    return f"大武口区{name}街道办事处"


NANYANG = {"government": "南阳市卧龙区人民政府", "finance": "南阳市卧龙区财政局"}
NANYANG_SUPERVISORS = {**NANYANG, "audit": "南阳市卧龙区审计局"}
NANYANG_BUREAU = "南阳市卧龙区民政局"
SHANGHAI_SUPERVISORS = {
    "government": "上海市浦东新区人民政府",
    "finance": "上海市浦东新区财政局",
    "audit": "上海市浦东新区审计局",
}
SHANGHAI_BUREAU = "上海市浦东新区民政局"

#: the contractors: (name, org_type, sme)
XINGHAI = "星海社会工作服务中心"
HUIMIN = "石嘴山市惠民社会工作服务社"
ANKANG = "宁夏安康养老服务有限公司"
KANGNING = "石嘴山市康宁护理服务中心"
SUDA = "石嘴山市速达家政服务有限公司"
RENHE = "南阳市卧龙区仁和社会工作服务中心"
MINGDE = "上海市浦东新区明德社会工作服务社"
CONTRACTORS: list[tuple[str, str, bool]] = [
    (XINGHAI, "social_organization", False),
    (HUIMIN, "social_organization", False),
    (ANKANG, "enterprise", True),
    (KANGNING, "social_organization", False),
    (SUDA, "enterprise", True),
    (RENHE, "social_organization", False),
    (MINGDE, "social_organization", False),
]

# -- who acts (an actor's id is the demo login where there is one) -------------------------------

CLERK = Actor(id="minzheng", role="purchaser", org=BUREAU, name="张敏")
FINANCE = Actor(id="caizheng", role="finance", org=FINANCE_BUREAU, name="李财")
GOVERNMENT = Actor(id="zhengfu", role="government", org=DISTRICT, name="王区长")
TOWN_CLERK = Actor(id="xinghaizhen", role="purchaser", org=TOWN, name="马丽")
EVALUATOR = Actor(id="pingjia", role="evaluator", org="石嘴山市社会组织评估中心", name="吴评")
NY_CLERK = Actor(id="wolong", role="purchaser", org=NANYANG_BUREAU, name="赵静")
NY_FINANCE = Actor(id="wolong.caizheng", role="finance", org=NANYANG["finance"], name="孙会计")
NY_GOVERNMENT = Actor(id="wolong.zhengfu", role="government", org=NANYANG["government"])
SH_CLERK = Actor(id="pudong", role="purchaser", org=SHANGHAI_BUREAU, name="陆佳")
SH_FINANCE = Actor(id="pudong.caizheng", role="finance", org=SHANGHAI_SUPERVISORS["finance"])
ADMIN = Actor(id="admin", role="admin", org="gpw 运维", name="管理员")
SH_GOVERNMENT = Actor(
    id="pudong.zhengfu", role="government", org=SHANGHAI_SUPERVISORS["government"]
)


def street_clerk(name: str, login: str, person: str) -> Actor:
    return Actor(id=login, role="purchaser", org=street(name), name=person)


def contractor(name: str, login: str, person: str = "") -> Actor:
    return Actor(id=login, role="contractor", org=name, name=person)


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

#: R17 (001 §三(二)): Dawukou's 16 caseworkers by office
OFFICES: list[tuple[str, int]] = [
    ("区民政局", 3),
    ("星海镇", 2),
    ("人民路街道", 2),
    *(
        (name, 1)
        for name in (
            "朝阳街道",
            "青山街道",
            "长城街道",
            "长胜街道",
            "长兴街道",
            "锦林街道",
            "沟口街道",
            "石炭井街道",
            "白芨沟街道",
        )
    ),
]
CASEWORKER_STANDARD = "大专及以上，熟练操作计算机"


def caseworker_items() -> list[dict[str, Any]]:
    """The 16-caseworker plan: one service item per office (R17)."""
    return [
        {
            "name": "社会救助入户核查",
            "quantity": quantity,
            "unit": "人",
            "standard": CASEWORKER_STANDARD,
            "office": office,
            "staffing": True,  # R17: staff posts, covered by the dispatch office by office
        }
        for office, quantity in OFFICES
    ]


def caseworkers() -> list[dict[str, str]]:
    """The 16 caseworkers dispatched, each to the office the plan names (R17)."""
    people = [office for office, quantity in OFFICES for _ in range(quantity)]
    return [
        {"name": f"核查员{i + 1:02d}", "education": "大专", "office": office}
        for i, office in enumerate(people)
    ]


def at(day: str | date, hour: int = 10) -> datetime:
    """``day`` at ``hour`` o'clock, Asia/Shanghai."""
    d = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime.combine(d, time(hour), tzinfo=TZ)


def register_contractor(
    wf: Workflow,
    when: datetime,
    *,
    name: str = XINGHAI,
    org_type: str = "social_organization",
    sme: bool = False,
    actor: Actor = CLERK,
) -> int:
    """Register a contractor meeting the nine R4 conditions; returns its id."""
    return wf.register_contractor(
        actor=actor,
        name=name,
        org_type=org_type,
        sme=sme,
        qualifications=dict.fromkeys(QUALIFICATIONS, True),
        at=when,
    )


def procurement(
    contractor_id: int,
    *,
    clerk: Actor = CLERK,
    finance: Actor = FINANCE,
    government: Actor = GOVERNMENT,
    method: str = "open_tender",
    notice: str = "社会救助入户核查员服务公开招标公告",
    scores: dict[int, int] | None = None,
) -> list[tuple[Actor, str, dict[str, Any]]]:
    """立项 to award (R1–R5): (actor, event, data)."""
    return [
        (clerk, "submit", {}),
        (finance, "review_budget", {"approved": True, "note": "预算已纳入社会救助资金"}),
        (government, "approve", {}),
        (clerk, "publish_notice", {"method": method, "notice": notice}),
        (
            clerk,
            "record_review",
            {
                "reviewers": ["专家甲", "专家乙", "专家丙"],
                "criteria": {"quality": 70, "price": 30},
                "scores": {str(k): v for k, v in (scores or {contractor_id: 91}).items()},
            },
        ),
        (clerk, "award", {"contractor_id": contractor_id}),
    ]


def walk_to_contracted(
    wf: Workflow, *, contractor_id: int, title: str, signed_on: str, price: str, when: datetime
) -> int:
    """A project drafted, approved, procured and signed on ``signed_on``, all recorded at
    ``when`` (not before ``signed_on``); returns its id (the benchmarks use it)."""
    pid = wf.create_project(
        actor=CLERK,
        title=title,
        purchaser=CLERK.org,
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


# -- the plans: what happens to each project, on which day ---------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One event of a plan: fired at ``day`` ``hour`` o'clock. ``label``: printed after it (the
    walked project); ``refused``: the guards must refuse it (shown, nothing written)."""

    day: date
    actor: Actor
    event: str
    data: dict[str, Any]
    label: str | None = None
    refused: bool = False
    hour: int = 10


@dataclass(slots=True)
class Plan:
    """One demo project: its plan (立项) and the events that follow, day by day."""

    key: str
    title: str
    clerk: Actor
    budget: str
    items: list[dict[str, Any]]
    created: date
    #: what the project shows, Chinese then English (printed and in the JSON)
    shows: str
    policy: str | None = None
    supervisors: dict[str, str] | None = None
    steps: list[Step] = field(default_factory=list)
    label: str | None = None
    #: the hour of the plan's creation
    hour: int = 10

    def add(
        self,
        day: date,
        actor: Actor,
        event: str,
        label: str | None = None,
        refused: bool = False,
        hour: int = 10,
        **data: Any,
    ) -> None:
        if event == "dispatch_staff" and not refused and self._trains_before_duty():
            # R14: the staff are trained before duty (Dawukou 001 §六), everyone dispatched
            training = {
                "on": data.get("on", day.isoformat()),
                "topic": "岗前培训：社会救助政策与入户核查流程",
                "attendees": len(data.get("staff", ())) or 1,
                "hours": "8",
            }
            self.steps.append(Step(day, actor, "record_training", training, None, False, hour))
        self.steps.append(Step(day, actor, event, data, label, refused, hour))

    def _trains_before_duty(self) -> bool:
        return load_policy(self.policy or DEFAULT_POLICY).training_before_duty


class Days:
    """Dates relative to the clock, on the workflow's working-day calendar.

    ``today`` is the clock's business date; ``worker_day`` the last working day whose notice
    hour has come (today, or the working day before when today is not one or the hour has not
    come). The demo's events lie on working days before ``worker_day`` (so before the clock's
    now, whatever the hour); the ladder is replayed up to ``worker_day``'s notice hour, and what
    falls due from then on is left to the worker.
    """

    def __init__(self, now: datetime, calendar: WorkingDayCalendar, notice_hour: int) -> None:
        self.cal = calendar
        self.now = now
        self.today = business_date(now)
        day = self.today
        if now < datetime.combine(day, time(notice_hour), tzinfo=TZ):
            day -= timedelta(days=1)
        self.worker_day = day if calendar.is_working_day(day) else self.shift(day, -1)
        #: the ladder's instants before this were replayed by the demo; the worker sends the rest
        self.cutoff = datetime.combine(self.worker_day, time(notice_hour), tzinfo=TZ)

    def back(self, n: int) -> date:
        """``n`` working days before the worker's day (n ≥ 1: a day the demo may record)."""
        return self.shift(self.worker_day, -n)

    def shift(self, d: date, n: int) -> date:
        """``n`` working days after ``d`` (before it when negative)."""
        return self.cal.add_working_days(d, n).date

    def on_or_after(self, d: date) -> date:
        return self.cal.next_working_day(d).date

    def on_or_before(self, d: date) -> date:
        return d if self.cal.is_working_day(d) else self.shift(d, -1)

    def months(self, d: date, n: int) -> date:
        """The working day on or after ``d`` + ``n`` calendar months."""
        return self.on_or_after(add_months(d, n))

    def latest(self, start: date, ok: Callable[[date], bool]) -> date:
        """The latest working day on or before ``start`` for which ``ok`` holds."""
        d = self.on_or_before(start)
        while not ok(d):
            d = self.shift(d, -1)
        return d


def contract_end(effective_on: date, term_months: int) -> date:
    return add_months(effective_on, term_months) - timedelta(days=1)


def midpoint(effective_on: date, term_months: int) -> date:
    return (
        effective_on + (contract_end(effective_on, term_months) - effective_on + timedelta(1)) / 2
    )


def _staff(prefix: str, count: int, education: str = "大专") -> list[dict[str, str]]:
    return [{"name": f"{prefix}{i + 1:02d}", "education": education} for i in range(count)]


def _terms(quantity: str, schedule: str = "30/30/40") -> dict[str, str]:
    return {**TERMS, "quantity": quantity, "payment_schedule": schedule}


def _procure(
    plan: Plan,
    signed: date,
    days: Days,
    cid: int,
    *,
    finance: Actor = FINANCE,
    government: Actor = GOVERNMENT,
    method: str = "open_tender",
    notice: str = "",
    scores: dict[int, int] | None = None,
    price: str,
    term_months: int = 12,
    terms: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    effective: date | None = None,
) -> None:
    """R19's order before signing on ``signed``: submitted 34 working days before, budget
    reviewed, approved, the notice published, the expert review, the award, the contract (in
    effect from ``effective``, default the day it is signed)."""
    offsets = [-34, -31, -29, -23, -7, -5]
    steps = procurement(
        cid,
        clerk=plan.clerk,
        finance=finance,
        government=government,
        method=method,
        notice=notice or f"{plan.title}采购公告",
        scores=scores,
    )
    for offset, (actor, event, data) in zip(offsets, steps, strict=True):
        label = (labels or {}).get(event)
        plan.add(days.shift(signed, offset), actor, event, label=label, **data)
    plan.add(
        signed,
        plan.clerk,
        "sign_contract",
        label=(labels or {}).get("sign_contract"),
        signed_on=signed.isoformat(),
        effective_on=(effective or signed).isoformat(),
        price=price,
        form="purchase",
        term_months=term_months,
        terms=terms or TERMS,
    )


def plans(days: Days, ids: Mapping[str, int]) -> list[Plan]:
    """Every demo project, in the order they are listed (the walk first): ``ids`` are the
    contractors' ids by name. The last two (:data:`FOR_THE_WORKER`) are signed so that their
    notices fall due at the worker's day's notice hour."""
    return _stages(days, ids) + _for_the_worker(days, ids[XINGHAI])


#: the keys of the two plans whose notices the worker sends at once
FOR_THE_WORKER = ("overdue_now", "reminder_now")


def _stages(days: Days, ids: Mapping[str, int]) -> list[Plan]:
    """The walk and a project at each stage."""
    out: list[Plan] = []
    on = days.shift

    # 1. last cycle's 16 caseworkers, from 立项 to 结项 (the walk gpw demo prints)
    live_signed = days.months(days.back(1), -8)
    signed = days.months(live_signed, -12)
    walk = Plan(
        key="walk",
        title=f"{signed.year}年大武口区社会救助入户核查员服务",
        clerk=CLERK,
        budget="1200000.00",
        items=caseworker_items(),
        created=on(signed, -36),
        label="立项 create_project",
        shows="上一周期的 16 名入户核查员，立项至结项 / last cycle's 16 caseworkers, 立项 to 结项",
    )
    _procure(
        walk,
        signed,
        days,
        ids[XINGHAI],
        notice="社会救助入户核查员服务公开招标公告",
        price="1152000.00",
        labels={
            "approve": "批准 approve (R1, R2)",
            "award": "确定承接主体 award (R4, R5)",
            "sign_contract": "签订合同 sign_contract (R6)",
        },
    )
    walk.add(on(signed, 8), FINANCE, "pay", tranche=1, amount="345600.00", on=on(signed, 8))
    # R7: the second tranche waits for a passed mid-term evaluation (shown refused)
    walk.add(
        on(signed, 9),
        FINANCE,
        "pay",
        refused=True,
        tranche=2,
        amount="345600.00",
        on=on(signed, 9),
    )
    walk.add(
        on(signed, 13),
        CLERK,
        "dispatch_staff",
        label="拨付首期、人员派遣 pay 1, dispatch (R7, R8)",
        on=on(signed, 13),
        staff=caseworkers(),
    )
    mid = days.shift(midpoint(signed, 12) - timedelta(days=6), -1)
    walk.add(
        mid,
        CLERK,
        "evaluate",
        label="中期评估 midterm evaluation (R10)",
        kind="midterm",
        score=85,
        satisfaction=90,
        on=mid,
        evaluators=EVALUATORS,
    )
    walk.add(
        on(mid, 13),
        FINANCE,
        "pay",
        label="拨付二期 pay 2 (R7)",
        tranche=2,
        amount="345600.00",
        on=on(mid, 13),
    )
    end = contract_end(signed, 12)
    final = days.shift(end - timedelta(days=12), -1)
    walk.add(
        final,
        CLERK,
        "evaluate",
        label="终期评估 final evaluation (R10)",
        kind="final",
        score=88,
        satisfaction=92,
        on=final,
        evaluators=EVALUATORS,
    )
    # the last tranche and the acceptance, in the order their days fall (R7, R13)
    paid, accepted = on(final, 5), days.on_or_before(end)
    last = [
        (paid, Step(paid, FINANCE, "pay", {"tranche": 3, "amount": "460800.00", "on": paid})),
        (accepted, Step(accepted, CLERK, "accept", {"on": accepted})),
    ]
    walk.steps += [step for _, step in sorted(last, key=lambda s: s[0])]
    walk.add(on(max(paid, accepted), 1), CLERK, "close", label="验收、结项 accept, close (R13)")
    out.append(walk)

    # 2. this cycle's 16 caseworkers: in service, mid-term passed, a subcontract executed
    signed = live_signed
    live = Plan(
        key="caseworkers",
        title=f"{signed.year}年大武口区社会救助入户核查员服务",
        clerk=CLERK,
        budget="1250000.00",
        items=caseworker_items(),
        created=on(signed, -36),
        shows="本周期 16 名核查员（区民政局 3、星海镇 2、人民路街道 2、九个街道各 1），服务中"
        " / this cycle's 16 caseworkers by office, in service",
    )
    _procure(live, signed, days, ids[XINGHAI], price="1198080.00", terms=_terms("16人"))
    live.add(on(signed, 8), FINANCE, "pay", tranche=1, amount="359424.00", on=on(signed, 8))
    live.add(on(signed, 12), CLERK, "dispatch_staff", on=on(signed, 12), staff=caseworkers())
    xinghai = contractor(XINGHAI, "xinghai", "陈主任")
    live.add(
        on(signed, 30),
        xinghai,
        "request_subcontract",
        part="困难群众心理疏导个案辅导（非主体部分）",
        to="石嘴山市心语心理咨询中心",
        share="0.1",
    )
    live.add(
        on(signed, 33), CLERK, "approve_subcontract", request_id=1, reason="非主体、非关键部分"
    )
    live.add(on(signed, 35), xinghai, "subcontract", request_id=1)
    mid = days.shift(midpoint(signed, 12) - timedelta(days=6), -1)
    live.add(
        mid,
        CLERK,
        "evaluate",
        kind="midterm",
        score=87,
        satisfaction=91,
        on=mid,
        evaluators=EVALUATORS,
    )
    live.add(on(mid, 10), FINANCE, "pay", tranche=2, amount="359424.00", on=on(mid, 10))
    out.append(live)

    # 3. a draft, revised
    plan = Plan(
        key="draft",
        title=f"{days.today.year}年大武口区困难群众心理疏导服务",
        clerk=CLERK,
        budget="180000.00",
        items=[
            {"name": "心理疏导个案服务", "quantity": 120, "unit": "人次"},
            {"name": "心理健康讲座", "quantity": 12, "unit": "场"},
        ],
        created=days.back(12),
        hour=15,
        shows="草拟中的实施方案 / a plan being drafted",
    )
    plan.add(
        days.back(3),
        CLERK,
        "revise_plan",
        budget="168000.00",
        items=[
            {"name": "心理疏导个案服务", "quantity": 120, "unit": "人次"},
            {"name": "心理健康讲座", "quantity": 8, "unit": "场"},
        ],
    )
    out.append(plan)

    # 4. pending approval: finance sent it back once, then approved the revised budget
    plan = Plan(
        key="pending",
        title=f"{days.today.year}年星海镇特困人员生活照料服务",
        clerk=TOWN_CLERK,
        budget="360000.00",
        items=[{"name": "特困人员生活照料", "quantity": 25, "unit": "人", "office": "星海镇"}],
        created=days.back(22),
        shows="财政退回一次后重新提交，待区政府批准 / sent back by finance once, resubmitted, "
        "awaiting approval (R1)",
    )
    plan.add(days.back(20), TOWN_CLERK, "submit")
    plan.add(
        days.back(18),
        FINANCE,
        "review_budget",
        approved=False,
        note="护理人员报酬测算偏高，请按当地最低工资标准的 2 倍重新测算",
    )
    plan.add(days.back(17), FINANCE, "reject", reason="预算未通过财政审核，退回修改")
    plan.add(days.back(12), TOWN_CLERK, "revise_plan", budget="330000.00")
    plan.add(days.back(10), TOWN_CLERK, "submit")
    plan.add(days.back(6), FINANCE, "review_budget", approved=True, note="已按标准重新测算")
    out.append(plan)

    # 5. approved, its first procurement failed
    clerk = street_clerk("人民路", "renminlu", "杨帆")
    plan = Plan(
        key="approved",
        title=f"{days.today.year}年人民路街道低保家庭动态核查服务",
        clerk=clerk,
        budget="240000.00",
        items=[{"name": "低保家庭动态核查", "quantity": 600, "unit": "户", "office": "人民路街道"}],
        created=days.back(50),
        shows="竞争性谈判失败，待重新发布公告 / negotiation failed, to be published again (R3)",
    )
    plan.add(days.back(48), clerk, "submit")
    plan.add(days.back(46), FINANCE, "review_budget", approved=True)
    plan.add(days.back(44), GOVERNMENT, "approve")
    plan.add(
        days.back(40),
        clerk,
        "publish_notice",
        method="competitive_negotiation",
        notice="低保家庭动态核查服务竞争性谈判公告",
    )
    plan.add(days.back(20), clerk, "fail_procurement", reason="响应供应商不足三家，谈判终止")
    out.append(plan)

    # 6. procuring: the expert review is recorded, the award not yet made
    plan = Plan(
        key="procuring",
        title=f"{days.today.year}年大武口区社会救助政策宣传与经办人员培训服务",
        clerk=CLERK,
        budget="150000.00",
        items=[
            {"name": "社会救助政策宣传", "quantity": 24, "unit": "场"},
            {"name": "经办人员业务培训", "quantity": 2, "unit": "期"},
        ],
        created=days.back(62),
        shows="专家评审已完成，待确定承接主体 / reviewed, awaiting the award (R5)",
    )
    plan.add(days.back(60), CLERK, "submit")
    plan.add(days.back(57), FINANCE, "review_budget", approved=True)
    plan.add(days.back(55), GOVERNMENT, "approve")
    plan.add(
        days.back(30),
        CLERK,
        "publish_notice",
        method="competitive_consultation",
        notice="社会救助政策宣传与培训服务竞争性磋商公告",
    )
    plan.add(
        days.back(5),
        CLERK,
        "record_review",
        reviewers=["专家甲", "专家乙", "专家丙", "专家丁", "专家戊"],
        criteria={"quality": 60, "price": 30, "experience": 10},
        scores={str(ids[XINGHAI]): 88, str(ids[HUIMIN]): 86, str(ids[ANKANG]): 79},
    )
    out.append(plan)

    # 7. awarded to a small enterprise, the contract not yet signed
    plan = Plan(
        key="awarded",
        title=f"{days.today.year}年大武口区分散供养特困人员居家探访服务",
        clerk=CLERK,
        budget="420000.00",
        items=[{"name": "分散供养特困人员居家探访", "quantity": 180, "unit": "人"}],
        created=days.back(72),
        shows="已确定承接主体（中小企业），待签约 / awarded to a small enterprise, to be signed",
    )
    plan.add(days.back(70), CLERK, "submit")
    plan.add(days.back(67), FINANCE, "review_budget", approved=True)
    plan.add(days.back(64), GOVERNMENT, "approve")
    plan.add(
        days.back(45),
        CLERK,
        "publish_notice",
        method="competitive_consultation",
        notice="分散供养特困人员居家探访服务竞争性磋商公告",
    )
    plan.add(
        days.back(9),
        CLERK,
        "record_review",
        reviewers=["专家甲", "专家乙", "专家丙"],
        criteria={"quality": 70, "price": 30},
        scores={str(ids[ANKANG]): 91, str(ids[KANGNING]): 87},
    )
    plan.add(days.back(4), CLERK, "award", contractor_id=ids[ANKANG])
    out.append(plan)

    # 8. in service, a small enterprise's first tranche overdue and escalated (R7, R20);
    #    a subcontract of the main part rejected (R9)
    clerk = street_clerk("长城", "changcheng", "刘洋")
    signed = days.back(23)
    plan = Plan(
        key="payment_overdue",
        title=f"{signed.year}年长城街道居家养老上门服务",
        clerk=clerk,
        budget="500000.00",
        items=[{"name": "居家养老上门服务", "quantity": 9000, "unit": "小时"}],
        created=on(signed, -36),
        shows="首期款逾期未付，已两级督办（中小企业，R20） / first tranche overdue, escalated "
        "twice (a small enterprise, R20)",
    )
    _procure(
        plan,
        signed,
        days,
        ids[ANKANG],
        method="competitive_consultation",
        scores={ids[ANKANG]: 90, ids[KANGNING]: 85},
        price="468000.00",
        terms=_terms("9000小时"),
    )
    ankang = contractor(ANKANG, "ankang", "周经理")
    plan.add(on(signed, 9), ankang, "dispatch_staff", on=on(signed, 9), staff=_staff("护理员", 12))
    plan.add(
        on(signed, 12),
        ankang,
        "request_subcontract",
        part="助餐配送",
        to="大武口区老年餐桌配送站",
        share="0.2",
    )
    plan.add(
        on(signed, 14),
        clerk,
        "reject_subcontract",
        request_id=1,
        reason="助餐配送是本项目的主要服务内容，不得分包",
    )
    out.append(plan)

    # 9. Nanyang (its own bodies, three years): the first half-yearly evaluation overdue and
    #    escalated; a subcontract request pending; evaluation deadlines reaching years ahead
    # (in effect six months before the target day, whatever day of the week that was: the
    # signing is on the working day before; the first evaluation period ends on the target)
    effective = add_months(days.back(7), -6)
    signed = days.on_or_before(effective)
    plan = Plan(
        key="nanyang",
        title=f"{signed.year}年卧龙区乡镇（街道）社会救助经办服务",
        clerk=NY_CLERK,
        budget="2400000.00",
        items=[{"name": "社会救助经办协理员", "quantity": 20, "unit": "人"}],
        created=on(signed, -36),
        policy="nanyang-2019",
        supervisors=NANYANG_SUPERVISORS,
        shows="南阳政策、三年期：第 1 次半年评价逾期已督办，分包申请待批 / Nanyang, three years: "
        "first evaluation overdue and escalated, a subcontract request pending",
    )
    _procure(
        plan,
        signed,
        days,
        ids[RENHE],
        finance=NY_FINANCE,
        government=NY_GOVERNMENT,
        notice="卧龙区社会救助经办服务公开招标公告",
        price="2280000.00",
        term_months=36,
        terms=_terms("20人"),
        effective=effective,
    )
    plan.add(on(signed, 10), NY_FINANCE, "pay", tranche=1, amount="684000.00", on=on(signed, 10))
    renhe = contractor(RENHE, "renhe", "高主任")
    plan.add(on(signed, 13), renhe, "dispatch_staff", on=on(signed, 13), staff=_staff("协理员", 20))
    plan.add(
        days.back(6),
        renhe,
        "request_subcontract",
        part="救助对象心理评估（专项）",
        to="南阳市卧龙区心理卫生服务中心",
        share="0.15",
    )
    out.append(plan)

    # 10. rectifying: a low half-yearly review, the rectification overdue and escalated
    clerk = street_clerk("朝阳", "chaoyang", "何静")
    signed = days.months(days.back(1), -7)
    plan = Plan(
        key="rectifying",
        title=f"{signed.year}年朝阳街道社会救助对象探访关爱服务",
        clerk=clerk,
        budget="260000.00",
        items=[{"name": "救助对象探访关爱", "quantity": 320, "unit": "户", "office": "朝阳街道"}],
        created=on(signed, -36),
        shows="满意度偏低，限期整改逾期未完成，已督办 / low satisfaction, rectification overdue "
        "and escalated (R11)",
    )
    _procure(plan, signed, days, ids[HUIMIN], price="248000.00", terms=_terms("320户"))
    plan.add(on(signed, 9), FINANCE, "pay", tranche=1, amount="74400.00", on=on(signed, 9))
    plan.add(on(signed, 11), clerk, "dispatch_staff", on=on(signed, 11), staff=_staff("社工", 4))
    plan.add(
        days.back(35),
        clerk,
        "evaluate",
        kind="semiannual",
        score=63,
        satisfaction=56,
        on=days.back(35),
        evaluators=EVALUATORS,
    )
    plan.add(
        days.back(30),
        clerk,
        "order_rectification",
        due=days.back(4).isoformat(),
        findings="探访记录不完整，12 户未按约定频次回访",
    )
    out.append(plan)

    # 11. takeover: two low half-yearly reviews in a row (R11 removes the contractor itself)
    clerk = street_clerk("青山", "qingshan", "宋伟")
    signed = days.months(days.back(1), -9)
    plan = Plan(
        key="takeover",
        title=f"{signed.year}年青山街道特困供养人员照护服务",
        clerk=clerk,
        budget="620000.00",
        items=[{"name": "特困供养人员照护", "quantity": 40, "unit": "人", "office": "青山街道"}],
        created=on(signed, -36),
        shows="连续两个评价周期满意度低，自动清退、临时接管，已结算 / two low reviews in a row: "
        "removed by R11, taken over, settled (R12)",
    )
    _procure(
        plan,
        signed,
        days,
        ids[KANGNING],
        scores={ids[KANGNING]: 89, ids[HUIMIN]: 84},
        price="600000.00",
        terms=_terms("40人"),
    )
    plan.add(on(signed, 7), FINANCE, "pay", tranche=1, amount="180000.00", on=on(signed, 7))
    kangning = contractor(KANGNING, "kangning", "郑院长")
    plan.add(
        on(signed, 14), kangning, "dispatch_staff", on=on(signed, 14), staff=_staff("护理员", 10)
    )
    first = days.shift(add_months(signed, 5), -1)
    plan.add(
        first,
        EVALUATOR,
        "evaluate",
        kind="semiannual",
        score=58,
        satisfaction=52,
        on=first,
        evaluators=EVALUATORS,
    )
    plan.add(
        on(first, 2),
        clerk,
        "order_rectification",
        due=on(first, 17).isoformat(),
        findings="护理记录缺失，夜间值守不到位",
    )
    plan.add(on(first, 14), clerk, "complete_rectification", on=on(first, 14))
    second = days.months(signed, 7)
    plan.add(
        second,
        EVALUATOR,
        "evaluate",
        kind="semiannual",
        score=55,
        satisfaction=50,
        on=second,
        evaluators=EVALUATORS,
    )
    plan.add(
        on(second, 8),
        FINANCE,
        "settle",
        amount="170000.00",
        reason="按清退前实际提供的 7 个月服务结算（R12、R20：只付无争议部分）",
        on=on(second, 8),
    )
    out.append(plan)

    # 12. Shanghai (30/70, one final evaluation): accepted, the last tranche due
    end_by = days.back(6)
    signed = days.latest(days.months(end_by, -6), lambda s: contract_end(s, 6) <= end_by)
    plan = Plan(
        key="accepted",
        title=f"{signed.year}年浦东新区社会救助顾问服务",
        clerk=SH_CLERK,
        budget="380000.00",
        items=[{"name": "社会救助顾问（社区）", "quantity": 6, "unit": "人"}],
        created=on(signed, -36),
        policy="shanghai",
        supervisors=SHANGHAI_SUPERVISORS,
        shows="上海政策：已验收，尾款（70%）待付 / Shanghai: accepted, the last 70 % due (R7, R13)",
    )
    _procure(
        plan,
        signed,
        days,
        ids[MINGDE],
        finance=SH_FINANCE,
        government=SH_GOVERNMENT,
        method="competitive_consultation",
        price="360000.00",
        term_months=6,
        terms=_terms("6人", "30/70"),
    )
    plan.add(on(signed, 10), SH_FINANCE, "pay", tranche=1, amount="108000.00", on=on(signed, 10))
    mingde = contractor(MINGDE, "mingde", "顾老师")
    plan.add(
        on(signed, 10), mingde, "dispatch_staff", on=on(signed, 10), staff=_staff("顾问", 6, "本科")
    )
    end = contract_end(signed, 6)
    final = days.shift(end - timedelta(days=3), -1)
    plan.add(
        final,
        SH_CLERK,
        "evaluate",
        kind="final",
        score=90,
        satisfaction=93,
        on=final,
        evaluators=["purchaser", "recipients"],
    )
    plan.add(days.on_or_before(end), SH_CLERK, "accept", on=days.on_or_before(end))
    out.append(plan)

    # 13. terminated for fraud, the contractor banned for three years (R12)
    clerk = street_clerk("沟口", "goukou", "冯刚")
    signed = days.months(days.back(1), -5)
    plan = Plan(
        key="terminated",
        title=f"{signed.year}年沟口街道社会救助入户核查服务",
        clerk=clerk,
        budget="300000.00",
        items=[{"name": "社会救助入户核查", "quantity": 4, "unit": "人", "office": "沟口街道"}],
        created=on(signed, -36),
        shows="虚报服务数据，合同终止，承接主体禁入三年 / fraud: terminated, contractor banned "
        "for three years (R12)",
    )
    _procure(
        plan,
        signed,
        days,
        ids[SUDA],
        method="competitive_consultation",
        scores={ids[SUDA]: 86, ids[HUIMIN]: 84},
        price="276000.00",
        terms=_terms("4人"),
    )
    plan.add(on(signed, 8), FINANCE, "pay", tranche=1, amount="82800.00", on=on(signed, 8))
    plan.add(on(signed, 15), clerk, "dispatch_staff", on=on(signed, 15), staff=_staff("核查员", 4))
    plan.add(
        days.back(15),
        clerk,
        "terminate",
        reason="抽查发现 9 户入户核查记录系伪造（虚报服务数据）",
        ban_until=add_months(days.today, 36).isoformat(),
    )
    out.append(plan)

    # 14. contracted, staff never dispatched: overdue and escalated twice (R8)
    clerk = street_clerk("石炭井", "shitanjing", "韩梅")
    signed = on(days.back(7), -15)
    plan = Plan(
        key="dispatch_overdue",
        title=f"{signed.year}年石炭井街道社会救助入户核查服务",
        clerk=clerk,
        budget="150000.00",
        items=[{"name": "社会救助入户核查", "quantity": 2, "unit": "人", "office": "石炭井街道"}],
        created=on(signed, -36),
        shows="人员派遣逾期，已两级督办 / staff dispatch overdue, escalated twice (R8)",
    )
    _procure(
        plan,
        signed,
        days,
        ids[HUIMIN],
        scores={ids[HUIMIN]: 87, ids[XINGHAI]: 85},
        price="142000.00",
        terms=_terms("2人"),
    )
    plan.add(on(signed, 10), FINANCE, "pay", tranche=1, amount="42600.00", on=on(signed, 10))
    out.append(plan)
    return out


def _for_the_worker(days: Days, contractor_id: int) -> list[Plan]:
    """Two projects signed so that a stage of their dispatch and first-tranche deadlines falls
    due at the worker's day's notice hour: one overdue, one a reminder (the worker sends them at
    once; the demo replays the ladder only up to then)."""
    out = []
    for place, clerk, back, people, budget, price in [
        ("星海镇", TOWN_CLERK, 16, 4, "300000.00", "288000.00"),  # due the day before
        ("长胜街道", street_clerk("长胜", "changsheng", "罗兰"), 12, 2, "150000.00", "144000.00"),
    ]:
        signed = days.back(back)
        plan = Plan(
            key=FOR_THE_WORKER[0] if back == 16 else FOR_THE_WORKER[1],
            title=f"{signed.year}年{place}社会救助入户核查服务",
            clerk=clerk,
            budget=budget,
            items=[
                {
                    "name": "社会救助入户核查",
                    "quantity": people,
                    "unit": "人",
                    "standard": CASEWORKER_STANDARD,
                    "office": place,
                }
            ],
            created=signed,
            shows=(
                "人员派遣今日逾期（通知待调度进程发送） / dispatch overdue today (for the worker)"
                if back == 16
                else "人员派遣即将到期（提醒待发送） / dispatch due soon (reminder for the worker)"
            ),
        )
        for actor, event, data in procurement(contractor_id, clerk=clerk):
            plan.add(signed, actor, event, **data)
        plan.add(
            signed,
            clerk,
            "sign_contract",
            signed_on=signed.isoformat(),
            effective_on=signed.isoformat(),
            price=price,
            form="purchase",
            term_months=12,
            terms=_terms(f"{people}人"),
        )
        out.append(plan)
    return out


# -- playing the plans, with the notice ladder as it ran ----------------------------------------


class _Ladder:
    """Replays ``tick`` and ``relay`` at each past instant a stage of an open deadline fell due
    (before ``cutoff``): the instants come from the deadlines each event leaves open."""

    def __init__(self, wf: Workflow, calendar: WorkingDayCalendar, cutoff: datetime) -> None:
        self.wf = wf
        self.calendar = calendar
        self.cutoff = cutoff
        self.heap: list[tuple[datetime, int, str, date]] = []
        self.open: dict[tuple[int, str], date] = {}
        self.ticks = 0
        self.created: Counter[str] = Counter()

    def watch(self, view: ProjectView, after: datetime) -> None:
        """Note the open deadlines of ``view`` and when their stages fall due (none before
        ``after``, the event that left them: a late stage is sent at the next instant)."""
        before = {k: v for k, v in self.open.items() if k[0] == view.id}
        for key in before:
            del self.open[key]
        policy = self.wf.policy_named(view.policy)
        for d in view.open_deadlines:
            self.open[(view.id, d.key)] = d.due
            if before.get((view.id, d.key)) == d.due:
                continue  # its stages are on the heap already
            for rung in ladder(d.kind, d.due, policy, self.calendar):
                fire = max(rung.fire_at, after + timedelta(minutes=1))
                if fire < self.cutoff:
                    heapq.heappush(self.heap, (fire, view.id, d.key, d.due))

    def until(self, when: datetime) -> None:
        """Tick and relay at every instant before ``when`` where a watched deadline is open."""
        while self.heap and self.heap[0][0] < when:
            instant = self.heap[0][0]
            live = False
            while self.heap and self.heap[0][0] == instant:
                _, pid, key, due = heapq.heappop(self.heap)
                live = live or self.open.get((pid, key)) == due
            if live:
                for notice in self.wf.tick(instant):
                    self.created[notice.stage] += 1
                self.wf.relay(instant + timedelta(minutes=2))
                self.ticks += 1


def _play(
    wf: Workflow,
    plans: list[Plan],
    ladder_: _Ladder,
    on_step: Callable[[Plan, int, Step], None],
) -> dict[str, int]:
    """Create and fire every plan's steps in the order of their times (a project's own steps
    keep their order), the ladder replayed in between. Returns each plan's project id."""
    timeline: list[tuple[datetime, int, int]] = []
    for i, plan in enumerate(plans):
        times = [at(plan.created, plan.hour)] + [at(s.day, s.hour) for s in plan.steps]
        if times != sorted(times):  # a plan out of order is a bug of the demo, never of the input
            raise AssertionError(f"demo plan {plan.key} is out of order: {times}")
        timeline.extend((when, i, n) for n, when in enumerate(times))
    timeline.sort()
    ids: dict[str, int] = {}
    for when, i, n in timeline:
        plan = plans[i]
        ladder_.until(when)
        if n == 0:
            ids[plan.key] = wf.create_project(
                actor=plan.clerk,
                title=plan.title,
                purchaser=plan.clerk.org,
                budget=plan.budget,
                items=plan.items,
                policy=plan.policy,
                supervisors=plan.supervisors,
                at=when,
            )
            on_step(plan, ids[plan.key], Step(plan.created, plan.clerk, "create_project", {}))
            continue
        step = plan.steps[n - 1]
        if step.refused:
            try:
                wf.fire(ids[plan.key], step.event, actor=step.actor, at=when, **step.data)
            except GuardRefused as exc:
                on_step(
                    plan,
                    ids[plan.key],
                    Step(
                        step.day, step.actor, step.event, step.data, label=exc.message, refused=True
                    ),
                )
                continue
            raise AssertionError(f"demo step {step.event} of {plan.key} was not refused")
        view = wf.fire(ids[plan.key], step.event, actor=step.actor, at=when, **step.data)
        ladder_.watch(view, when)
        on_step(plan, ids[plan.key], step)
    ladder_.until(ladder_.cutoff)
    return ids


# -- people: the directory and the demo logins --------------------------------------------------


#: (organisation, role, name) for every body a notice addresses (the relay resolves them)
def _directory(plans: Sequence[Plan]) -> list[tuple[str, str, str]]:
    people: list[tuple[str, str, str]] = [
        (BUREAU, "leader", "刘局长"),
        (FINANCE_BUREAU, "finance", "李财"),
        (FINANCE_BUREAU, "head", "赵局长"),
        (AUDIT_BUREAU, "audit", "钱审计"),
        (DISTRICT, "government", "王区长"),
        (NANYANG["government"], "government", "卧龙区政府办"),
        (NANYANG["finance"], "finance", "孙会计"),
        (NANYANG["finance"], "head", "卧龙区财政局局长"),
        (NANYANG_SUPERVISORS["audit"], "audit", "卧龙区审计局"),
        (SHANGHAI_SUPERVISORS["government"], "government", "浦东新区政府办"),
        (SHANGHAI_SUPERVISORS["finance"], "finance", "浦东新区财政局经办"),
        (SHANGHAI_SUPERVISORS["finance"], "head", "浦东新区财政局局长"),
        (SHANGHAI_SUPERVISORS["audit"], "audit", "浦东新区审计局"),
    ]
    for plan in plans:
        clerk = plan.clerk
        people.append((clerk.org, "purchaser", clerk.name or clerk.id))
        if clerk.org != BUREAU:
            people.append((clerk.org, "leader", f"{clerk.org.removeprefix('大武口区')}主任"))
    bosses = {
        XINGHAI: "陈主任",
        HUIMIN: "黄社长",
        ANKANG: "周经理",
        KANGNING: "郑院长",
        SUDA: "徐经理",
        RENHE: "高主任",
        MINGDE: "顾老师",
    }
    people += [(name, "contractor", boss) for name, boss in bosses.items()]
    seen: set[tuple[str, str]] = set()
    out = []
    for org, role, name in people:
        if (org, role) not in seen:
            seen.add((org, role))
            out.append((org, role, name))
    return out


@dataclass(frozen=True, slots=True)
class DemoUser:
    """A demo login of the web dashboard and the JSON API (password :data:`DEMO_PASSWORD`)."""

    login: str
    role: str
    org: str
    name: str
    #: purchaser-name prefixes a supervisor or evaluator reads ("*": all)
    region: tuple[str, ...]
    #: what the login can do, Chinese then English
    can: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "login": self.login,
            "role": self.role,
            "org": self.org,
            "name": self.name,
            "region": list(self.region),
            "can": self.can,
        }


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(
        "minzheng",
        "purchaser",
        BUREAU,
        "张敏",
        (),
        "区民政局的项目：立项、采购、签约、评价、整改、验收 / the bureau's projects: plan, "
        "procure, sign, evaluate, rectify, accept",
    ),
    DemoUser(
        "xinghaizhen",
        "purchaser",
        TOWN,
        "马丽",
        (),
        "星海镇的项目（一个待批准，一个今日逾期） / 星海镇's projects (one awaiting approval, "
        "one overdue today)",
    ),
    DemoUser(
        "caizheng",
        "finance",
        FINANCE_BUREAU,
        "李财",
        (),
        "大武口区各项目：审核预算、拨付、结算 / Dawukou's projects: review budgets, pay, settle",
    ),
    DemoUser(
        "zhengfu",
        "government",
        DISTRICT,
        "王区长",
        (),
        "大武口区各项目：批准立项、终止 / Dawukou's projects: approve plans, terminate",
    ),
    DemoUser(
        "xinghai",
        "contractor",
        XINGHAI,
        "陈主任",
        (),
        "本单位中标的项目：派遣人员、申请分包 / its own awarded projects: dispatch staff, "
        "request subcontracts",
    ),
    DemoUser(
        "ankang",
        "contractor",
        ANKANG,
        "周经理",
        (),
        "中小企业：本单位的项目（首期款逾期） / a small enterprise: its projects (first tranche "
        "overdue, R20)",
    ),
    DemoUser(
        "jiandu",
        "supervisor",
        "石嘴山市民政局",
        "监督员",
        ("大武口区",),
        "只读：大武口区全部项目、逾期与督办 / read only: every project of 大武口区, what is late, "
        "who was told",
    ),
    DemoUser(
        "pingjia",
        "evaluator",
        EVALUATOR.org,
        EVALUATOR.name,
        ("大武口区",),
        "大武口区项目的绩效评价 / evaluations of Dawukou's projects (R10)",
    ),
    DemoUser(
        "wolong",
        "purchaser",
        NANYANG_BUREAU,
        NY_CLERK.name,
        (),
        "南阳政策的项目（评价逾期、分包待批） / the Nanyang project (evaluation overdue, a "
        "subcontract to decide)",
    ),
    DemoUser(
        ADMIN.id,
        ADMIN.role,
        ADMIN.org,
        ADMIN.name,
        (),
        "全部项目；工作日历、承接主体名录、用户 / every project; calendar, contractor register, "
        "users",
    ),
)


#: the hash parameters of the demo logins' passwords: the password is public (printed and
#: documented), so the demo does not spend a second hashing it ten times; the users service
#: rehashes each with its own parameters at the first login (``Users.login``)
DEMO_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


def _add_users(wf: Workflow) -> None:
    """The demo logins, through the users service (argon2id hashes, see :data:`DEMO_HASHER`)."""
    users = wf.users
    hasher, users.hasher = users.hasher, DEMO_HASHER
    try:
        for user in DEMO_USERS:
            users.add(
                user.login,
                role=user.role,
                org=user.org,
                password=DEMO_PASSWORD,
                name=user.name,
                region=user.region,
            )
    finally:
        users.hasher = hasher


# -- the report -----------------------------------------------------------------------------------


def _deadline_text(d: Any) -> str:
    return f"{d.key}→{d.due}{'（暂定/provisional）' if d.provisional else ''}"


def _summaries(
    wf: Workflow, plans: Sequence[Plan], ids: dict[str, int], days: Days
) -> list[dict[str, Any]]:
    """Each project: state, what it shows, its overdue deadlines (working days late, the last
    stage sent) and its provisional ones."""
    out = []
    for plan in plans:
        view = wf.project(ids[plan.key])
        stages: dict[str, str] = {}
        for notice in wf.notices(project_id=view.id):
            stages[notice.deadline_key] = notice.stage  # oldest first: the last one stays
        overdue = [
            {
                "key": d.key,
                "due": d.due.isoformat(),
                "working_days_late": days.cal.working_days_between(d.due, days.today),
                "last_notice": stages.get(d.key),
            }
            for d in view.open_deadlines
            if d.due < days.today
        ]
        out.append(
            {
                "id": view.id,
                "key": plan.key,
                "title": view.title,
                "purchaser": view.purchaser,
                "policy": view.policy,
                "state": view.state,
                "contractor": view.data.get("contractor_name"),
                "shows": plan.shows,
                "overdue": overdue,
                "provisional": [d.key for d in view.open_deadlines if d.provisional],
            }
        )
    return sorted(out, key=lambda p: p["id"])


def run_demo(wf: Workflow, *, echo: Callable[[str], Any] = print, as_json: bool = False) -> int:
    """Seed ``wf`` with the demo (see the module's docstring); returns the walked project's id.

    Every date is placed relative to ``wf.db.now()`` (inject a clock, ``Workflow.open(...,
    clock=...)``, to replay it as of any moment: the same clock gives the same data). Expects a
    database with no projects (``gpw demo`` makes a fresh one; see :func:`seed_if_empty`).
    """
    now = wf.db.now()
    days = Days(now, wf.calendar.current(), wf.policy.notices.hour)
    # every date is worked out before anything is written (a clock the calendar cannot serve
    # is refused here: InvalidInput, nothing written)
    plans(days, dict.fromkeys((c[0] for c in CONTRACTORS), 1))

    first = at(days.shift(days.months(days.months(days.back(1), -8), -12), -40))
    ids = {
        name: register_contractor(wf, first, name=name, org_type=org_type, sme=sme, actor=ADMIN)
        for name, org_type, sme in CONTRACTORS
    }
    demo = plans(days, ids)
    for org, role, name in _directory(demo):
        if not wf.directory.people(org=org, role=role):
            wf.directory.add(org=org, role=role, name=name, at=first)

    log: list[dict[str, Any]] = []

    def on_step(plan: Plan, pid: int, step: Step) -> None:
        if plan.key != "walk":
            return
        if step.refused:
            if not as_json:
                echo(
                    f"    拒绝 / refused: {step.event} tranche {step.data['tranche']} — "
                    f"{step.label}"
                )
            return
        label = plan.label if step.event == "create_project" else step.label
        if label is None:
            return
        view = wf.project(pid)
        log.append(
            {
                "step": label,
                "state": view.state,
                "version": view.version,
                "open_deadlines": [d.to_dict() for d in view.open_deadlines],
            }
        )
        if as_json:
            return
        echo(f"[{view.state}] v{view.version}  {label}")
        if view.open_deadlines:
            echo(
                "    期限 / open deadlines: " + "  ".join(map(_deadline_text, view.open_deadlines))
            )

    replay = _Ladder(wf, days.cal, days.cutoff)
    pids = _play(wf, demo, replay, on_step)
    _add_users(wf)
    projects = _summaries(wf, demo, pids, days)
    report = wf.verify()
    live = [pids[key] for key in FOR_THE_WORKER]
    if as_json:
        echo(
            json.dumps(
                {
                    "project_id": pids["walk"],
                    "steps": log,
                    "projects": projects,
                    "live_projects": live,
                    "notices": {"sent": dict(replay.created), "ticks": replay.ticks},
                    "users": [u.to_dict() for u in DEMO_USERS],
                    "password": DEMO_PASSWORD,
                    "verify": report.to_dict(),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return pids["walk"]
    echo("")
    echo(f"演示项目 / demo projects ({len(projects)}):")
    for p in projects:
        echo(
            f"  #{p['id']:<3} [{p['state']}] {p['title']} — {p['purchaser']}"
            + (f" · {p['policy']}" if p["policy"] != wf.policy.name else "")
        )
        echo(f"       {p['shows']}")
        for d in p["overdue"]:
            stage = f"，已发 / sent: {d['last_notice']}" if d["last_notice"] else ""
            echo(
                f"       逾期 / overdue: {d['key']} 截止 {d['due']}，"
                f"{d['working_days_late']} 个工作日 / working days{stage}"
            )
        if p["provisional"]:
            echo("       暂定 / provisional: " + ", ".join(p["provisional"]))
    sent = ", ".join(f"{stage} {n}" for stage, n in sorted(replay.created.items()))
    echo(
        f"通知 / notices sent on their days: {sum(replay.created.values())} ({sent}); "
        f"the worker sends what falls due from {days.cutoff:%Y-%m-%d %H:%M}"
    )
    echo("")
    echo_logins(echo)
    echo("")
    echo(f"留痕核验 verify: {'OK' if report.ok else 'ALTERED'} ({report.entries} 条 / entries)")
    echo(f"项目 / project {pids['walk']}: gpw project history {pids['walk']}")
    return pids["walk"]


def echo_logins(echo: Callable[[str], Any] = print) -> None:
    """Print the demo logins (login, role, organisation, what each can do) and their password:
    ``gpw demo`` does after seeding, and a server started on a demo database may on each start."""
    echo(f"演示账号 / demo logins（密码 / password: {DEMO_PASSWORD}）:")
    for u in DEMO_USERS:
        echo(f"  {u.login:<12} {u.role:<11} {u.org}")
        echo(f"  {'':<12} {u.can}")


def seed_if_empty(
    wf: Workflow, *, echo: Callable[[str], Any] = print, as_json: bool = False
) -> bool:
    """Seed the demo on a database with no project yet (``make run``'s first start), marked as
    a demo database (``gpw demo`` may replace it later); True if it seeded. A database with
    projects is left as it is. One process seeds: start the others after it."""
    from workflow.persistence import DEMO_MARK
    from workflow.store.outbox import upsert_meta

    if wf.projects(limit=1):
        return False
    with wf.db.transaction() as conn:
        upsert_meta(conn, DEMO_MARK, "gpw demo")
    run_demo(wf, echo=echo, as_json=as_json)
    return True
