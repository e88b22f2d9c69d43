"""Read models of the dashboard and the JSON API (issue #8): the project page (deadlines with
working days left or late, notices and deliveries, the payment ledger, evaluations by period,
subcontract shares, plan against actual, the trail verified for this project alone, the state
diagram), the inbox (read once, acknowledged once, audited) and the contractor register. Every
number here is worked out by hand on the 2026 State Council calendar; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from dbtools import execute, rows
from drivers import evaluation
from sqlalchemy import and_, select
from support import (
    CLERK,
    CONTRACTOR,
    DAWUKOU_EVALUATORS,
    EVALUATOR,
    FINANCE,
    GOV,
    at,
    contractor,
    lifecycle,
    project_in,
    sign_data,
    trained,
)

from notifications.channels import Outgoing, Person
from notifications.testing import RecordingChannel
from states.enums import QUALIFICATIONS, ProjectState
from states.machine import EVENTS
from states.model import Actor
from workflow import (
    ContractorNotFound,
    Forbidden,
    InvalidInput,
    NotFound,
    ProjectNotFound,
    Workflow,
)
from workflow.persistence import audit_t, deadline_t, inbox_t, project_t
from workflow.services.details import state_diagram
from workflow.services.scope import Scope

ALL = Scope.all()


def detail(wf: Workflow, pid: int, day: str, hour: int = 12, scope: Scope = ALL) -> Any:
    return wf.details.project_detail(pid, scope, now=at(day, hour))


def signed(wf: Workflow, on: str, **over: Any) -> int:
    """A Dawukou project (price 1,000,000.00, twelve months) signed and in effect on ``on``."""
    pid, _ = project_in(wf, "awarded")
    wf.fire(
        pid,
        "sign_contract",
        actor=CLERK,
        at=at(on),
        **sign_data(signed_on=on, effective_on=on, **over),
    )
    return pid


# -- working days left and late -------------------------------------------------------------------


def test_working_days_left_and_late_across_the_2026_spring_festival(wf: Workflow) -> None:
    # signed Tue 2026-02-10: dispatch is due 15 working days later, Mon 2026-03-09 — Wed 11,
    # Thu 12, Fri 13, Sat 14 (调休 make-up day), the festival Sun 15 – Mon 23 off, 24 … 27,
    # Sat 28 (make-up), Mon 2 … Fri 6, Mon 9
    before = signed(wf, "2026-02-10")
    page = detail(wf, before, "2026-02-13")
    dispatch = page.deadline("dispatch")
    assert dispatch.deadline.due == date(2026, 3, 9) and not dispatch.provisional
    # after Fri 02-13 up to 03-09: 02-14, 02-24..02-28 (5), 03-02..03-06 (5), 03-09 = 12
    assert (dispatch.working_days_left, dispatch.working_days_late) == (12, None)
    assert not dispatch.overdue
    assert detail(wf, before, "2026-02-16").deadline("dispatch").working_days_left == 11
    assert detail(wf, before, "2026-03-09").deadline("dispatch").working_days_left == 0

    # signed Fri 2026-01-23: due Fri 2026-02-13, the last working day before the festival
    late = signed(wf, "2026-01-23")
    assert detail(wf, late, "2026-02-13").deadline("dispatch").working_days_left == 0
    overdue = detail(wf, late, "2026-02-25").deadline("payment_1")
    assert overdue.deadline.due == date(2026, 2, 13)
    # after 02-13 up to Wed 02-25: Sat 02-14 (make-up), 02-24, 02-25: 3, not 12 calendar days
    assert (overdue.working_days_left, overdue.working_days_late, overdue.overdue) == (
        None,
        3,
        True,
    )
    # 2027's schedule is not published: a deadline in 2027 is 暂定 (provisional)
    assert detail(wf, late, "2026-02-25").deadline("evaluation#2").provisional


def test_working_days_left_and_late_across_the_2026_national_day(wf: Workflow) -> None:
    # signed Wed 2026-09-09: due Wed 2026-09-30 (Sun 09-20 a make-up day, Fri 09-25 中秋 off)
    pid = signed(wf, "2026-09-09")
    before = detail(wf, pid, "2026-09-24").deadline("dispatch")
    assert before.deadline.due == date(2026, 9, 30)
    # after Thu 09-24 up to 09-30: Mon 28, Tue 29, Wed 30 (Fri 25 中秋, the weekend)
    assert before.working_days_left == 3
    after = detail(wf, pid, "2026-10-12").deadline("dispatch")
    # after 09-30 up to Mon 10-12: Thu 10-08, Fri 10-09, Sat 10-10 (make-up), Mon 10-12
    assert (after.working_days_late, after.overdue) == (4, True)
    # met late: counted up to the day it was met (Fri 10-09: 2 working days late)
    wf.fire(pid, "record_training", actor=CLERK, at=at("2026-10-09"), **trained("2026-10-09"))
    wf.fire(
        pid,
        "dispatch_staff",
        actor=CLERK,
        at=at("2026-10-09"),
        on="2026-10-09",
        staff=[{"name": "核查员01", "education": "大专"}],
    )
    met = detail(wf, pid, "2026-10-12").deadline("dispatch")
    assert met.deadline.status == "met" and met.deadline.late
    assert (met.working_days_left, met.working_days_late, met.overdue) == (None, 2, False)


# -- notices and deliveries -----------------------------------------------------------------------


class HookChannel(RecordingChannel):
    """A channel addressed by each person's webhook URL, which carries a token."""

    def address(self, person: Person) -> str | None:
        return person.webhook

    def send(self, notice: Outgoing, person: Person, address: str) -> None:
        if self.fail_times > 0:
            self.fail_times -= 1
            raise OSError(f"POST {address} refused")
        super().send(notice, person, address)


@pytest.fixture
def hooked(db_url: str, clock: Any) -> Iterator[Workflow]:
    workflow = Workflow.open(db_url, channels=[HookChannel("webhook", fail_times=1)], clock=clock)
    yield workflow
    workflow.close()


def test_a_deadlines_notices_and_deliveries_after_tick_and_relay(hooked: Workflow) -> None:
    wf = hooked
    pid, _ = project_in(wf, "contracted")  # dispatch and payment_1 due Thu 2025-10-23
    token_url = "https://oa.example.gov.cn/hooks/gpw?token=s3cr3t"
    wf.directory.add(org="大武口区民政局", role="purchaser", name="张敏", webhook=token_url)
    wf.tick(at("2025-10-22"))  # the reminders
    first = wf.relay(at("2025-10-22", 11))  # the first send fails, the second goes out
    assert (first.sent, first.failed) == (1, 1)
    page = detail(wf, pid, "2025-10-22")
    dispatch = page.deadline("dispatch")
    assert dispatch.working_days_left == 1
    assert dispatch.next_stage == "overdue"
    [reminder] = dispatch.notices
    assert reminder.stage == "reminder"
    assert [(r["org"], r["role"]) for r in reminder.recipients] == [
        ("星海社会工作服务中心", "contractor"),
        ("大武口区民政局", "purchaser"),
    ]
    payment = page.deadline("payment_1").notices[0]
    failed = next(n for n in (reminder, payment) if n.status == "failed")
    [delivery] = failed.deliveries
    assert (delivery.channel, delivery.person, delivery.status) == ("webhook", "张敏", "failed")
    assert delivery.attempts == 1 and delivery.sent_at is None
    # never a secret: the address and the errors keep the URL without its path and query
    assert delivery.address == "https://oa.example.gov.cn/…"
    assert "s3cr3t" not in json.dumps(page.to_dict(), ensure_ascii=False)
    assert "refused" in (delivery.last_error or "")
    sent = next(n for n in (reminder, payment) if n.status == "sent")
    assert [(d.status, d.attempts) for d in sent.deliveries] == [("sent", 1)]
    assert sent.sent_at is not None and sent.attempts == 1

    wf.relay(at("2025-10-22", 12))  # the retry after its back-off goes out
    later = detail(wf, pid, "2025-10-22", 13)
    notices = later.deadline("dispatch").notices + later.deadline("payment_1").notices
    again = next(n for n in notices if n.id == failed.id)
    assert again.status == "sent" and again.attempts == 2
    assert [(d.status, d.attempts) for d in again.deliveries] == [("sent", 2)]
    assert again.deliveries[0].last_error is None
    # a deadline no notice was sent for shows none; the evaluation's ladder waits for March
    assert detail(wf, pid, "2025-10-22").deadline("evaluation#1").notices == ()


# -- the payment ledger ---------------------------------------------------------------------------


def test_the_payment_ledger_after_two_tranches(wf: Workflow) -> None:
    pid, _ = project_in(wf, "in_service")  # price 1,000,000.00, effective 2025-09-26
    # tranche 1 due Thu 2025-10-23, paid Mon 10-27: late
    wf.fire(
        pid,
        "pay",
        actor=FINANCE,
        at=at("2025-10-27"),
        tranche=1,
        amount="300000.00",
        on="2025-10-27",
    )
    # the term's midpoint is 2026-03-27; a mid-term is held from 30 days before it
    wf.fire(
        pid,
        "evaluate",
        actor=EVALUATOR,
        at=at("2026-03-02"),
        **evaluation("midterm", "2026-03-02", score=85, satisfaction=90),
    )
    wf.fire(
        pid,
        "pay",
        actor=FINANCE,
        at=at("2026-03-05"),
        tranche=2,
        amount="300000.00",
        on="2026-03-05",
    )
    ledger = detail(wf, pid, "2026-03-06").payments
    one, two, three = ledger.tranches
    assert (one.amount_due, one.paid_amount, one.paid_on, one.paid_by) == (
        Decimal("300000.00"),
        Decimal("300000.00"),
        date(2025, 10, 27),
        "fin",
    )
    assert one.late and one.status == "paid" and one.due == date(2025, 10, 23)
    assert one.unlocked_by == "contract_effective" and one.share_percent == 30
    # 15 working days after the passed mid-term (Mon 03-02): Mon 2026-03-23; paid on time
    assert (two.due, two.paid_on, two.late, two.status) == (
        date(2026, 3, 23),
        date(2026, 3, 5),
        False,
        "paid",
    )
    assert two.unlocked_by == "midterm_passed" and two.unlocked
    assert (three.amount_due, three.paid_amount, three.unlocked, three.status) == (
        Decimal("400000.00"),
        None,
        False,
        "locked",
    )
    assert three.due is None
    assert (ledger.contract_price, ledger.paid, ledger.remaining) == (
        Decimal("1000000.00"),
        Decimal("600000.00"),
        Decimal("400000.00"),
    )
    as_json = ledger.to_dict()
    assert as_json["paid"] == "600000.00" and as_json["tranches"][2]["amount_due"] == "400000.00"
    assert as_json["tranches"][0]["unlocked_by_label"]["zh"] == "合同生效"


def test_an_unpaid_tranche_past_its_deadline_is_overdue(wf: Workflow) -> None:
    pid, _ = project_in(wf, "contracted")
    ledger = detail(wf, pid, "2025-10-24").payments
    assert (ledger.tranches[0].status, ledger.tranches[0].late) == ("overdue", True)
    assert detail(wf, pid, "2025-10-23").payments.tranches[0].status == "due"
    assert ledger.paid == Decimal("0.00") and ledger.remaining == Decimal("1000000.00")


# -- evaluations by period ------------------------------------------------------------------------


def test_evaluations_by_period_with_rectifications(wf: Workflow) -> None:
    pid, _ = project_in(wf, "in_service")  # effective Fri 2025-09-26, twelve months
    wf.fire(
        pid,
        "evaluate",
        actor=EVALUATOR,
        at=at("2025-12-15"),
        **evaluation("semiannual", "2025-12-15", score=80, satisfaction=50),
    )
    wf.fire(
        pid,
        "order_rectification",
        actor=CLERK,
        at=at("2025-12-16"),
        due="2026-01-15",
        findings="满意度偏低",
    )
    wf.fire(pid, "complete_rectification", actor=CLERK, at=at("2026-01-10"), on="2026-01-10")
    wf.fire(
        pid,
        "evaluate",
        actor=EVALUATOR,
        at=at("2026-03-02"),
        **evaluation("midterm", "2026-03-02", score=85, satisfaction=90),
    )
    wf.fire(
        pid,
        "evaluate",
        actor=CLERK,
        at=at("2026-06-15"),
        **evaluation(
            "semiannual", "2026-06-15", score=88, satisfaction=92, evaluators=DAWUKOU_EVALUATORS
        ),
    )
    wf.fire(
        pid,
        "order_rectification",
        actor=CLERK,
        at=at("2026-06-16"),
        due="2026-06-30",
        findings="台账不全",
    )
    found = detail(wf, pid, "2026-07-03").evaluations
    one, two = found.periods
    # period 1 ends on evaluation#1's day: 2026-03-26 (a Thursday); period 2 on Mon 2026-09-28
    # (09-26 is a Saturday; the term itself ends 2026-09-25)
    assert (one.starts, one.ends) == (date(2025, 9, 26), date(2026, 3, 26))
    assert (two.starts, two.ends) == (date(2026, 3, 27), date(2026, 9, 28))
    assert [(e.kind, e.on, e.passed, e.low) for e in one.evaluations] == [
        ("semiannual", date(2025, 12, 15), False, True),
        ("midterm", date(2026, 3, 2), True, False),
    ]
    assert [(e.kind, e.by, e.evaluators) for e in two.evaluations] == [
        ("semiannual", "clerk", tuple(DAWUKOU_EVALUATORS))
    ]
    # the semiannual review met its period's deadline
    assert one.deadline.deadline.status == "met"
    assert one.deadline.deadline.met_on == date(2025, 12, 15)
    [fixed] = one.rectifications
    assert (fixed.number, fixed.ordered_on, fixed.completed_on, fixed.completed, fixed.late) == (
        1,
        date(2025, 12, 16),
        date(2026, 1, 10),
        True,
        False,
    )
    [still_open] = two.rectifications
    assert (still_open.number, still_open.completed, still_open.late) == (2, False, True)
    assert found.consecutive_low == 0 and found.consecutive_low_limit == 2
    assert found.held["semiannual"] == tuple(DAWUKOU_EVALUATORS)
    as_json = found.to_dict()
    assert as_json["periods"][0]["evaluations"][0]["score"] == "80"


# -- subcontracts (R9) ----------------------------------------------------------------------------


def test_subcontract_shares_against_the_policys_limit(wf: Workflow) -> None:
    pid, _ = project_in(wf, "in_service")
    for share, when in (("0.2", "2025-11-03"), ("0.1", "2025-11-04")):
        wf.fire(
            pid,
            "request_subcontract",
            actor=CONTRACTOR,
            at=at(when),
            part="心理疏导",
            to="某心理咨询中心",
            share=share,
        )
    wf.fire(pid, "approve_subcontract", actor=CLERK, at=at("2025-11-05"), request_id=1)
    wf.fire(pid, "subcontract", actor=CONTRACTOR, at=at("2025-11-06"), request_id=1)
    found = detail(wf, pid, "2025-11-07").subcontracts
    assert [(r["id"], r["share"], r["status"]) for r in found.requests] == [
        (1, "0.2", "executed"),
        (2, "0.1", "requested"),
    ]
    assert (found.pending, found.approved, found.total) == (
        Decimal("0.1"),
        Decimal("0.2"),
        Decimal("0.3"),
    )
    assert (found.limit, found.headroom) == (Decimal("0.5"), Decimal("0.2"))
    assert found.to_dict()["rule"] == "R9"


# -- plan against actual (R19) --------------------------------------------------------------------


def test_plan_against_actual_for_a_dawukou_project(wf: Workflow) -> None:
    cid = contractor(wf)
    pid = int(
        wf.create_project(
            actor=CLERK,
            at=at("2026-02-10"),
            title="2026年入户核查员服务",
            purchaser="大武口区民政局",
            budget="1200000.00",
            items=[{"name": "社会救助入户核查", "quantity": 16}],
        )
    )
    days = {
        "submit": "2026-02-12",
        "review_budget": "2026-02-13",
        "approve": "2026-02-24",
        "publish_notice": "2026-03-25",
        "record_review": "2026-04-08",
        "award": "2026-04-10",
    }
    for _, event, actor, _, data in lifecycle(cid)[:6]:
        wf.fire(pid, event, actor=actor, at=at(days[event]), **data)
    # signed Tue 04-14: the plan says early April (04-01 – 04-10)
    wf.fire(
        pid,
        "sign_contract",
        actor=CLERK,
        at=at("2026-04-14"),
        **sign_data(signed_on="2026-04-14", effective_on="2026-04-14"),
    )
    wf.fire(
        pid,
        "pay",
        actor=FINANCE,
        at=at("2026-04-20"),
        tranche=1,
        amount="300000.00",
        on="2026-04-20",
    )

    waiting = detail(wf, pid, "2026-05-08").plan_vs_actual
    assert waiting.year == 2026 and waiting.source.startswith("seed:001 §七")
    by = {s.milestone: s for s in waiting.steps}
    assert [s.milestone for s in waiting.steps] == [
        "created",
        "notice_published",
        "contract_signed",
        "first_payment",
        "staff_dispatched",
    ]
    assert (by["created"].actual, by["created"].status, by["created"].slip_working_days) == (
        date(2026, 2, 10),
        "on_time",
        0,
    )
    assert (by["notice_published"].planned_from, by["notice_published"].planned_to) == (
        date(2026, 3, 1),
        date(2026, 3, 31),
    )
    assert by["notice_published"].status == "on_time"
    # after Fri 04-10 up to Tue 04-14: Mon 13, Tue 14
    assert (by["contract_signed"].status, by["contract_signed"].slip_working_days) == ("late", 2)
    assert (by["first_payment"].actual, by["first_payment"].status) == (
        date(2026, 4, 20),
        "on_time",
    )
    # not dispatched by Fri 05-08, late April planned: after Thu 04-30 (劳动节 May 1–5 off):
    # Wed 6, Thu 7, Fri 8 so far
    assert (by["staff_dispatched"].status, by["staff_dispatched"].slip_working_days) == (
        "overdue",
        3,
    )
    assert detail(wf, pid, "2026-04-29").plan_vs_actual.steps[4].status == "pending"

    wf.fire(pid, "record_training", actor=CLERK, at=at("2026-05-11"), **trained("2026-05-11"))
    wf.fire(
        pid,
        "dispatch_staff",
        actor=CLERK,
        at=at("2026-05-11"),
        on="2026-05-11",
        staff=[{"name": "核查员01", "education": "大专"}],
    )
    done = detail(wf, pid, "2026-05-12").plan_vs_actual.steps[4]
    # after 04-30 up to Mon 05-11: 6, 7, 8, Sat 9 (make-up day), 11
    assert (done.actual, done.status, done.slip_working_days) == (date(2026, 5, 11), "late", 5)
    as_json = detail(wf, pid, "2026-05-12").plan_vs_actual.to_dict()
    assert as_json["rule"] == "R19" and as_json["steps"][2]["planned_to"] == "2026-04-10"


def test_a_policy_without_a_plan_shows_none(wf: Workflow) -> None:
    shanghai = Actor(id="sh", role="purchaser", org="上海市民政局")
    pid = wf.create_project(
        actor=shanghai,
        at=at("2026-02-10"),
        title="社会救助服务",
        purchaser="上海市民政局",
        budget="500000.00",
        policy="shanghai",
        supervisors={
            "government": "上海市人民政府",
            "finance": "上海市财政局",
            "audit": "上海市审计局",
        },
    )
    plan = detail(wf, pid, "2026-05-12").plan_vs_actual
    assert (plan.year, plan.steps) == (None, ())
    assert plan.source.startswith("default")


# -- the trail, verified for this project alone (R15) ---------------------------------------------


def test_verify_for_one_project_and_a_tampered_entry_of_it(wf: Workflow, db_url: str) -> None:
    mine, _ = project_in(wf, "in_service")
    other, _ = project_in(wf, "approved")
    page = detail(wf, mine, "2025-11-03")
    assert page.verify.ok and page.verify.problems == []
    assert page.verify.entries == len(page.trail) == 10 and page.verify.streams == 1
    assert [e.event for e in page.trail][:2] == ["create_project", "submit"]

    # somebody with database access edits the award's entry of ``mine``
    execute(
        db_url,
        audit_t.update()
        .where(and_(audit_t.c.stream == f"project:{mine}", audit_t.c.seq == 7))
        .values(data={"contractor_id": 99}),
    )
    tampered = detail(wf, mine, "2025-11-03").verify
    assert not tampered.ok
    assert tampered.problems[0]["kind"] == "content"
    assert tampered.first_bad == (f"project:{mine}", 7)
    # the same findings as the whole log's verification, for this project
    assert tampered.problems == [
        p for p in wf.verify().problems if p["stream"] == f"project:{mine}"
    ]
    assert detail(wf, other, "2025-11-03").verify.ok  # the other project's chain is intact

    # a deadline row of ``mine`` moved by hand, the state of ``other`` rewritten: each found in
    # its own project's verification
    execute(
        db_url,
        deadline_t.update()
        .where(and_(deadline_t.c.project_id == mine, deadline_t.c.key == "contract_end"))
        .values(due=date(2027, 1, 1)),
    )
    execute(db_url, project_t.update().where(project_t.c.id == other).values(state="closed"))
    found = detail(wf, other, "2025-11-03").verify
    assert [(p["kind"], p["stream"]) for p in found.problems] == [("project", f"project:{other}")]
    kinds = {(p["kind"], p.get("key")) for p in detail(wf, mine, "2025-11-03").verify.problems}
    assert ("deadline", "contract_end") in kinds
    assert not wf.verify().ok  # the whole log agrees


# -- scope ----------------------------------------------------------------------------------------


def test_a_project_outside_the_readers_scope_is_refused(wf: Workflow) -> None:
    pid, _ = project_in(wf, "in_service")
    for scope in (
        Scope.of("purchaser", "惠农区民政局"),
        Scope.of("contractor", "另一家社工机构"),
        Scope.of("supervisor", "石嘴山市民政局", region=["惠农区"]),
    ):
        with pytest.raises(Forbidden) as err:
            wf.details.project_detail(pid, scope, now=at("2025-11-03"))
        assert err.value.field == "project"
        assert err.value.message_zh.startswith("无权查看项目") and "scope" in err.value.message_en
    for scope in (
        Scope.of("purchaser", "大武口区民政局"),
        Scope.of("contractor", "星海社会工作服务中心"),  # the awarded contractor
        Scope.of("finance", "大武口区财政局"),  # a supervising body
        Scope.of("supervisor", "石嘴山市民政局", region=["大武口区"]),
    ):
        assert wf.details.project_detail(pid, scope, now=at("2025-11-03")).project.id == pid
    with pytest.raises(ProjectNotFound):
        wf.details.project_detail(pid + 100, ALL, now=at("2025-11-03"))
    with pytest.raises(InvalidInput) as bad:
        wf.details.project_detail("1", ALL)  # type: ignore[arg-type]
    assert bad.value.field == "project_id"


# -- the state diagram ----------------------------------------------------------------------------


def test_the_diagram_holds_every_state_and_event_and_marks_the_current_one(wf: Workflow) -> None:
    pid, _ = project_in(wf, "in_service")
    text = detail(wf, pid, "2025-11-03").diagram
    assert text.startswith("stateDiagram-v2\n")
    for state in ProjectState:
        assert f" as {state.value}\n" in text
    for name in EVENTS:
        assert name in text
    assert "  [*] --> draft\n" in text and "  closed --> [*]\n" in text
    assert "classDef current " in text
    marked = [line for line in text.splitlines() if line.endswith(" current")]
    assert marked == ["  class in_service current"]
    assert '"服务中 in service"' in text
    assert state_diagram("draft").endswith("  class draft current\n")
    assert state_diagram() in text  # one text per process, the mark appended
    with pytest.raises(InvalidInput):
        state_diagram("nowhere")


def test_the_page_is_json_ready(wf: Workflow) -> None:
    pid, _ = project_in(wf, "in_service")
    as_json = json.loads(json.dumps(detail(wf, pid, "2025-11-03").to_dict(), ensure_ascii=False))
    assert as_json["today"] == "2025-11-03"
    assert as_json["contractor"] == {
        "id": 1,
        "name": "星海社会工作服务中心",
        "org_type": "social_organization",
        "sme": False,
        "org_type_label": {"zh": "社会组织", "en": "social organisation"},
    }
    assert as_json["state_label"] == {"zh": "服务中", "en": "in service"}
    assert as_json["payments"]["contract_price"] == "1000000.00"
    assert as_json["verify"]["ok"] is True
    assert as_json["trail"][0]["event"] == "create_project"
    assert {"deadlines", "evaluations", "subcontracts", "plan_vs_actual", "diagram"} <= set(as_json)


# -- the inbox ------------------------------------------------------------------------------------


def test_the_inbox_read_once_acknowledged_once_and_another_org_refused(
    wf: Workflow, db_url: str
) -> None:
    pid, _ = project_in(wf, "contracted")
    wf.tick(at("2025-10-22"))
    wf.relay(at("2025-10-22", 11))  # the inbox is the only channel
    page = wf.details.inbox("大武口区民政局", "purchaser", login="zhang")
    assert [(i.deadline_kind, i.stage) for i in page.items] == [
        ("payment_1", "reminder"),
        ("dispatch", "reminder"),
    ]  # newest first
    assert page.next_cursor is None
    item = page.items[0]
    assert (item.project_id, item.project_title, item.read, item.acknowledged) == (
        pid,
        "入户核查员服务",
        False,
        False,
    )

    opened = wf.details.open_inbox_item(
        item.id, org="大武口区民政局", role="purchaser", login="zhang", at=at("2025-10-22", 14)
    )
    assert (opened.read_at, opened.read_by) == (at("2025-10-22", 14), "zhang")
    again = wf.details.open_inbox_item(
        item.id, org="大武口区民政局", role="purchaser", login="li", at=at("2025-10-23", 9)
    )
    assert (again.read_at, again.read_by) == (at("2025-10-22", 14), "zhang")  # the first kept

    unread = wf.details.inbox("大武口区民政局", "purchaser", login="zhang", unread_only=True)
    assert [i.id for i in unread.items] == [page.items[1].id]

    acked = wf.details.acknowledge(
        item.id, org="大武口区民政局", role="purchaser", login="li", at=at("2025-10-23", 10)
    )
    assert (acked.acknowledged_at, acked.acknowledged_by) == (at("2025-10-23", 10), "li")
    twice = wf.details.acknowledge(
        item.id, org="大武口区民政局", role="purchaser", login="zhang", at=at("2025-10-24", 10)
    )
    assert (twice.acknowledged_at, twice.acknowledged_by) == (at("2025-10-23", 10), "li")
    # acknowledging an unopened one opens it too
    other = wf.details.acknowledge(
        page.items[1].id,
        org="大武口区民政局",
        role="purchaser",
        login="wang",
        at=at("2025-10-24", 11),
    )
    assert (other.read_by, other.acknowledged_by) == ("wang", "wang")

    # each first acknowledgement is an audit entry on the inbox stream (R15)
    entries = rows(
        db_url, select(audit_t).where(audit_t.c.stream == "inbox").order_by(audit_t.c.seq)
    )
    assert [(e["event"], e["actor_id"], e["data"]["inbox_id"]) for e in entries] == [
        ("acknowledge", "li", item.id),
        ("acknowledge", "wang", page.items[1].id),
    ]
    assert entries[0]["data"]["project_id"] == pid
    assert wf.verify().ok

    # another organisation, or another role, may neither open nor acknowledge it
    before = rows(db_url, select(inbox_t).order_by(inbox_t.c.id))
    for org, role in (
        ("大武口区财政局", "finance"),
        ("大武口区财政局", "purchaser"),
        ("大武口区民政局", "leader"),
    ):
        with pytest.raises(Forbidden) as err:
            wf.details.open_inbox_item(item.id, org=org, role=role, login="x", at=at("2025-10-25"))
        assert err.value.field == "org"
        with pytest.raises(Forbidden):
            wf.details.acknowledge(
                page.items[1].id, org=org, role=role, login="x", at=at("2025-10-25")
            )
    assert rows(db_url, select(inbox_t).order_by(inbox_t.c.id)) == before
    with pytest.raises(NotFound) as missing:
        wf.details.open_inbox_item(10_000, org="大武口区民政局", role="purchaser", login="x")
    assert missing.value.field == "inbox_id"

    # an acknowledgement edited by hand breaks the inbox stream's chain
    execute(
        db_url,
        audit_t.update()
        .where(and_(audit_t.c.stream == "inbox", audit_t.c.seq == 1))
        .values(actor_id="zhang"),
    )
    report = wf.verify()
    assert [(p["kind"], p["stream"], p["seq"]) for p in report.problems] == [
        ("content", "inbox", 1)
    ]


def test_the_inbox_pages_by_cursor(wf: Workflow) -> None:
    project_in(wf, "contracted")
    wf.tick(at("2025-10-22"))
    wf.tick(at("2025-10-24", 10))  # the overdue notices too: four for the purchaser
    wf.relay(at("2025-10-24", 11))
    seen: list[int] = []
    cursor = None
    for _ in range(3):
        page = wf.details.inbox(
            "大武口区民政局", "purchaser", login="zhang", limit=3, cursor=cursor
        )
        seen += [i.id for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 4 and seen == sorted(seen, reverse=True)
    assert page.to_dict()["next_cursor"] is None
    assert json.dumps(page.to_dict(), ensure_ascii=False)
    for bad in ({"cursor": "abc"}, {"limit": 0}, {"limit": 501}):
        with pytest.raises(InvalidInput):
            wf.details.inbox("大武口区民政局", "purchaser", login="zhang", **bad)
    with pytest.raises(InvalidInput):
        wf.details.inbox("大武口区民政局", "purchaser", login="")


# -- the contractor register ----------------------------------------------------------------------


def test_contractors_by_page_and_a_contractors_page(wf: Workflow) -> None:
    pid, cid = project_in(wf, "in_service")
    project_in(wf, "approved")  # registers a second contractor of the same name
    weak = contractor(
        wf,
        name="Sunrise 社工",
        qualifications={**dict.fromkeys(QUALIFICATIONS, True), "clean_record": False},
    )
    wf.ban_contractor(cid, actor=GOV, at=at("2025-08-01"), until=date(2025, 9, 1), reason="旧案")
    wf.ban_contractor(
        cid, actor=GOV, at=at("2025-11-01"), until=date(2026, 11, 1), reason="虚报服务数据"
    )

    first = wf.details.contractors(limit=2, now=at("2025-11-03"))
    assert [c.id for c in first.items] == [1, 2] and first.next_cursor == "2"
    rest = wf.details.contractors(limit=2, cursor=first.next_cursor, now=at("2025-11-03"))
    assert [c.id for c in rest.items] == [3] and rest.next_cursor is None
    assert (rest.items[0].name, rest.items[0].qualified) == ("Sunrise 社工", False)
    banned = first.items[0]
    assert (banned.qualified, banned.banned, banned.banned_until) == (True, True, date(2026, 11, 1))
    assert [c.id for c in wf.details.contractors(q="sunrise").items] == [weak]
    assert [c.id for c in wf.details.contractors(q="100%_").items] == []

    page = wf.details.contractor_detail(cid, Scope.all(), now=at("2025-11-03"))
    assert [q.key for q in page.qualifications] == list(QUALIFICATIONS)
    assert page.qualifications[0].zh == "具有独立承担民事责任的能力"
    assert all(q.met for q in page.qualifications) and page.qualified
    assert [(b.reason, b.status) for b in page.bans] == [
        ("旧案", "expired"),
        ("虚报服务数据", "current"),
    ]
    assert page.banned
    assert [e.event for e in page.credit_record] == ["register_contractor", "ban", "ban"]
    assert [p.id for p in page.projects] == [pid]
    # the awarded contractor sees its project; another purchaser sees none of them
    assert [
        p.id
        for p in wf.details.contractor_detail(
            cid, Scope.of("contractor", "星海社会工作服务中心")
        ).projects
    ] == [pid]
    assert wf.details.contractor_detail(cid, Scope.of("purchaser", "惠农区民政局")).projects == ()
    later = wf.details.contractor_detail(cid, Scope.all(), now=at("2026-11-02"))
    assert [b.status for b in later.bans] == ["expired", "expired"] and not later.banned
    as_json = json.loads(json.dumps(page.to_dict(), ensure_ascii=False))
    assert as_json["org_type_label"]["zh"] == "社会组织"
    assert as_json["bans"][1]["until"] == "2026-11-01"
    with pytest.raises(ContractorNotFound):
        wf.details.contractor_detail(999, Scope.all())
