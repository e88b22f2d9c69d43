"""The lifecycle state machine: events, who may fire them, the guards that enforce the policy.

One ``transitions.Machine`` is built once, from the :data:`EVENTS` table, with
``auto_transitions=False`` (no ``to_<state>()`` backdoor) and no model bound to it. Each request
wraps a *copy* of the project in a small :class:`_Run` adapter and fires the event on it
(DESIGN.md §1: about 8 µs a request, no per-project machine). Guards are adapter methods that return
``False`` and record a :class:`GuardRefused` naming the rule; effects run in ``after`` callbacks on
the copy, so a refused event leaves the caller's project untouched.

Checks run in a fixed order: data (``InvalidInput``, see :mod:`states.payloads`), then state
(``IllegalTransition``), then role and organisation (``Forbidden``), then guards
(``GuardRefused``).

An event is declared once, in :data:`EVENTS`: its sources, destination, roles, payload model,
guards (methods of :class:`_Run` named ``g_*``, each naming its rule), effect (``apply_*``) and
whether it consults the contractor register. Everything else (the machine, payload parsing, the
facade, the CLI's ``--fields``) is derived from that table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_UP, Decimal
from functools import cache
from typing import Any, cast

from transitions import Machine

from states import deadlines as dl
from states import payments as pm
from states.calendar import WorkingDayCalendar
from states.enums import (
    ACTIVE_STATES,
    CONTRACT_TERMS,
    EDUCATION_LEVELS,
    QUALIFICATIONS,
    DeadlineKind,
    DeadlineStatus,
    EvaluationKind,
    ProjectState,
    Role,
)
from states.errors import Forbidden, GuardRefused, IllegalTransition, InvalidInput
from states.model import (
    SYSTEM_ACTOR,
    Actor,
    Ban,
    BudgetReview,
    ClockChange,
    Contract,
    Contractor,
    Deadline,
    DeadlineChange,
    Evaluation,
    PaidPart,
    Payment,
    PaymentDispute,
    PriorContract,
    Project,
    Rectification,
    Review,
    Settlement,
    SubcontractRequest,
    Training,
    deep_copy,
)
from states.payloads import (
    Approve,
    Award,
    CorrectDeadline,
    DispatchStaff,
    DisputePayment,
    Empty,
    Evaluate,
    ExtendDeadline,
    OnDate,
    OrderRectification,
    Pay,
    Payload,
    PublishNotice,
    Reason,
    RecordReview,
    RecordTraining,
    RequestSubcontract,
    ResolveDispute,
    ResumeDeadline,
    ReviewBudget,
    RevisePlan,
    Settle,
    SignContract,
    SubcontractDecision,
    SubcontractRef,
    SuspendDeadline,
    Terminate,
)
from states.policy import Policy, Unlock

S = ProjectState
P, G, F, C, E = Role.PURCHASER, Role.GOVERNMENT, Role.FINANCE, Role.CONTRACTOR, Role.EVALUATOR
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class EventSpec:
    """One row of the event table: everything about an event, declared once."""

    name: str
    sources: tuple[ProjectState, ...]
    #: None: the project stays in its state (an internal transition)
    dest: ProjectState | None
    roles: frozenset[Role]
    #: the model its data is validated against (``InvalidInput`` names the field)
    payload: type[Payload]
    #: guard methods of :class:`_Run`, checked in order; each refusal names its rule
    guards: tuple[str, ...] = ()
    #: the effect method of :class:`_Run` applied after the guards pass
    effect: str = ""
    #: the event consults the contractor register (R4, R5, R12, R20)
    needs_contractor: bool = False
    zh: str = ""
    en: str = ""


def _spec(
    name: str,
    sources: tuple[ProjectState, ...] | ProjectState,
    dest: ProjectState | None,
    payload: type[Payload],
    roles: tuple[Role, ...] = (P,),
    guards: tuple[str, ...] = (),
    zh: str = "",
    en: str = "",
    needs_contractor: bool = False,
) -> EventSpec:
    srcs = sources if isinstance(sources, tuple) else (sources,)
    return EventSpec(
        name,
        srcs,
        dest,
        frozenset(roles),
        payload,
        guards,
        f"apply_{name}",
        needs_contractor,
        zh,
        en,
    )


SERVICE = (S.CONTRACTED, S.IN_SERVICE)
RUNNING = (S.IN_SERVICE, S.RECTIFYING)
AFTER_SIGNING = (S.CONTRACTED, S.IN_SERVICE, S.RECTIFYING, S.ACCEPTED, S.TAKEOVER)

#: The event table. Event names are public contracts; add, never rename.
EVENTS: dict[str, EventSpec] = {
    s.name: s
    for s in (
        _spec("revise_plan", S.DRAFT, None, RevisePlan, zh="修改实施方案", en="revise the plan"),
        _spec(
            "submit",
            S.DRAFT,
            S.PENDING_APPROVAL,
            Empty,
            guards=("g_plan_complete",),
            zh="提交审批",
            en="submit for approval",
        ),
        _spec(
            "review_budget",
            S.PENDING_APPROVAL,
            None,
            ReviewBudget,
            roles=(F,),
            zh="财政审核预算",
            en="review the budget",
        ),
        _spec(
            "approve",
            S.PENDING_APPROVAL,
            S.APPROVED,
            Approve,
            roles=(G,),
            guards=("g_budget_reviewed", "g_purchasable", "g_budget_floor"),
            zh="批准立项",
            en="approve",
        ),
        _spec("reject", S.PENDING_APPROVAL, S.DRAFT, Reason, roles=(G, F), zh="退回", en="reject"),
        _spec(
            "publish_notice",
            S.APPROVED,
            S.PROCURING,
            PublishNotice,
            zh="发布采购公告",
            en="publish the procurement notice",
        ),
        _spec(
            "record_review",
            S.PROCURING,
            None,
            RecordReview,
            guards=("g_not_price_alone", "g_scored_registered"),
            zh="记录专家评审",
            en="record the expert review",
            needs_contractor=True,
        ),
        _spec(
            "award",
            S.PROCURING,
            S.AWARDED,
            Award,
            guards=("g_registered", "g_qualified", "g_not_banned", "g_reviewed", "g_ranked_first"),
            zh="确定承接主体",
            en="award",
            needs_contractor=True,
        ),
        _spec(
            "fail_procurement",
            S.PROCURING,
            S.APPROVED,
            Reason,
            zh="采购失败",
            en="procurement failed",
        ),
        _spec(
            "sign_contract",
            S.AWARDED,
            S.CONTRACTED,
            SignContract,
            guards=("g_terms", "g_price_within_budget", "g_term_within_cycle"),
            zh="签订合同",
            en="sign the contract",
            needs_contractor=True,
        ),
        _spec(
            "dispatch_staff",
            S.CONTRACTED,
            S.IN_SERVICE,
            DispatchStaff,
            roles=(P, C),
            guards=(
                "g_after_signing",
                "g_staff_qualified",
                "g_staff_cover_plan",
                "g_trained_before_duty",
            ),
            zh="人员派遣",
            en="dispatch staff",
        ),
        _spec(
            "record_training",
            (*SERVICE, S.RECTIFYING),
            None,
            RecordTraining,
            roles=(P, C),
            guards=("g_training_dated", "g_training_not_recorded"),
            zh="记录业务培训",
            en="record a training",
        ),
        _spec(
            "pay",
            AFTER_SIGNING,
            None,
            Pay,
            roles=(P, F),
            guards=("g_tranche_unlocked", "g_amount"),
            zh="拨付资金",
            en="pay",
        ),
        _spec(
            "dispute_payment",
            AFTER_SIGNING,
            None,
            DisputePayment,
            guards=("g_dispute_tranche", "g_one_dispute", "g_dispute_amount"),
            zh="对部分款项提出争议",
            en="dispute part of a payment",
        ),
        _spec(
            "resolve_dispute",
            AFTER_SIGNING,
            None,
            ResolveDispute,
            guards=("g_dispute_open", "g_found_due"),
            zh="解决付款争议",
            en="resolve a payment dispute",
        ),
        _spec(
            "evaluate",
            RUNNING,
            None,
            Evaluate,
            roles=(E, P),
            guards=(
                "g_evaluation_held",
                "g_evaluators",
                "g_after_effect",
                "g_one_per_period",
                "g_evaluation_window",
            ),
            zh="绩效评价",
            en="evaluate",
        ),
        _spec(
            "order_rectification",
            S.IN_SERVICE,
            S.RECTIFYING,
            OrderRectification,
            zh="责令限期整改",
            en="order rectification",
        ),
        _spec(
            "complete_rectification",
            S.RECTIFYING,
            S.IN_SERVICE,
            OnDate,
            guards=("g_after_order",),
            zh="整改完成",
            en="rectification completed",
        ),
        _spec(
            "request_subcontract",
            SERVICE,
            None,
            RequestSubcontract,
            roles=(C,),
            guards=("g_not_transfer",),
            zh="申请分包",
            en="request a subcontract",
        ),
        _spec(
            "approve_subcontract",
            (*SERVICE, S.RECTIFYING),
            None,
            SubcontractDecision,
            guards=("g_request_pending", "g_shares_within_limit"),
            zh="批准分包",
            en="approve a subcontract",
        ),
        _spec(
            "reject_subcontract",
            (*SERVICE, S.RECTIFYING),
            None,
            SubcontractDecision,
            guards=("g_request_pending",),
            zh="驳回分包",
            en="reject a subcontract",
        ),
        _spec(
            "subcontract",
            SERVICE,
            None,
            SubcontractRef,
            roles=(C,),
            guards=("g_request_approved",),
            zh="分包",
            en="subcontract",
        ),
        _spec(
            "remove_contractor",
            RUNNING,
            S.TAKEOVER,
            Reason,
            roles=(P, Role.SYSTEM),
            zh="清退承接主体并启动临时接管",
            en="remove the contractor and take over",
        ),
        _spec(
            "settle",
            S.TAKEOVER,
            None,
            Settle,
            roles=(P, F),
            guards=("g_settlement",),
            zh="结算已提供的服务",
            en="settle the service delivered",
        ),
        _spec(
            "reprocure",
            S.TAKEOVER,
            S.APPROVED,
            Reason,
            zh="重新组织采购",
            en="procure again",
        ),
        _spec(
            "terminate",
            ACTIVE_STATES,
            S.TERMINATED,
            Terminate,
            roles=(P, G),
            guards=("g_ban_has_contractor",),
            zh="终止",
            en="terminate",
            needs_contractor=True,
        ),
        _spec(
            "accept",
            S.IN_SERVICE,
            S.ACCEPTED,
            OnDate,
            guards=("g_final_passed",),
            zh="检查验收",
            en="inspect and accept",
        ),
        _spec("close", S.ACCEPTED, S.CLOSED, Empty, guards=("g_all_paid",), zh="结项", en="close"),
        _spec(
            "correct_deadline",
            AFTER_SIGNING,
            None,
            CorrectDeadline,
            guards=("g_deadline_open",),
            zh="更正期限",
            en="correct a deadline",
        ),
        _spec(
            "suspend_deadline",
            AFTER_SIGNING,
            None,
            SuspendDeadline,
            guards=("g_deadline_suspendable",),
            zh="中止计时",
            en="suspend a deadline",
        ),
        _spec(
            "resume_deadline",
            AFTER_SIGNING,
            None,
            ResumeDeadline,
            guards=("g_deadline_resumable",),
            zh="恢复计时",
            en="resume a deadline",
        ),
        _spec(
            "extend_deadline",
            AFTER_SIGNING,
            None,
            ExtendDeadline,
            guards=("g_deadline_extendable",),
            zh="延长期限",
            en="extend a deadline",
        ),
    )
}

#: guards that read only the project, not the event's data: `available_events` checks them
STATE_GUARDS = frozenset(
    {"g_plan_complete", "g_budget_reviewed", "g_purchasable", "g_final_passed", "g_all_paid"}
)

#: deadlines an event meets, besides those its effect handles itself
CONTRACTOR_DEADLINES = (DeadlineKind.DISPATCH.value, DeadlineKind.RECTIFICATION.value)


@dataclass(frozen=True, slots=True)
class Context:
    """What a decision may consult besides the project: no clock, no database."""

    policy: Policy
    calendar: WorkingDayCalendar
    #: the contractor the event concerns (award: the candidate; later: the project's)
    contractor: Contractor | None = None
    #: registered contractors the event may consult, by id (the candidates of a review, R4, R5);
    #: ``contractor`` is always among them
    contractors: Mapping[int, Contractor] = field(default_factory=dict)
    #: R18: the budgets of the purchaser's other plans of the plan's year, submitted or approved
    #: (read by the caller for ``approve`` under a policy with a floor)
    other_budgets: Decimal = Decimal(0)

    def registered(self, contractor_id: int) -> Contractor | None:
        found = self.contractors.get(contractor_id)
        if found is None and self.contractor is not None and self.contractor.id == contractor_id:
            found = self.contractor
        return found


@dataclass(slots=True)
class Record:
    """One accepted event, as the audit trail keeps it."""

    event: str
    actor: Actor
    at: datetime
    from_state: ProjectState
    to_state: ProjectState
    data: dict[str, Any]


@dataclass(slots=True)
class Outcome:
    """What :func:`fire` decided: the new project, the records to audit, effects elsewhere."""

    project: Project
    records: list[Record] = field(default_factory=list)
    #: bans to write into contractors' credit records (R12)
    bans: list[tuple[int, Ban]] = field(default_factory=list)


class _Run:
    """The per-request adapter the shared machine fires on (never a SQLModel row)."""

    def __init__(
        self,
        project: Project,
        payload: Payload,
        actor: Actor,
        at: datetime,
        ctx: Context,
    ) -> None:
        self.state = project.state.value
        self.project = project
        self.payload = payload
        self.actor = actor
        self.at = at
        self.day = dl.business_date(at)
        self.ctx = ctx
        self.refusal: GuardRefused | None = None
        self.extra: dict[str, Any] = {}
        self.followups: list[tuple[str, Payload]] = []
        self.bans: list[tuple[int, Ban]] = []

    # -- helpers --------------------------------------------------------------------------------

    def refuse(
        self, rule: str, zh: str, en: str, *, field: str | None = None, **details: Any
    ) -> bool:
        self.refusal = GuardRefused(zh, en, rule=rule, field=field, details=details)
        return False

    def data(self, kind: type[Payload]) -> Any:
        return cast(Any, self.payload) if isinstance(self.payload, kind) else None

    @property
    def contract(self) -> Contract:
        assert self.project.contract is not None  # every event that reads it follows signing
        return self.project.contract

    def _open(self, deadline: Any) -> None:
        self.project.deadlines = [d for d in self.project.deadlines if d.key != deadline.key]
        self.project.deadlines.append(deadline)

    def _meet(self, key: str, on: date) -> None:
        deadline = self.project.deadline(key)
        if deadline is not None and deadline.status is DeadlineStatus.OPEN:
            dl.meet(deadline, on=on, by=self.actor.id)

    def _cancel(self, kinds: tuple[str, ...] | None, reason: str) -> None:
        for d in self.project.open_deadlines():
            if kinds is None or d.kind in kinds:
                dl.cancel(d, reason=reason)

    def _payment_deadline(self, index: int, anchor_event: str, anchor_on: date) -> None:
        tranche = self.ctx.policy.tranches[index - 1]
        cap = None
        if self.contract.sme:
            cap = self.contract.sme_payment_days or self.ctx.policy.sme_payment_days
        key = f"payment_{index}"
        existing = self.project.deadline(key)
        # a met or cancelled one left by a contract ended by ``reprocure`` is opened anew
        if existing is not None and existing.status is DeadlineStatus.OPEN:
            return
        if self._paid(index):
            return
        self._open(
            dl.working_days(
                key=key,
                kind=key,
                owner=P,
                rule="R7" if cap is None else "R7,R20",
                anchor_event=anchor_event,
                anchor_on=anchor_on,
                n=tranche.window_working_days,
                calendar=self.ctx.calendar,
                cap_days=cap,
            )
        )

    def _paid(self, tranche: int) -> bool:
        return any(p.tranche == tranche for p in self.project.payments)

    def _passed(self, kind: EvaluationKind, by: date) -> date | None:
        days = [
            e.on for e in self.project.evaluations if e.kind is kind and e.passed and e.on <= by
        ]
        return min(days) if days else None

    def accounts(self) -> list[pm.TrancheAccount]:
        """Each tranche's account under the live contract (R7, R20): amount, paid, dispute."""
        p = self.project
        return pm.accounts(
            self.contract,
            self.ctx.policy,
            payments=p.payments,
            settlements=p.settlements,
            disputes=p.disputes,
            deadlines=p.deadlines,
        )

    def _dispute(self, dispute_id: int) -> PaymentDispute | None:
        return next((d for d in self.project.disputes if d.id == dispute_id), None)

    # -- guards (each names its rule) -----------------------------------------------------------

    def g_plan_complete(self) -> bool:
        if not self.project.items:
            return self.refuse(
                "R1", "实施方案至少须有一个服务项目", "the plan needs a service item"
            )
        if self.project.budget <= 0:
            return self.refuse("R1", "预算须大于 0", "the budget must be greater than 0")
        return True

    def g_budget_reviewed(self) -> bool:
        review = self.project.budget_review
        if review is None:
            return self.refuse(
                "R1", "预算尚未经财政审核", "the budget has not been reviewed by finance"
            )
        if not review.approved:
            return self.refuse("R1", "财政审核未通过预算", "finance did not approve the budget")
        return True

    def g_purchasable(self) -> bool:
        bad = [i.name for i in self.project.items if i.administrative]
        if bad:
            return self.refuse(
                "R2",
                f"应当由政府直接承担的行政管理性事务不得购买：{'、'.join(bad)}",
                f"administrative duties of government may not be purchased: {', '.join(bad)}",
                items=bad,
            )
        return True

    def g_not_price_alone(self) -> bool:
        review: RecordReview = self.data(RecordReview)
        quality = review.criteria.get("quality", Decimal(0))
        if quality <= 0:
            return self.refuse(
                "R5",
                "评审标准须包含服务质量（quality 权重 > 0），不得以价格作为唯一标准",
                "the criteria must weigh quality (> 0); price alone may not decide",
            )
        price = review.criteria.get("price", Decimal(0))
        limit = self.ctx.policy.max_price_weight
        if price > limit:
            return self.refuse(
                "R5",
                f"价格权重 {price} 超过政策上限 {limit}：不得以“价低者得”作为选择标准",
                f"the price weighs {price}, more than the policy's {limit}: price may not decide",
                price_weight=str(price),
                max_price_weight=str(limit),
            )
        return True

    def g_scored_registered(self) -> bool:
        review: RecordReview = self.data(RecordReview)
        unknown = [k for k in review.scores if self.ctx.registered(int(k)) is None]
        if unknown:
            return self.refuse(
                "R4",
                f"只能为已登记的承接主体打分，未登记：{', '.join(unknown)}",
                f"only registered contractors can be scored; not registered: {', '.join(unknown)}",
                unregistered=unknown,
            )
        return True

    def _ineligible(self, contractor: Contractor | None) -> tuple[str, str, str] | None:
        """Why a candidate may not be awarded (R4, R12), or None."""
        if contractor is None:
            return ("R4", "未登记", "not registered")
        missing = [q for q in QUALIFICATIONS if not contractor.qualifications.get(q)]
        if missing:
            return (
                "R4",
                f"不具备条件：{', '.join(missing)}",
                f"does not meet: {', '.join(missing)}",
            )
        ban = contractor.ban_on(self.day)
        if ban is not None:
            return (
                "R12",
                f"在 {ban.until} 前被禁止参与：{ban.reason}",
                f"banned until {ban.until}: {ban.reason}",
            )
        return None

    def g_registered(self) -> bool:
        award: Award = self.data(Award)
        if self.ctx.registered(award.contractor_id) is None:
            return self.refuse(
                "R4",
                f"承接主体 {award.contractor_id} 未登记",
                f"contractor {award.contractor_id} is not registered",
            )
        return True

    def g_qualified(self) -> bool:
        candidate = self.ctx.registered(self.data(Award).contractor_id)
        assert candidate is not None
        missing = [q for q in QUALIFICATIONS if not candidate.qualifications.get(q)]
        if missing:
            return self.refuse(
                "R4",
                f"承接主体不具备条件：{', '.join(missing)}",
                f"the contractor does not meet: {', '.join(missing)}",
                missing=missing,
            )
        return True

    def g_not_banned(self) -> bool:
        candidate = self.ctx.registered(self.data(Award).contractor_id)
        assert candidate is not None
        ban = candidate.ban_on(self.day)
        if ban is not None:
            return self.refuse(
                "R12",
                f"承接主体在 {ban.until} 前被禁止参与：{ban.reason}",
                f"the contractor is banned until {ban.until}: {ban.reason}",
                until=ban.until.isoformat(),
            )
        return True

    def g_reviewed(self) -> bool:
        award: Award = self.data(Award)
        if not self.project.reviews:
            return self.refuse("R5", "尚未记录专家评审", "no expert review has been recorded")
        if str(award.contractor_id) not in self.project.reviews[-1].scores:
            return self.refuse(
                "R5",
                "该承接主体未在最近一次专家评审中打分",
                "the contractor was not scored in the latest expert review",
            )
        return True

    def g_ranked_first(self) -> bool:
        """R5: the award follows the review's ranking among eligible candidates; another
        candidate needs a recorded reason (政府采购法实施条例 第四十三条)."""
        award: Award = self.data(Award)
        scores = self.project.reviews[-1].scores
        eligible = {
            cid: score
            for cid, score in scores.items()
            if self._ineligible(self.ctx.registered(int(cid))) is None
        }
        best = max(eligible.values())
        mine = scores[str(award.contractor_id)]
        if mine < best and award.reason is None:
            first = sorted(c for c, v in eligible.items() if v == best)
            return self.refuse(
                "R5",
                f"评审排名第一的合格候选人为 {', '.join(first)}（{best} 分），授予得分 {mine} 的"
                "候选人须说明理由（reason，如第一名放弃）",
                f"the review ranks {', '.join(first)} first ({best}); awarding a candidate scored "
                f"{mine} needs a reason (e.g. the first declined)",
                first=first,
                best=str(best),
                score=str(mine),
            )
        if mine < best:
            self.extra = {"ranked_first": False}
        return True

    def g_terms(self) -> bool:
        sign: SignContract = self.data(SignContract)
        missing = [t for t in CONTRACT_TERMS if not sign.terms.get(t, "").strip()]
        if missing:
            return self.refuse(
                "R6",
                f"合同缺少必备条款：{', '.join(missing)}",
                f"the contract lacks mandatory terms: {', '.join(missing)}",
                missing=missing,
            )
        return True

    def g_price_within_budget(self) -> bool:
        sign: SignContract = self.data(SignContract)
        spent = self.project.prior_paid()
        available = self.project.budget - spent
        if sign.price > available:
            extra_zh = f"（已向此前的承接主体支付 {spent}）" if spent else ""
            extra_en = f" (already paid to an earlier contractor: {spent})" if spent else ""
            return self.refuse(
                "R6",
                f"合同价格 {sign.price} 超过预算 {self.project.budget}{extra_zh}",
                f"the price {sign.price} exceeds the budget {self.project.budget}{extra_en}",
            )
        return True

    def g_term_within_cycle(self) -> bool:
        sign: SignContract = self.data(SignContract)
        cycle = self.ctx.policy.cycle_years * 12
        if sign.term_months > cycle:
            return self.refuse(
                "R6",
                f"合同期限 {sign.term_months} 个月超过购买周期 {cycle} 个月",
                f"the term of {sign.term_months} months exceeds the {cycle}-month cycle",
            )
        return True

    def g_after_signing(self) -> bool:
        on = self.data(DispatchStaff).on
        if on < self.contract.signed_on:
            return self.refuse(
                "R8", "派遣日期早于合同签订日期", "staff cannot be dispatched before signing"
            )
        return True

    def g_staff_qualified(self) -> bool:
        floor = EDUCATION_LEVELS.index(self.ctx.policy.min_education)
        for member in self.data(DispatchStaff).staff:
            if EDUCATION_LEVELS.index(member.education) < floor:
                return self.refuse(
                    "R8",
                    f"{member.name} 学历须为{self.ctx.policy.min_education}及以上",
                    f"{member.name}: education must be {self.ctx.policy.min_education} or above",
                    staff=member.name,
                )
            if not member.computer_literate:
                return self.refuse(
                    "R8",
                    f"{member.name} 须能熟练操作计算机",
                    f"{member.name} must be computer-literate",
                    staff=member.name,
                )
        return True

    def g_staff_cover_plan(self) -> bool:
        """R17: the staff dispatched cover the plan's staffing items: for each office an item
        names, as many people serving that office as its items ask for; in all, as many as every
        staffing item asks for (an item naming no office counts in the total only). A person is
        counted once: a name listed twice is refused."""
        staff = self.data(DispatchStaff).staff
        seen: set[str] = set()
        for member in staff:
            if member.name in seen:
                return self.refuse(
                    "R17",
                    f"派遣名单中 {member.name} 出现两次：每人只计一次",
                    f"{member.name} is listed twice: each person counts once",
                    field="staff",
                    staff=member.name,
                )
            seen.add(member.name)
        wanted: dict[str, Decimal] = {}
        total = Decimal(0)
        for item in self.project.items:
            if item.staffing:
                total += item.quantity
                if item.office.strip():
                    office = item.office.strip()
                    wanted[office] = wanted.get(office, Decimal(0)) + item.quantity
        if total == 0:
            return True
        have: dict[str, int] = {}
        for member in staff:
            have[member.office.strip()] = have.get(member.office.strip(), 0) + 1
        short = [(o, n, have.get(o, 0)) for o, n in wanted.items() if have.get(o, 0) < n]
        if short:
            return self.refuse(
                "R17",
                "派遣人员未按实施方案覆盖各单位："
                + "；".join(f"{o} 须 {n} 人，派遣 {h} 人" for o, n, h in short),
                "the staff do not cover the plan's offices: "
                + "; ".join(f"{o} needs {n}, {h} dispatched" for o, n, h in short),
                field="staff",
                short={o: {"needed": str(n), "dispatched": h} for o, n, h in short},
            )
        if len(staff) < total:
            return self.refuse(
                "R17",
                f"实施方案须派遣 {total} 人，只派遣 {len(staff)} 人",
                f"the plan needs {total} staff, {len(staff)} dispatched",
                field="staff",
                needed=str(total),
                dispatched=len(staff),
            )
        return True

    def g_trained_before_duty(self) -> bool:
        """R14: where the policy says so, the staff are trained before they go on duty (Dawukou
        001 §六: 上岗之前必须培训): trainings recorded on or before the dispatch day, attended by
        at least as many as are dispatched (001 §八(三): 全员覆盖)."""
        if not self.ctx.policy.training_before_duty:
            return True
        dispatch: DispatchStaff = self.data(DispatchStaff)
        before = [t for t in self.project.trainings if t.on <= dispatch.on]
        if not before:
            return self.refuse(
                "R14",
                f"入户核查员上岗之前必须培训：{dispatch.on} 及以前没有记录培训（record_training）",
                f"the staff are trained before duty: no training is recorded on or before "
                f"{dispatch.on} (record_training)",
                field="on",
            )
        trained = sum(t.attendees for t in before)
        if trained < len(dispatch.staff):
            return self.refuse(
                "R14",
                f"上岗前培训共 {trained} 人次，少于派遣的 {len(dispatch.staff)} 人：须全员培训",
                f"the trainings before duty had {trained} attendees, fewer than the "
                f"{len(dispatch.staff)} staff dispatched: everyone is trained",
                field="staff",
                trained=trained,
                dispatched=len(dispatch.staff),
            )
        return True

    def g_training_dated(self) -> bool:
        on = self.data(RecordTraining).on
        if on < self.contract.signed_on:
            return self.refuse(
                "R14",
                f"培训日期 {on} 早于合同签订日期 {self.contract.signed_on}：不计入本合同",
                f"a training on {on} is before the contract was signed "
                f"({self.contract.signed_on}): it does not count for this contract",
                field="on",
            )
        return True

    def g_training_not_recorded(self) -> bool:
        new: RecordTraining = self.data(RecordTraining)
        topic = _same_text(new.topic)
        for held in self.project.trainings:
            if held.on == new.on and _same_text(held.topic) == topic:
                return self.refuse(
                    "R14",
                    f"{new.on} 的培训「{held.topic}」已记录：同一次培训只记录一次",
                    f"the training {held.topic!r} on {new.on} is recorded already: a training "
                    "is recorded once",
                    field="topic",
                )
        return True

    def g_budget_floor(self) -> bool:
        """R18: where the policy sets a floor (Jilin 000 三(四): 原则上不低于社会救助专项经费的
        1%), the purchaser's purchase budgets of the plan's year (this plan's and its other
        plans' submitted or approved, ``Context.other_budgets``) reach that share of the
        year's special assistance funds the plan states; a plan stating none is refused."""
        floor = self.ctx.policy.min_budget_percent_of_assistance_funds
        if floor is None:
            return True
        funds = self.project.assistance_funds
        if funds is None:
            return self.refuse(
                "R18",
                f"政策 {self.ctx.policy.name} 要求购买经费不低于社会救助专项经费的 {floor}%："
                "实施方案须写明本年度社会救助专项经费（assistance_funds，以 revise_plan 补充）",
                f"policy {self.ctx.policy.name} sets the purchase funds at {floor} % of the "
                "special assistance funds at least: the plan must state the year's funds "
                "(assistance_funds, by revise_plan)",
                field="assistance_funds",
            )
        budgets = self.project.budget + self.ctx.other_budgets
        if budgets * 100 < funds * floor:
            least = (funds * floor / 100).quantize(CENT, rounding=ROUND_UP)
            others_zh = f"（含本单位本年度其他项目 {self.ctx.other_budgets}）"
            others_en = f" (with the purchaser's other plans of the year: {self.ctx.other_budgets})"
            more = bool(self.ctx.other_budgets)
            return self.refuse(
                "R18",
                f"购买预算 {budgets}{others_zh if more else ''} 低于社会救助专项经费 {funds} 的 "
                f"{floor}%（{least}）",
                f"the purchase budget {budgets}{others_en if more else ''} is below {floor} % "
                f"of the special assistance funds {funds} ({least})",
                field="budget",
                least=str(least),
                budgets=str(budgets),
            )
        return True

    def g_tranche_unlocked(self) -> bool:
        pay: Pay = self.data(Pay)
        tranches = self.ctx.policy.tranches
        n = pay.tranche
        if n > len(tranches):
            return self.refuse(
                "R7", f"该政策只有 {len(tranches)} 期款", f"the policy has {len(tranches)} tranches"
            )
        accounts = self.accounts()
        if accounts[n - 1].complete:
            return self.refuse("R7", f"第 {n} 期款已拨付", f"tranche {n} was already paid")
        # R20: a part of the earlier tranche still in dispute holds back no later payment
        if n > 1 and not accounts[n - 2].clear:
            return self.refuse(
                "R7", f"第 {n - 1} 期款尚未拨付", f"tranche {n - 1} has not been paid yet"
            )
        unlock = tranches[n - 1].unlocked_by
        if unlock is Unlock.CONTRACT_EFFECTIVE and pay.on < self.contract.effective_on:
            return self.refuse(
                "R7", "合同尚未生效，不得拨付首期款", "the contract is not yet in effect"
            )
        if unlock is Unlock.MIDTERM_PASSED and self._passed(EvaluationKind.MIDTERM, pay.on) is None:
            return self.refuse(
                "R7",
                f"中期评估通过前不得拨付第 {n} 期款",
                f"tranche {n} needs a passed mid-term evaluation",
            )
        if unlock is Unlock.FINAL_PASSED and self._passed(EvaluationKind.FINAL, pay.on) is None:
            return self.refuse(
                "R7",
                f"终期评估通过前不得拨付第 {n} 期款",
                f"tranche {n} needs a passed final evaluation",
            )
        return True

    def g_amount(self) -> bool:
        """R7: a payment pays whole parts of its tranche, in order: the tranche (its share; the
        last: the rest of the price), or, under a dispute, its undisputed part and then the part
        found due; R20: never the disputed part before ``resolve_dispute``."""
        pay: Pay = self.data(Pay)
        n = pay.tranche
        account = self.accounts()[n - 1]
        allowed = account.payable_amounts()
        held = account.held
        if not allowed or (held and pay.amount > allowed[-1]):
            dispute = account.dispute
            assert dispute is not None  # only a disputed part can be left unpayable
            return self.refuse(
                "R20",
                f"第 {n} 期款中有争议的 {held} 元须待争议（第 {dispute.id} 号）解决后方可拨付"
                + (f"；现可拨付 {allowed[-1]} 元" if allowed else "（未争议部分已拨付）"),
                f"the disputed {held} of tranche {n} is paid only after dispute {dispute.id} is "
                "resolved" + (f"; payable now: {allowed[-1]}" if allowed else ""),
                dispute=dispute.id,
                held=str(held),
            )
        if pay.amount not in allowed:
            expected = allowed[0]
            options = " 或 ".join(str(a) for a in allowed)
            if account.dispute is None and account.paid == 0:
                zh = f"第 {n} 期应拨付 {expected} 元，而非 {pay.amount} 元"
                en = f"tranche {n} is {expected}, not {pay.amount}"
            else:
                zh = f"第 {n} 期现可拨付 {options} 元，而非 {pay.amount} 元"
                en = f"tranche {n}: payable now {' or '.join(map(str, allowed))}, not {pay.amount}"
            return self.refuse(
                "R7", zh, en, expected=str(expected), payable=[str(a) for a in allowed]
            )
        if self.project.paid_total() + pay.amount > self.contract.price:
            return self.refuse(
                "R7", "累计拨付不得超过合同价格", "payments may not exceed the price"
            )
        return True

    # -- R20 disputes over part of a tranche (条例 第十五条) ------------------------------------

    def g_dispute_tranche(self) -> bool:
        """A tranche unlocked, not yet paid (in whole or in part), disputed by its due day."""
        data: DisputePayment = self.data(DisputePayment)
        n = data.tranche
        tranches = self.ctx.policy.tranches
        if n > len(tranches):
            return self.refuse(
                "R7", f"该政策只有 {len(tranches)} 期款", f"the policy has {len(tranches)} tranches"
            )
        account = self.accounts()[n - 1]
        if account.paid > 0 or account.complete:
            return self.refuse(
                "R20",
                f"第 {n} 期款已拨付（{account.paid} 元），不能再对其提出争议",
                f"tranche {n} was already paid ({account.paid}): it cannot be disputed",
            )
        deadline = self.project.deadline(pm.tranche_key(n))
        on = data.on or self.day
        if (
            deadline is None
            or deadline.status is not DeadlineStatus.OPEN
            or on < deadline.anchor_on
        ):
            return self.refuse(
                "R7",
                f"第 {n} 期款尚未到拨付条件，无从争议",
                f"tranche {n} is not yet payable: there is nothing to dispute",
            )
        if on > deadline.due:
            return self.refuse(
                "R20",
                f"第 {n} 期款的付款期限 {deadline.due} 已过：逾期的款项不能以争议为由暂缓支付",
                f"tranche {n} was due on {deadline.due}: an overdue payment is not held back by "
                "a dispute raised after it",
                due=deadline.due.isoformat(),
            )
        return True

    def g_one_dispute(self) -> bool:
        n = self.data(DisputePayment).tranche
        earlier = next((d for d in self.project.disputes if d.tranche == n), None)
        if earlier is None:
            return True
        if earlier.status == "open":
            return self.refuse(
                "R20",
                f"第 {n} 期款已有未解决的争议（第 {earlier.id} 号）：请先解决（resolve_dispute）",
                f"tranche {n} has an open dispute ({earlier.id}): resolve it first",
                dispute=earlier.id,
            )
        return self.refuse(
            "R20",
            f"第 {n} 期款的争议（第 {earlier.id} 号）已于 {earlier.resolved_on} 解决："
            "每期款只记录一次争议",
            f"tranche {n}'s dispute ({earlier.id}) was resolved on {earlier.resolved_on}: a "
            "tranche is disputed once",
            dispute=earlier.id,
        )

    def g_dispute_amount(self) -> bool:
        data: DisputePayment = self.data(DisputePayment)
        account = self.accounts()[data.tranche - 1]
        if data.amount >= account.amount:
            more = data.amount > account.amount
            return self.refuse(
                "R20",
                f"争议金额 {data.amount} 元"
                + (f"超过第 {data.tranche} 期款 {account.amount} 元" if more else "等于整期款")
                + "：只能对部分款项提出争议，无争议部分应当及时支付",
                f"the disputed {data.amount} "
                + ("exceeds" if more else "is the whole of")
                + f" tranche {data.tranche} ({account.amount}): a dispute is over part of a "
                "tranche; the undisputed part is paid on time",
                tranche_amount=str(account.amount),
            )
        return True

    def g_dispute_open(self) -> bool:
        data: ResolveDispute = self.data(ResolveDispute)
        dispute = self._dispute(data.dispute)
        if dispute is None or dispute.status != "open":
            return self.refuse(
                "R20",
                f"没有未解决的付款争议 {data.dispute}",
                f"no open payment dispute {data.dispute}",
            )
        return True

    def g_found_due(self) -> bool:
        data: ResolveDispute = self.data(ResolveDispute)
        dispute = self._dispute(data.dispute)
        assert dispute is not None  # g_dispute_open
        if data.found_due > dispute.amount:
            return self.refuse(
                "R20",
                f"认定应付 {data.found_due} 元超过争议金额 {dispute.amount} 元",
                f"found due {data.found_due} exceeds the disputed {dispute.amount}",
                disputed=str(dispute.amount),
            )
        if data.on < dispute.on:
            return self.refuse(
                "R20",
                f"解决日期 {data.on} 早于争议提出日期 {dispute.on}",
                f"resolved on {data.on}, before the dispute was raised ({dispute.on})",
            )
        return True

    # -- R10 evaluation periods and windows ------------------------------------------------------

    def period_ends(self) -> list[date]:
        """End of each evaluation period: effective_on + n × interval, moved to the next working
        day as its ``evaluation#n`` deadline is (R10); the last period runs to the term's end."""
        return dl.period_ends(
            effective_on=self.contract.effective_on,
            term_months=self.contract.term_months,
            interval_months=self.ctx.policy.evaluation_interval_months,
            calendar=self.ctx.calendar,
        )

    def period_of(self, day: date) -> int:
        """The 1-based evaluation period ``day`` falls in; after the term: the last one."""
        for n, end in enumerate(self.period_ends(), start=1):
            if day <= end:
                return n
        return len(self.period_ends())

    def contract_end(self) -> date:
        return dl.add_months(self.contract.effective_on, self.contract.term_months) - timedelta(
            days=1
        )

    def midpoint(self) -> date:
        start = self.contract.effective_on
        return start + (self.contract_end() - start + timedelta(days=1)) / 2

    def g_evaluation_held(self) -> bool:
        ev: Evaluate = self.data(Evaluate)
        if not self.ctx.policy.holds(ev.kind):
            held = ", ".join(k.value for k in self.ctx.policy.evaluations)
            return self.refuse(
                "R10",
                f"该政策不进行 {ev.kind.value} 评价（只有：{held}）",
                f"this policy holds no {ev.kind.value} evaluation (only: {held})",
            )
        return True

    def g_evaluators(self) -> bool:
        evaluation: Evaluate = self.data(Evaluate)
        required = self.ctx.policy.evaluators(evaluation.kind)
        missing = [r.value for r in required if r not in evaluation.evaluators]
        if missing:
            return self.refuse(
                "R10",
                f"{evaluation.kind.value} 评价须有 {', '.join(r.value for r in required)} 参与，"
                f"缺少：{', '.join(missing)}",
                f"the {evaluation.kind.value} evaluation lacks evaluators: {', '.join(missing)}",
                missing=missing,
            )
        return True

    def g_after_effect(self) -> bool:
        if self.data(Evaluate).on < self.contract.effective_on:
            return self.refuse(
                "R10", "评价日期早于合同生效日期", "evaluated before the contract's effect"
            )
        return True

    def _period_review(self, period: int) -> Evaluation | None:
        """The evaluation that reviewed ``period`` (a semiannual, or a midterm/final held in it)."""
        return next((e for e in self.project.evaluations if e.period == period), None)

    def g_one_per_period(self) -> bool:
        ev: Evaluate = self.data(Evaluate)
        if ev.kind is not EvaluationKind.SEMIANNUAL:
            return True
        period = self.period_of(ev.on)
        if ev.on > self.contract_end():
            return self.refuse(
                "R10",
                f"半年评价日期 {ev.on} 在合同期限（至 {self.contract_end()}）之后",
                f"a semiannual evaluation on {ev.on} lies after the term ({self.contract_end()})",
            )
        held = self._period_review(period)
        if held is not None:
            return self.refuse(
                "R10",
                f"第 {period} 个评价周期已于 {held.on} 进行过评价（{held.kind.value}），每半年一次",
                f"evaluation period {period} was already evaluated on {held.on} "
                f"({held.kind.value}): one every half year",
                period=period,
            )
        return True

    def _repeat_allowed(self, kind: EvaluationKind, on: date) -> tuple[bool, str, str]:
        earlier = [e for e in self.project.evaluations if e.kind is kind]
        if not earlier:
            return True, "", ""
        if any(e.passed for e in earlier):
            return (
                False,
                f"{kind.value} 评价已通过，只进行一次",
                f"the {kind.value} evaluation was passed already: once only",
            )
        last = earlier[-1]
        fixed = any(
            r.completed_on is not None and last.on <= r.completed_on <= on
            for r in self.project.rectifications
        )
        if not fixed:
            return (
                False,
                f"{kind.value} 评价未通过（{last.on}）；重新评价须在限期整改完成之后（R11）",
                f"the {kind.value} evaluation failed on {last.on}; it is held again only after a "
                "completed rectification (R11)",
            )
        return True, "", ""

    def g_evaluation_window(self) -> bool:
        ev: Evaluate = self.data(Evaluate)
        window = timedelta(days=self.ctx.policy.evaluation_window_days)
        if ev.kind is EvaluationKind.MIDTERM:
            opens = self.midpoint() - window
            if ev.on < opens:
                return self.refuse(
                    "R10",
                    f"中期评估最早于 {opens}（合同期中点 {self.midpoint()} 前 "
                    f"{window.days} 天）进行，不得在 {ev.on}",
                    f"a mid-term evaluation is held from {opens} on (the term's midpoint "
                    f"{self.midpoint()} less {window.days} days), not on {ev.on}",
                    opens=opens.isoformat(),
                )
        elif ev.kind is EvaluationKind.FINAL:
            opens = self.contract_end() - window
            if ev.on < opens:
                return self.refuse(
                    "R10",
                    f"末期评估最早于 {opens}（合同期满 {self.contract_end()} 前 "
                    f"{window.days} 天）进行，不得在 {ev.on}",
                    f"a final evaluation is held from {opens} on (the term's end "
                    f"{self.contract_end()} less {window.days} days), not on {ev.on}",
                    opens=opens.isoformat(),
                )
            if self.ctx.policy.holds(EvaluationKind.MIDTERM) and not any(
                e.kind is EvaluationKind.MIDTERM and e.passed and e.on <= ev.on
                for e in self.project.evaluations
            ):
                return self.refuse(
                    "R10",
                    "末期评估须在中期评估通过之后",
                    "the final evaluation comes after a passed mid-term evaluation",
                )
        else:
            return True
        ok, zh, en = self._repeat_allowed(ev.kind, ev.on)
        return True if ok else self.refuse("R10", zh, en)

    def g_after_order(self) -> bool:
        on = self.data(OnDate).on
        if self.project.rectifications and on < self.project.rectifications[-1].ordered_on:
            return self.refuse("R11", "整改完成日期早于整改通知", "completed before it was ordered")
        return True

    def _shares(self, *statuses: str) -> Decimal:
        return sum(
            (r.share for r in self.project.subcontract_requests if r.status in statuses),
            Decimal(0),
        )

    def _share_refusal(self, share: Decimal, others: Decimal) -> bool:
        limit = self.ctx.policy.max_subcontract_share
        total = others + share
        if share >= 1 or total >= 1:
            return self.refuse(
                "R9",
                f"禁止转包：分包份额合计 {total} 达到整体（不得将服务肢解后分别转让）",
                f"transfer (转包) is forbidden: subcontracted shares total {total}, the whole "
                "service, whether passed on whole or in pieces",
                total=str(total),
            )
        if share > limit or total > limit:
            return self.refuse(
                "R9",
                f"分包份额 {share}（合计 {total}）超过政策上限 {limit}：只可分包非主体、非关键部分",
                f"a subcontract share of {share} (total {total}) exceeds the policy's "
                f"{limit}: only a part, not the main part, may be subcontracted",
                total=str(total),
                limit=str(limit),
            )
        return True

    def g_not_transfer(self) -> bool:
        share = self.data(RequestSubcontract).share
        return self._share_refusal(share, self._shares("requested", "approved", "executed"))

    def g_shares_within_limit(self) -> bool:
        request = self._request(self.data(SubcontractDecision).request_id)
        assert request is not None  # g_request_pending ran first
        return self._share_refusal(request.share, self._shares("approved", "executed"))

    def g_settlement(self) -> bool:
        settle: Settle = self.data(Settle)
        if self.project.contract is None:
            return self.refuse("R12", "没有可结算的合同", "no contract to settle")
        # R20: not what a dispute found not owed, nor a part still in dispute
        disputed = sum((a.waived + a.held for a in self.accounts()), Decimal(0))
        left = self.contract.price - self.project.paid_total() - disputed
        if settle.amount > left:
            return self.refuse(
                "R12",
                f"结算金额 {settle.amount} 超过合同价格减已付 {left}（R20：只付未争议部分）",
                f"the settlement {settle.amount} exceeds the price less what was paid ({left})"
                + (f" and what is or was disputed ({disputed})" if disputed else ""),
                left=str(left),
            )
        if settle.on < self.contract.effective_on:
            return self.refuse(
                "R12", "结算日期早于合同生效日期", "settled before the contract took effect"
            )
        return True

    def _request(self, request_id: int) -> SubcontractRequest | None:
        for r in self.project.subcontract_requests:
            if r.id == request_id:
                return r
        return None

    def g_request_pending(self) -> bool:
        request_id = self.data(SubcontractDecision).request_id
        request = self._request(request_id)
        if request is None or request.status != "requested":
            return self.refuse(
                "R9",
                f"分包申请 {request_id} 不存在或已处理",
                f"subcontract request {request_id} does not exist or was decided",
            )
        return True

    def g_request_approved(self) -> bool:
        request_id = self.data(SubcontractRef).request_id
        request = self._request(request_id)
        if request is None or request.status != "approved":
            return self.refuse(
                "R9",
                f"分包须经购买主体事先批准（申请 {request_id} 未获批准）",
                f"subcontracting needs the purchaser's prior approval (request {request_id})",
            )
        return True

    def g_ban_has_contractor(self) -> bool:
        if self.data(Terminate).ban_until is not None and self.project.contractor_id is None:
            return self.refuse("R12", "项目尚无承接主体，无从禁入", "no contractor to ban")
        return True

    def g_deadline_open(self) -> bool:
        fix: CorrectDeadline = self.data(CorrectDeadline)
        deadline = self.project.deadline(fix.key)
        if deadline is None or deadline.status is not DeadlineStatus.OPEN:
            return self.refuse(
                deadline.rule if deadline else "R15",
                f"没有可更正的未完成期限 {fix.key}",
                f"no open deadline {fix.key} to correct",
            )
        if fix.due is not None and fix.due < deadline.anchor_on:
            return self.refuse(deadline.rule, "期限不能早于其起算日", "due before its anchor day")
        if fix.due is not None and deadline.unit == "working_days" and fix.due > deadline.due:
            # a window the policy counts in working days (R8's fifteen, R7's, R11's) is the
            # rule's, not the parties': later only by extend_deadline, within the policy's
            # limits, or by a suspension; a correction may set it earlier
            return self.refuse(
                deadline.rule,
                f"期限 {fix.key} 按政策以工作日计（{deadline.rule}），推后只能经延长（"
                f"extend_deadline，受政策限制）或中止计时，不能更正为更晚的 {fix.due}",
                f"deadline {fix.key} counts working days under the policy ({deadline.rule}): it "
                f"moves later only by extend_deadline (within the policy's limits) or a "
                f"suspension, not by a correction to {fix.due}",
                key=fix.key,
                due=fix.due.isoformat(),
                field="due",
            )
        if deadline.suspended_on is not None:
            return self._suspended(deadline, "更正", "corrected")
        return True

    # -- 中止计时、恢复计时、延长: a deadline's clock, under the rule of its kind (R7, R8, R10, R11)

    def _clock_deadline(self, key: str, zh: str, en: str) -> Deadline | None:
        """The open deadline ``key`` whose clock an event stops, restarts or extends, or None
        after refusing: none such, met or cancelled, or the end of the term (a contract's)."""
        deadline = self.project.deadline(key)
        if deadline is None or deadline.status is not DeadlineStatus.OPEN:
            state = deadline.status.value if deadline is not None else "—"
            self.refuse(
                _rule_of(deadline) if deadline is not None else "R15",
                f"没有可{zh}的未完成期限 {key}（状态：{state}）",
                f"no open deadline {key} to {en} (status: {state})",
                key=key,
                field="key",
            )
            return None
        if deadline.kind == DeadlineKind.CONTRACT_END.value:
            self.refuse(
                deadline.rule,
                f"服务期满日由合同期限决定，不能{zh}（须变更合同）",
                f"the end of the term is the contract's: it is not {en}ed (the contract changes)",
                key=key,
                field="key",
            )
            return None
        return deadline

    def _suspended(self, deadline: Deadline, zh: str, en: str) -> bool:
        return self.refuse(
            _rule_of(deadline),
            f"期限 {deadline.key} 已于 {deadline.suspended_on} 中止计时：须先恢复计时才能{zh}",
            f"deadline {deadline.key} is suspended since {deadline.suspended_on}: resume it "
            f"before it is {en}",
            key=deadline.key,
            field="key",
            suspended_on=str(deadline.suspended_on),
        )

    def _passed_due(self, deadline: Deadline, zh: str, en: str) -> bool:
        return self.refuse(
            _rule_of(deadline),
            f"期限 {deadline.key} 已于 {deadline.due} 届满，不能再{zh}（{self.day}）",
            f"deadline {deadline.key} passed on {deadline.due}: it is not {en} after its due "
            f"day ({self.day})",
            key=deadline.key,
            field="key",
            due=deadline.due.isoformat(),
        )

    def g_deadline_suspendable(self) -> bool:
        stop: SuspendDeadline = self.data(SuspendDeadline)
        deadline = self._clock_deadline(stop.key, "中止计时", "suspend")
        if deadline is None:
            return False
        if deadline.suspended_on is not None:
            return self.refuse(
                _rule_of(deadline),
                f"期限 {deadline.key} 已于 {deadline.suspended_on} 中止计时，不能重复中止",
                f"deadline {deadline.key} is suspended already (since {deadline.suspended_on})",
                key=deadline.key,
                field="on",
            )
        if self.day > deadline.due:
            return self._passed_due(deadline, "中止计时", "suspended")
        # a stop dated back and restarted at once gives the days run since then again: counted,
        # so that stopping and restarting cannot put a deadline off for ever
        policy = self.ctx.policy
        stops = sum(1 for c in deadline.changes if c.kind == "suspended")
        if stops >= policy.max_deadline_suspensions:
            return self.refuse(
                _rule_of(deadline),
                f"期限 {deadline.key} 已中止计时 {stops} 次，政策最多允许 "
                f"{policy.max_deadline_suspensions} 次（max_deadline_suspensions："
                f"{policy.source_of('max_deadline_suspensions')}）",
                f"deadline {deadline.key} was suspended {stops} time(s): the policy allows "
                f"{policy.max_deadline_suspensions} (max_deadline_suspensions: "
                f"{policy.source_of('max_deadline_suspensions')})",
                key=deadline.key,
                field="key",
                max_deadline_suspensions=policy.max_deadline_suspensions,
            )
        latest = deadline.changes[-1].on if deadline.changes else deadline.anchor_on
        if stop.on < latest:
            return self.refuse(
                _rule_of(deadline),
                f"中止日 {stop.on} 早于期限 {deadline.key} 的起算日或上一次计时变更（{latest}）",
                f"the suspension day {stop.on} is before deadline {deadline.key}'s anchor day or "
                f"its last change ({latest})",
                key=deadline.key,
                field="on",
            )
        return True

    def g_deadline_resumable(self) -> bool:
        go: ResumeDeadline = self.data(ResumeDeadline)
        deadline = self._clock_deadline(go.key, "恢复计时", "resume")
        if deadline is None:
            return False
        if deadline.suspended_on is None:
            return self.refuse(
                _rule_of(deadline),
                f"期限 {deadline.key} 未中止计时，无需恢复",
                f"deadline {deadline.key} is not suspended: nothing to resume",
                key=deadline.key,
                field="key",
            )
        if go.on < deadline.suspended_on:
            return self.refuse(
                _rule_of(deadline),
                f"恢复日 {go.on} 早于中止日 {deadline.suspended_on}",
                f"the resumption day {go.on} is before the suspension day {deadline.suspended_on}",
                key=deadline.key,
                field="on",
            )
        return True

    def g_deadline_extendable(self) -> bool:
        ext: ExtendDeadline = self.data(ExtendDeadline)
        deadline = self._clock_deadline(ext.key, "延长", "extend")
        if deadline is None:
            return False
        if deadline.suspended_on is not None:
            return self._suspended(deadline, "延长", "extended")
        if self.day > deadline.due:
            return self._passed_due(deadline, "延长", "extended")
        policy, rule = self.ctx.policy, _rule_of(deadline)
        count, used = dl.extended_working_days(deadline)
        if count >= policy.max_deadline_extensions:
            return self.refuse(
                rule,
                f"期限 {deadline.key} 已延长 {count} 次，政策最多允许 "
                f"{policy.max_deadline_extensions} 次",
                f"deadline {deadline.key} was extended {count} time(s): the policy allows "
                f"{policy.max_deadline_extensions}",
                key=deadline.key,
                field="working_days",
                max_deadline_extensions=policy.max_deadline_extensions,
            )
        window = dl.window_working_days(deadline, self.ctx.calendar)
        percent = policy.max_extension_percent_of_window
        allowed = int(window * percent / 100)
        if used + ext.working_days > allowed:
            return self.refuse(
                rule,
                f"期限 {deadline.key} 延长合计 {used + ext.working_days} 个工作日"
                f"（已延长 {used}），超过原期限 {window} 个工作日的 {percent}%"
                f"（{allowed} 个工作日）",
                f"deadline {deadline.key} would be extended by {used + ext.working_days} working "
                f"days in all ({used} already), more than {percent} % of its "
                f"{window}-working-day window ({allowed})",
                key=deadline.key,
                field="working_days",
                allowed=allowed,
                used=used,
            )
        if deadline.cap_days is not None:
            # R20: an SME is paid within 60 days of delivery at the most, extension or not
            latest = deadline.anchor_on + timedelta(days=policy.sme_payment_days_max)
            due = self.ctx.calendar.add_working_days(deadline.due, ext.working_days).date
            if due > latest:
                return self.refuse(
                    "R20",
                    f"向中小企业付款最迟于 {deadline.anchor_on} 后 {policy.sme_payment_days_max} "
                    f"日（{latest}）：延长至 {due} 不允许",
                    f"an SME is paid within {policy.sme_payment_days_max} days of "
                    f"{deadline.anchor_on} ({latest}) at the most: not extended to {due}",
                    key=deadline.key,
                    field="working_days",
                    latest=latest.isoformat(),
                )
        return True

    def g_final_passed(self) -> bool:
        if not any(e.kind is EvaluationKind.FINAL and e.passed for e in self.project.evaluations):
            return self.refuse(
                "R13", "终期评估通过后方可验收", "acceptance needs a passed final evaluation"
            )
        return True

    def g_all_paid(self) -> bool:
        unpaid = [a.tranche for a in self.accounts() if not a.complete]
        if unpaid:
            return self.refuse(
                "R7",
                f"尚有未拨付的款项：第 {', '.join(map(str, unpaid))} 期",
                f"tranches not yet paid: {', '.join(map(str, unpaid))}",
            )
        return True

    # -- effects (after callbacks) --------------------------------------------------------------

    def apply_revise_plan(self) -> None:
        plan: RevisePlan = self.data(RevisePlan)
        if plan.title is not None:
            self.project.title = plan.title
        if plan.budget is not None:
            self.project.budget = plan.budget
        if plan.items is not None:
            self.project.items = list(plan.items)
        if plan.assistance_funds is not None:
            self.project.assistance_funds = plan.assistance_funds

    def apply_submit(self) -> None:
        self.extra = {"budget": str(self.project.budget), "items": len(self.project.items)}

    def apply_review_budget(self) -> None:
        review: ReviewBudget = self.data(ReviewBudget)
        self.project.budget_review = BudgetReview(
            approved=review.approved, note=review.note, by=self.actor.id, at=self.at
        )

    def apply_approve(self) -> None:
        assert isinstance(self.payload, Approve)
        self.project.approved_at = self.at

    def apply_reject(self) -> None:
        self.project.budget_review = None

    def apply_publish_notice(self) -> None:
        notice: PublishNotice = self.data(PublishNotice)
        self.project.procurement_method = notice.method
        self.project.notice = notice.notice

    def apply_record_review(self) -> None:
        review: RecordReview = self.data(RecordReview)
        self.project.reviews.append(
            Review(
                reviewers=list(review.reviewers),
                criteria=dict(review.criteria),
                scores=dict(review.scores),
                at=self.at,
            )
        )

    def apply_award(self) -> None:
        award: Award = self.data(Award)
        self.project.contractor_id = award.contractor_id
        candidate = self.ctx.registered(award.contractor_id)
        assert candidate is not None  # g_registered
        self.project.contractor_name = candidate.name

    def apply_fail_procurement(self) -> None:
        self.project.reviews = []
        self.project.procurement_method = None

    def apply_sign_contract(self) -> None:
        sign: SignContract = self.data(SignContract)
        policy = self.ctx.policy
        sme = bool(self.ctx.contractor and self.ctx.contractor.sme)
        self.project.contract = Contract(
            signed_on=sign.signed_on,
            effective_on=sign.effective_on,
            price=sign.price,
            form=sign.form,
            term_months=sign.term_months,
            terms=dict(sign.terms),
            sme=sme,
            sme_payment_days=(sign.sme_payment_days or policy.sme_payment_days) if sme else None,
            late_interest_rate_per_day=sign.late_interest_rate_per_day,
        )
        self._open(
            dl.working_days(
                key=DeadlineKind.DISPATCH.value,
                kind=DeadlineKind.DISPATCH.value,
                owner=C,
                rule="R8",
                anchor_event="sign_contract",
                anchor_on=sign.signed_on,
                n=policy.dispatch_window_working_days,
                calendar=self.ctx.calendar,
            )
        )
        for index, tranche in enumerate(policy.tranches, start=1):
            if tranche.unlocked_by is Unlock.CONTRACT_EFFECTIVE:
                self._payment_deadline(index, "contract_effective", sign.effective_on)
        # R10: one deadline per evaluation period, where the policy holds periodic evaluations
        interval = policy.evaluation_interval_months
        if policy.holds(EvaluationKind.SEMIANNUAL):
            for seq in range(1, sign.term_months // interval + 1):
                self._open(
                    dl.evaluation(
                        seq=seq,
                        effective_on=sign.effective_on,
                        interval_months=interval,
                        calendar=self.ctx.calendar,
                    )
                )
        self._open(dl.contract_end(effective_on=sign.effective_on, term_months=sign.term_months))
        if policy.training_before_duty:
            # R14: trained before duty, within the dispatch's window (001 §六, §七.5)
            self._open(
                dl.training_before_duty(
                    signed_on=sign.signed_on,
                    n=policy.dispatch_window_working_days,
                    calendar=self.ctx.calendar,
                )
            )

    def apply_dispatch_staff(self) -> None:
        dispatch: DispatchStaff = self.data(DispatchStaff)
        self.project.staff = list(dispatch.staff)
        self.project.dispatched_on = dispatch.on
        self._meet(DeadlineKind.DISPATCH.value, dispatch.on)
        if self.ctx.policy.training_before_duty:
            trained = [t.on for t in self.project.trainings if t.on <= dispatch.on]
            self.extra = {"trained_on": max(trained).isoformat()}
        # R14: one training in each period of the service counted from the dispatch
        months = self.ctx.policy.training_months()
        if months is not None:
            for deadline in dl.trainings(
                dispatched_on=dispatch.on,
                contract_end=self.contract_end(),
                months=months,
                calendar=self.ctx.calendar,
            ):
                self._open(deadline)

    def _training_deadline(self, on: date) -> Deadline | None:
        """The open training deadline a training on ``on`` meets (R14): before duty
        (``training#0``: on or before the dispatch day, or not dispatched yet), else the earliest
        open period that has begun by ``on`` (period 1 begins on the dispatch day, period n the
        day after period n − 1's due day): a late training makes up for a missed period, late,
        and never meets a period not yet begun."""
        before = self.project.deadline(dl.TRAINING_BEFORE_DUTY)
        dispatched = self.project.dispatched_on
        if (
            before is not None
            and before.status is DeadlineStatus.OPEN
            and (dispatched is None or on <= dispatched)
        ):
            return before
        if dispatched is None:
            return None
        periods = sorted(
            (
                d
                for d in self.project.deadlines
                if d.kind == DeadlineKind.TRAINING.value and d.key != dl.TRAINING_BEFORE_DUTY
            ),
            key=lambda d: int(d.key.partition("#")[2] or 0),
        )
        begins = dispatched
        for deadline in periods:
            if begins > on:
                return None
            if deadline.status is DeadlineStatus.OPEN:
                return deadline
            begins = deadline.due + timedelta(days=1)
        return None

    def apply_record_training(self) -> None:
        held: RecordTraining = self.data(RecordTraining)
        deadline = self._training_deadline(held.on)
        if deadline is not None:
            dl.meet(deadline, on=held.on, by=self.actor.id)
        self.project.trainings.append(
            Training(
                on=held.on,
                topic=held.topic,
                attendees=held.attendees,
                hours=held.hours,
                by=self.actor.id,
                at=self.at,
                meets=deadline.key if deadline is not None else None,
            )
        )
        self.extra = {
            "meets": deadline.key if deadline is not None else None,
            "late": bool(deadline is not None and deadline.late),
        }

    def apply_pay(self) -> None:
        pay: Pay = self.data(Pay)
        account = self.accounts()[pay.tranche - 1]
        parts: list[PaidPart] = []
        late = False
        for part in account.parts_for(pay.amount):
            deadline = self.project.deadline(part.key)
            due = deadline.due if deadline is not None else None
            # paid while its clock was stopped (中止计时): not late, as its deadline is not
            stopped = deadline is not None and deadline.suspended_on is not None
            late = late or (due is not None and pay.on > due and not stopped)
            # R20: no due day while the clock was stopped (no interest for the days it stood)
            parts.append(PaidPart(key=part.key, amount=part.amount, due=None if stopped else due))
            self._meet(part.key, pay.on)
        self.project.payments.append(
            Payment(
                tranche=pay.tranche,
                amount=pay.amount,
                on=pay.on,
                by=self.actor.id,
                at=self.at,
                late=late,
                parts=parts,
            )
        )
        self.extra = {"late": late, "paid_total": str(self.project.paid_total())}
        if account.dispute is not None:  # R20: which parts of a disputed tranche it paid
            self.extra["parts"] = [p.key for p in parts]

    def apply_dispute_payment(self) -> None:
        data: DisputePayment = self.data(DisputePayment)
        p = self.project
        account = self.accounts()[data.tranche - 1]
        number = len(p.disputes) + sum(len(c.disputes) for c in p.prior_contracts) + 1
        on = data.on or self.day
        p.disputes.append(
            PaymentDispute(
                id=number,
                tranche=data.tranche,
                amount=data.amount,
                reason=data.reason,
                on=on,
                by=self.actor.id,
                at=self.at,
            )
        )
        deadline = p.deadline(pm.tranche_key(data.tranche))
        assert deadline is not None  # g_dispute_tranche
        # R20 (条例 第十五条): the undisputed part stays payable by the tranche's deadline
        self.extra = {
            "dispute": number,
            "on": on.isoformat(),
            "undisputed": str(account.amount - data.amount),
            "due": deadline.due.isoformat(),
        }

    def apply_resolve_dispute(self) -> None:
        data: ResolveDispute = self.data(ResolveDispute)
        dispute = self._dispute(data.dispute)
        assert dispute is not None  # g_dispute_open
        dispute.status = "resolved"
        dispute.found_due = data.found_due
        dispute.resolved_on = data.on
        dispute.resolution = data.reason
        dispute.resolved_by = self.actor.id
        self.extra = {
            "tranche": dispute.tranche,
            "disputed": str(dispute.amount),
            "waived": str(dispute.waived),
        }
        if data.found_due <= 0:
            return
        # the part found due is payable within the tranche's window, counted from the day the
        # amount was settled (条例 第九条: from the day the amount due is confirmed), and for a
        # small or medium enterprise within its calendar-day term (R20)
        window = self.ctx.policy.tranches[dispute.tranche - 1].window_working_days
        cap = None
        if self.contract.sme:
            cap = self.contract.sme_payment_days or self.ctx.policy.sme_payment_days
        key = pm.disputed_key(dispute.tranche)
        self._open(
            dl.working_days(
                key=key,
                kind=pm.tranche_key(dispute.tranche),
                owner=P,
                rule="R7,R20",
                anchor_event="resolve_dispute",
                anchor_on=data.on,
                n=window,
                calendar=self.ctx.calendar,
                cap_days=cap,
            )
        )
        opened = self.project.deadline(key)
        assert opened is not None
        self.extra["due"] = opened.due.isoformat()

    def apply_evaluate(self) -> None:
        ev: Evaluate = self.data(Evaluate)
        policy = self.ctx.policy
        passed = ev.score >= policy.pass_score and ev.satisfaction >= policy.pass_satisfaction
        low = ev.satisfaction < policy.low_satisfaction
        period = self.period_of(ev.on)
        self.project.evaluations.append(
            Evaluation(
                kind=ev.kind,
                score=ev.score,
                satisfaction=ev.satisfaction,
                on=ev.on,
                evaluators=list(ev.evaluators),
                passed=passed,
                low=low,
                by=self.actor.id,
                at=self.at,
                period=period,
            )
        )
        # R11: two consecutive low reviews are low reviews in two periods in a row
        lows = {e.period for e in self.project.evaluations if e.low and e.period is not None}
        run = 0
        if period in lows:
            first = period
            while first - 1 in lows:
                first -= 1
            last = period
            while last + 1 in lows:
                last += 1
            run = last - first + 1
        self.project.consecutive_low = run
        self.extra = {
            "passed": passed,
            "low": low,
            "period": period,
            "consecutive_low": run,
        }
        # R10: an evaluation meets its own period's deadline and no other
        deadline = self.project.deadline(f"{DeadlineKind.EVALUATION.value}#{period}")
        if deadline is not None and deadline.status is DeadlineStatus.OPEN:
            dl.meet(deadline, on=ev.on, by=self.actor.id)
        # R7: a passed evaluation unlocks its tranche; the purchaser's payment window opens
        if passed:
            unlocks = {
                EvaluationKind.MIDTERM: Unlock.MIDTERM_PASSED,
                EvaluationKind.FINAL: Unlock.FINAL_PASSED,
            }.get(ev.kind)
            for index, tranche in enumerate(policy.tranches, start=1):
                if tranche.unlocked_by is unlocks:
                    self._payment_deadline(index, f"{ev.kind.value}_passed", ev.on)
        # R11: consecutive low satisfaction reviews remove the contractor, by themselves
        if run >= policy.consecutive_low_limit:
            self.followups.append(
                (
                    "remove_contractor",
                    Reason(
                        reason=f"连续 {run} 个评价周期满意度测评较低 / low satisfaction in {run}"
                        " consecutive evaluation periods (R11)"
                    ),
                )
            )

    def apply_order_rectification(self) -> None:
        order: OrderRectification = self.data(OrderRectification)
        self.project.rectifications.append(
            Rectification(ordered_on=self.day, due=order.due, findings=order.findings)
        )
        self._open(
            dl.fixed(
                key=f"{DeadlineKind.RECTIFICATION.value}#{len(self.project.rectifications)}",
                kind=DeadlineKind.RECTIFICATION.value,
                owner=C,
                rule="R11",
                anchor_event="order_rectification",
                anchor_on=self.day,
                due=order.due,
            )
        )

    def apply_complete_rectification(self) -> None:
        on = self.data(OnDate).on
        if self.project.rectifications:
            self.project.rectifications[-1].completed_on = on
        for deadline in self.project.open_deadlines(DeadlineKind.RECTIFICATION.value):
            dl.meet(deadline, on=on, by=self.actor.id)

    def apply_request_subcontract(self) -> None:
        req: RequestSubcontract = self.data(RequestSubcontract)
        request = SubcontractRequest(
            id=len(self.project.subcontract_requests) + 1,
            part=req.part,
            to=req.to,
            share=req.share,
        )
        self.project.subcontract_requests.append(request)
        self.extra = {"request_id": request.id}

    def apply_approve_subcontract(self) -> None:
        decision: SubcontractDecision = self.data(SubcontractDecision)
        request = self._request(decision.request_id)
        assert request is not None
        request.status = "approved"

    def apply_reject_subcontract(self) -> None:
        decision: SubcontractDecision = self.data(SubcontractDecision)
        request = self._request(decision.request_id)
        assert request is not None
        request.status = "rejected"
        request.reason = decision.reason

    def apply_subcontract(self) -> None:
        request = self._request(self.data(SubcontractRef).request_id)
        assert request is not None
        request.status = "executed"

    def apply_remove_contractor(self) -> None:
        self.project.removal_reason = self.data(Reason).reason
        # R12: the contractor's obligations end; the purchaser still owes unlocked tranches (R20)
        self._cancel(
            (
                *CONTRACTOR_DEADLINES,
                DeadlineKind.EVALUATION.value,
                DeadlineKind.CONTRACT_END.value,
                DeadlineKind.TRAINING.value,
            ),
            "承接主体已清退 / contractor removed",
        )

    def apply_settle(self) -> None:
        settle: Settle = self.data(Settle)
        self.project.settlements.append(
            Settlement(amount=settle.amount, reason=settle.reason, by=self.actor.id, at=self.at)
        )
        # the purchaser's open payment windows are discharged by the settlement (R12, R20)
        for deadline in self.project.open_deadlines():
            if deadline.kind.startswith("payment_"):
                dl.meet(deadline, on=settle.on, by=self.actor.id)
        self.extra = {"paid_total": str(self.project.paid_total())}

    def apply_reprocure(self) -> None:
        """R12: the approved plan and budget stand; the removed contractor's contract, reviews
        and records leave the live project for ``prior_contracts`` (and stay in the trail)."""
        p = self.project
        self._cancel(None, "重新组织采购 / procured again")
        p.prior_contracts.append(
            PriorContract(
                contractor_id=p.contractor_id,
                contractor_name=p.contractor_name,
                contract=p.contract,
                reviews=p.reviews,
                staff=p.staff,
                dispatched_on=p.dispatched_on,
                payments=p.payments,
                settlements=p.settlements,
                disputes=p.disputes,
                evaluations=p.evaluations,
                rectifications=p.rectifications,
                subcontract_requests=p.subcontract_requests,
                removal_reason=p.removal_reason,
                ended_on=self.day,
                trainings=p.trainings,
            )
        )
        p.contractor_id = None
        p.contractor_name = None
        p.contract = None
        p.reviews = []
        p.staff = []
        p.dispatched_on = None
        p.payments = []
        p.settlements = []
        p.disputes = []
        p.evaluations = []
        p.consecutive_low = 0
        p.rectifications = []
        p.subcontract_requests = []
        p.removal_reason = None
        p.trainings = []
        p.procurement_method = None
        p.notice = None
        self.extra = {"prior_contracts": len(p.prior_contracts)}

    def apply_terminate(self) -> None:
        term: Terminate = self.data(Terminate)
        self.project.termination_reason = term.reason
        self._cancel(None, "项目已终止 / project terminated")
        if term.ban_until is not None and self.project.contractor_id is not None:
            self.bans.append(
                (
                    self.project.contractor_id,
                    Ban(
                        from_on=self.day,
                        until=term.ban_until,
                        reason=term.reason,
                        project_id=self.project.id,
                    ),
                )
            )

    def apply_accept(self) -> None:
        on = self.data(OnDate).on
        self.project.accepted_on = on
        self._meet(DeadlineKind.CONTRACT_END.value, on)
        self._cancel(
            (DeadlineKind.EVALUATION.value, DeadlineKind.TRAINING.value), "已验收 / accepted"
        )

    def apply_correct_deadline(self) -> None:
        fix: CorrectDeadline = self.data(CorrectDeadline)
        deadline = self.project.deadline(fix.key)
        assert deadline is not None
        old = deadline.due
        if fix.anchor_on is not None:
            deadline.anchor_on = fix.anchor_on
            dl.recompute(deadline, self.ctx.calendar)
        elif deadline.changes:
            # after a suspension or extension the set day is one more change of the clock, so
            # that a recomputation replays the others before it and keeps it
            assert fix.due is not None
            self._clock_change("corrected", self.day, deadline, reason=fix.reason, due=fix.due)
        else:
            assert fix.due is not None
            deadline.unit = "date"
            deadline.length = (fix.due - deadline.anchor_on).days
            deadline.due = fix.due
            deadline.provisional = False
        deadline.note = (
            deadline.note + "; " if deadline.note else ""
        ) + f"更正 / corrected: {fix.reason}"
        self.extra = {"old_due": old.isoformat(), "new_due": deadline.due.isoformat()}

    def _clock_change(
        self,
        kind: ClockChange,
        on: date,
        deadline: Deadline,
        *,
        reason: str = "",
        working_days: int = 0,
        due: date | None = None,
    ) -> DeadlineChange:
        """Record a change of the deadline's clock and recompute it (replaying every change)."""
        change = DeadlineChange(
            kind=kind,
            on=on,
            working_days=working_days,
            due_before=deadline.due,
            due_after=due,
            reason=reason,
            by=self.actor.id,
            at=self.at,
        )
        # a new list: the caller's copy of the deadline before the event keeps its own
        deadline.changes = [*deadline.changes, change]
        dl.recompute(deadline, self.ctx.calendar)
        return change

    def apply_suspend_deadline(self) -> None:
        stop: SuspendDeadline = self.data(SuspendDeadline)
        deadline = self.project.deadline(stop.key)
        assert deadline is not None
        change = self._clock_change("suspended", stop.on, deadline, reason=stop.reason)
        self.extra = {"due": deadline.due.isoformat(), "remaining": change.working_days}

    def apply_resume_deadline(self) -> None:
        go: ResumeDeadline = self.data(ResumeDeadline)
        deadline = self.project.deadline(go.key)
        assert deadline is not None
        old = deadline.due
        change = self._clock_change("resumed", go.on, deadline)
        self.extra = {
            "old_due": old.isoformat(),
            "new_due": deadline.due.isoformat(),
            "remaining": change.working_days,
        }

    def apply_extend_deadline(self) -> None:
        ext: ExtendDeadline = self.data(ExtendDeadline)
        deadline = self.project.deadline(ext.key)
        assert deadline is not None
        old = deadline.due
        self._clock_change(
            "extended", self.day, deadline, reason=ext.reason, working_days=ext.working_days
        )
        count, total = dl.extended_working_days(deadline)
        self.extra = {
            "old_due": old.isoformat(),
            "new_due": deadline.due.isoformat(),
            "extensions": count,
            "extended_working_days": total,
        }

    def apply_close(self) -> None:
        self.extra = {"paid_total": str(self.project.paid_total())}


def _rule_of(deadline: Deadline) -> str:
    """The rule of a deadline's kind, named by a refusal about its clock (``R7,R20``: R7)."""
    return deadline.rule.split(",")[0]


def _same_text(text: str) -> str:
    """A text as two records of one thing compare it: spaces collapsed, case folded."""
    return " ".join(text.split()).casefold()


@cache
def machine() -> Machine:
    """The one machine, built once per process from :data:`EVENTS`."""
    transitions: list[dict[str, Any]] = []
    for spec in EVENTS.values():
        for source in spec.sources:
            transitions.append(
                {
                    "trigger": spec.name,
                    "source": source.value,
                    "dest": spec.dest.value if spec.dest is not None else None,
                    "conditions": list(spec.guards),
                    "after": spec.effect,
                }
            )
    return Machine(
        model=None,
        states=[s.value for s in ProjectState],
        transitions=transitions,
        initial=ProjectState.DRAFT.value,
        auto_transitions=False,
        send_event=False,
    )


def check_state_and_role(project: Project, event: str, actor: Actor) -> EventSpec:
    spec = EVENTS[event]
    if project.state not in spec.sources:
        raise IllegalTransition(
            f"项目处于「{project.state.value}」状态，不能执行 {event}（{spec.zh}）",
            f"{event} ({spec.en}) is not allowed in state {project.state.value}",
            field="event",
            details={"state": project.state.value, "event": event},
        )
    try:
        role = Role(actor.role)
    except ValueError:
        role = None
    if role not in spec.roles:
        allowed = ", ".join(sorted(r.value for r in spec.roles))
        raise Forbidden(
            f"角色 {actor.role} 无权执行 {event}（{spec.zh}）；允许：{allowed}",
            f"role {actor.role} may not fire {event}; allowed: {allowed}",
            field="actor.role",
            details={"role": actor.role, "allowed": allowed},
        )
    check_org(project, actor, event, spec)
    return spec


def acting_org(project: Project, role: Role) -> str | None:
    """The organisation an actor of ``role`` must belong to, to act on ``project``; None when
    the role is not tied to one (evaluators, supervisors, admin, the engine itself)."""
    sup = project.supervisors
    if role is Role.PURCHASER:
        return project.purchaser
    if role is Role.CONTRACTOR:
        return project.contractor_name or ""
    # fail closed: a project without recorded supervising bodies has no government or finance
    if role is Role.GOVERNMENT:
        return sup.government if sup is not None else ""
    if role is Role.FINANCE:
        return sup.finance if sup is not None else ""
    return None


def check_org(project: Project, actor: Actor, event: str, spec: EventSpec) -> None:
    """An actor acts only for its own organisation: the purchaser's clerk for the purchaser, the
    awarded contractor for itself, government and finance for the project's supervising bodies."""
    role = Role(actor.role)
    required = acting_org(project, role)
    if required is None or actor.org == required:
        return
    raise Forbidden(
        f"{actor.org or '（未填单位）'} 不能代表 {required or '（尚无承接主体）'} 执行 {event}"
        f"（{spec.zh}）：只能为本单位操作",
        f"{actor.org or '(no organisation)'} may not fire {event} for "
        f"{required or '(no contractor yet)'}: an actor acts only for its own organisation",
        field="actor.org",
        details={"org": actor.org, "required": required},
    )


def fire(
    project: Project,
    event: str,
    payload: Payload,
    *,
    actor: Actor,
    at: datetime,
    ctx: Context,
    copy: bool = True,
) -> Outcome:
    """Decide one event on a copy of ``project``. The caller's project is never changed.

    ``copy=False``: the caller hands ``project`` over (it was built for this call and is not
    used again): the event works on it in place, and it may be left changed, even when the
    event is refused. Saves the deep copy.

    Raises:
        IllegalTransition, Forbidden, GuardRefused: in that order of checking.
    """
    spec = check_state_and_role(project, event, actor)
    if not isinstance(payload, spec.payload):
        raise InvalidInput(
            f"事件 {event} 的数据类型应为 {spec.payload.__name__}",
            f"the data of {event} must be a {spec.payload.__name__}",
            field="data",
        )
    before = project.state
    run = _Run(deep_copy(project) if copy else project, payload, actor, at, ctx)
    if not machine().events[event].trigger(run):
        raise run.refusal or GuardRefused(rule=None)
    run.project.state = ProjectState(run.state)
    data = payload.model_dump(mode="json", exclude_none=True)
    data.update(run.extra)
    outcome = Outcome(project=run.project, bans=run.bans)
    outcome.records.append(Record(event, actor, at, before, run.project.state, data))
    for follow_event, follow_payload in run.followups:
        follow = fire(
            outcome.project, follow_event, follow_payload, actor=SYSTEM_ACTOR, at=at, ctx=ctx
        )
        outcome.project = follow.project
        outcome.records.extend(follow.records)
        outcome.bans.extend(follow.bans)
    return outcome


def available_events(project: Project, actor: Actor, ctx: Context, at: datetime) -> list[str]:
    """Events this actor may fire now: state and role allow it, and the guards that read only
    the project pass (guards on the event's data are checked when it is fired)."""
    out: list[str] = []
    for name, spec in EVENTS.items():
        try:
            check_state_and_role(project, name, actor)
        except (IllegalTransition, Forbidden):
            continue
        if spec.name == "remove_contractor" and actor.role == Role.SYSTEM:
            continue
        run = _Run(project, _NO_DATA, actor, at, ctx)
        checks: list[Callable[[], bool]] = [
            getattr(run, g) for g in spec.guards if g in STATE_GUARDS
        ]
        if all(check() for check in checks):
            out.append(name)
    return out


_NO_DATA = Payload()
