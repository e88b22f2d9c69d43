"""Every event's guards, allowed and refused, in the pure domain (no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from drivers import CAL, POLICY, Driver, evaluate, evaluation, pay, refused
from support import (
    CLERK,
    CONTRACTOR,
    EVALUATOR,
    FINANCE,
    GOV,
    ITEMS,
    QUALIFIED,
    STAFF,
    SUPERVISOR,
    at,
    sign_data,
    trained,
)

from states.enums import OrgType, ProjectState
from states.errors import Forbidden, IllegalTransition, InvalidInput
from states.machine import EVENTS, Context, available_events, machine
from states.model import Ban, Contractor
from states.payloads import parse_payload

# -- the machine itself -------------------------------------------------------------------------


def test_the_machine_has_no_auto_transitions() -> None:
    m = machine()
    assert not any(name.startswith("to_") for name in m.events)
    assert set(m.events) == set(EVENTS)


def test_issue_event_names_are_all_there() -> None:
    names = {
        "submit",
        "review_budget",
        "approve",
        "reject",
        "publish_notice",
        "record_review",
        "award",
        "fail_procurement",
        "sign_contract",
        "dispatch_staff",
        "pay",
        "evaluate",
        "order_rectification",
        "complete_rectification",
        "request_subcontract",
        "approve_subcontract",
        "reject_subcontract",
        "subcontract",
        "remove_contractor",
        "terminate",
        "accept",
        "close",
    }
    assert names <= set(EVENTS)


def test_happy_path_reaches_in_service() -> None:
    d = Driver().to("in_service")
    assert d.state == "in_service"
    assert [r.event for r in d.records][-1] == "dispatch_staff"


# -- order of checks ----------------------------------------------------------------------------


def test_bad_data_is_refused_before_the_state_is_looked_at() -> None:
    d = Driver()  # draft: pay is illegal here, but the data is checked first
    with pytest.raises(InvalidInput) as err:
        d.fire("pay", actor=FINANCE, at=at("2025-08-01"), tranche=1, amount=1.5, on="2025-08-01")
    assert err.value.field == "amount"


def test_state_is_checked_before_role() -> None:
    d = Driver()
    with pytest.raises(IllegalTransition):
        d.fire("approve", actor=SUPERVISOR, at=at("2025-08-01"))


def test_role_is_checked_before_guards() -> None:
    d = Driver()
    d.fire("submit", actor=CLERK, at=at("2025-08-01"))
    with pytest.raises(Forbidden) as err:
        d.fire("approve", actor=CLERK, at=at("2025-08-02"))  # also unreviewed (R1)
    assert err.value.field == "actor.role"


def test_supervisor_reads_only() -> None:
    d = Driver()
    with pytest.raises(Forbidden):
        d.fire("submit", actor=SUPERVISOR, at=at("2025-08-01"))
    assert available_events(d.project, SUPERVISOR, Context(POLICY, CAL), at("2025-08-01")) == []


def test_unknown_event_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_payload("to_closed", {})
    assert err.value.field == "event"


# -- R1, R2 initiation --------------------------------------------------------------------------


def test_R1_submit_needs_an_item() -> None:
    refused("R1", Driver(items=[]), "submit", CLERK, at("2025-08-01"))


def test_R1_submit_needs_a_budget() -> None:
    refused("R1", Driver(budget=Decimal(0)), "submit", CLERK, at("2025-08-01"))


def test_R1_approve_needs_the_finance_review() -> None:
    d = Driver()
    d.fire("submit", actor=CLERK, at=at("2025-08-01"))
    refused("R1", d, "approve", GOV, at("2025-08-02"))


def test_R1_a_budget_finance_did_not_approve_blocks_approval() -> None:
    d = Driver()
    d.fire("submit", actor=CLERK, at=at("2025-08-01"))
    d.fire("review_budget", actor=FINANCE, at=at("2025-08-02"), approved=False, note="超支")
    refused("R1", d, "approve", GOV, at("2025-08-03"))


def test_R1_only_finance_reviews_the_budget() -> None:
    d = Driver()
    d.fire("submit", actor=CLERK, at=at("2025-08-01"))
    with pytest.raises(Forbidden):
        d.fire("review_budget", actor=GOV, at=at("2025-08-02"), approved=True)


def test_R2_an_administrative_duty_cannot_be_approved() -> None:
    d = Driver(items=[*ITEMS, {"name": "低保审批", "quantity": 1, "administrative": True}])
    d.fire("submit", actor=CLERK, at=at("2025-08-01"))
    d.fire("review_budget", actor=FINANCE, at=at("2025-08-02"), approved=True)
    err = refused("R2", d, "approve", GOV, at("2025-08-03"))
    assert "低保审批" in err.message


def test_reject_returns_to_draft_and_needs_a_new_review() -> None:
    d = Driver().to("pending_approval")
    d.fire("reject", actor=GOV, at=at("2025-08-05"), reason="方案不完整")
    assert d.state == "draft"
    assert d.project.budget_review is None
    d.fire("revise_plan", actor=CLERK, at=at("2025-08-06"), budget="1100000.00")
    d.fire("submit", actor=CLERK, at=at("2025-08-07"))
    refused("R1", d, "approve", GOV, at("2025-08-08"))


# -- R3, R5 procurement -------------------------------------------------------------------------


def test_R3_an_unknown_method_is_invalid_naming_the_rule() -> None:
    d = Driver().to("approved")
    with pytest.raises(InvalidInput) as err:
        d.fire("publish_notice", actor=CLERK, at=at("2025-08-06"), method="lottery", notice="x")
    assert (err.value.field, err.value.rule) == ("method", "R3")


@pytest.mark.parametrize(
    "method",
    [
        "open_tender",
        "invited_tender",
        "competitive_negotiation",
        "competitive_consultation",
        "single_source",
    ],
)
def test_R3_each_of_the_five_methods_publishes(method: str) -> None:
    d = Driver().to("approved")
    d.fire("publish_notice", actor=CLERK, at=at("2025-08-06"), method=method, notice="公告")
    assert d.state == "procuring"


def test_R5_price_alone_may_not_decide() -> None:
    d = Driver().to("approved")
    d.fire("publish_notice", actor=CLERK, at=at("2025-08-06"), method="open_tender", notice="公告")
    refused(
        "R5",
        d,
        "record_review",
        CLERK,
        at("2025-09-10"),
        reviewers=["甲"],
        criteria={"price": 100},
        scores={"7": 90},
    )
    refused(
        "R5",
        d,
        "record_review",
        CLERK,
        at("2025-09-10"),
        reviewers=["甲"],
        criteria={"quality": 0, "price": 100},
        scores={"7": 90},
    )


def test_R5_award_needs_a_recorded_review() -> None:
    d = Driver().to("approved")
    d.fire("publish_notice", actor=CLERK, at=at("2025-08-06"), method="open_tender", notice="公告")
    refused("R5", d, "award", CLERK, at("2025-09-15"), contractor_id=7)


def test_R5_award_goes_to_a_scored_candidate() -> None:
    d = Driver().to("procuring")
    d.contractor = d.contractor.model_copy(update={"id": 8})
    refused("R5", d, "award", CLERK, at("2025-09-15"), contractor_id=8)


def test_fail_procurement_goes_back_to_approved_and_drops_the_review() -> None:
    d = Driver().to("procuring")
    d.fire("fail_procurement", actor=CLERK, at=at("2025-09-12"), reason="流标")
    assert d.state == "approved"
    d.fire("publish_notice", actor=CLERK, at=at("2025-09-13"), method="single_source", notice="x")
    refused("R5", d, "award", CLERK, at("2025-09-15"), contractor_id=7)


# -- R4, R12 eligibility ------------------------------------------------------------------------


def test_R4_an_unregistered_contractor_cannot_be_awarded() -> None:
    d = Driver().to("procuring")
    d.contractor = None  # type: ignore[assignment]
    refused("R4", d, "award", CLERK, at("2025-09-15"), contractor_id=7)


@pytest.mark.parametrize("missing", ["finance", "clean_record", "separated_from_government"])
def test_R4_each_of_the_nine_conditions_is_required(missing: str) -> None:
    d = Driver().to("procuring")
    d.contractor = d.contractor.model_copy(update={"qualifications": {**QUALIFIED, missing: False}})
    err = refused("R4", d, "award", CLERK, at("2025-09-15"), contractor_id=7)
    assert missing in err.message


def test_R12_a_banned_contractor_cannot_be_awarded_until_the_ban_ends() -> None:
    d = Driver().to("procuring")
    ban = Ban(from_on=date(2025, 1, 1), until=date(2025, 9, 30), reason="欺诈")
    d.contractor = d.contractor.model_copy(update={"bans": [ban]})
    refused("R12", d, "award", CLERK, at("2025-09-15"), contractor_id=7)
    d.fire("award", actor=CLERK, at=at("2025-10-01"), contractor_id=7)
    assert d.state == "awarded"


# -- R6 contract --------------------------------------------------------------------------------


def test_R6_every_mandatory_term_is_required() -> None:
    d = Driver().to("awarded")
    terms = sign_data()["terms"]
    del terms["exit_mechanism"]
    err = refused("R6", d, "sign_contract", CLERK, at("2025-09-26"), **sign_data(terms=terms))
    assert "exit_mechanism" in err.message


def test_R6_the_price_may_not_exceed_the_budget() -> None:
    d = Driver().to("awarded")
    refused("R6", d, "sign_contract", CLERK, at("2025-09-26"), **sign_data(price="1200000.01"))


def test_R6_the_term_may_not_exceed_the_three_year_cycle() -> None:
    d = Driver().to("awarded")
    refused("R6", d, "sign_contract", CLERK, at("2025-09-26"), **sign_data(term_months=37))


def test_R6_an_unknown_form_is_invalid() -> None:
    d = Driver().to("awarded")
    with pytest.raises(InvalidInput) as err:
        d.fire("sign_contract", actor=CLERK, at=at("2025-09-26"), **sign_data(form="gift"))
    assert (err.value.field, err.value.rule) == ("form", "R6")


def test_R6_effective_before_signed_is_invalid() -> None:
    d = Driver().to("awarded")
    with pytest.raises(InvalidInput) as err:
        d.fire(
            "sign_contract",
            actor=CLERK,
            at=at("2025-09-26"),
            **sign_data(effective_on="2025-09-25"),
        )
    assert err.value.field == "effective_on"


def test_signing_opens_the_deadlines_on_the_working_day_calendar() -> None:
    d = Driver().to("contracted")
    due = {dl.key: dl.due for dl in d.project.deadlines}
    assert due["dispatch"] == date(2025, 10, 23)  # DESIGN.md §2 worked example
    assert due["payment_1"] == date(2025, 10, 23)
    assert due["evaluation#1"] == date(2026, 3, 26)
    assert due["contract_end"] == date(2026, 9, 25)
    assert "payment_2" not in due


# -- R8 dispatch --------------------------------------------------------------------------------


def test_R8_staff_below_college_level_are_refused() -> None:
    d = Driver().to("contracted")
    refused(
        "R8",
        d,
        "dispatch_staff",
        CLERK,
        at("2025-10-20"),
        on="2025-10-20",
        staff=[{"name": "甲", "education": "高中"}],
    )


def test_R8_staff_must_be_computer_literate() -> None:
    d = Driver().to("contracted")
    refused(
        "R8",
        d,
        "dispatch_staff",
        CLERK,
        at("2025-10-20"),
        on="2025-10-20",
        staff=[{"name": "甲", "education": "本科", "computer_literate": False}],
    )


def test_R8_dispatch_meets_the_deadline_and_a_late_one_stays_late() -> None:
    d = Driver().to("contracted")
    d.fire("dispatch_staff", actor=CLERK, at=at("2025-10-24"), on="2025-10-24", staff=STAFF)
    dispatch = d.project.deadline("dispatch")
    assert dispatch is not None
    assert (dispatch.status.value, dispatch.met_on, dispatch.late) == (
        "met",
        date(2025, 10, 24),
        True,
    )


def test_R8_dispatch_on_time_is_not_late() -> None:
    d = Driver().to("in_service")
    dispatch = d.project.deadline("dispatch")
    assert dispatch is not None and dispatch.status.value == "met" and not dispatch.late


# -- R7 payments --------------------------------------------------------------------------------


def test_R7_first_tranche_is_30_percent_after_the_contract_takes_effect() -> None:
    d = Driver().to("contracted")
    refused(
        "R7", d, "pay", FINANCE, at("2025-10-01"), tranche=1, amount="300000.01", on="2025-10-01"
    )
    pay(d, 1, "300000.00", "2025-10-09")
    assert d.project.paid_total() == Decimal("300000.00")
    p1 = d.project.deadline("payment_1")
    assert p1 is not None and p1.status.value == "met" and not p1.late


def test_R7_no_tranche_before_the_contract_takes_effect() -> None:
    d = Driver().to("awarded")
    d.fire(
        "sign_contract", actor=CLERK, at=at("2025-09-26"), **sign_data(effective_on="2025-10-09")
    )
    refused(
        "R7", d, "pay", FINANCE, at("2025-09-30"), tranche=1, amount="300000.00", on="2025-09-30"
    )


def test_R7_second_tranche_needs_a_passed_midterm() -> None:
    d = Driver().to("in_service")
    pay(d, 1, "300000.00", "2025-10-09")
    refused(
        "R7", d, "pay", FINANCE, at("2026-01-05"), tranche=2, amount="300000.00", on="2026-01-05"
    )
    evaluate(d, "midterm", "2026-03-20", score=50)  # failed: still locked
    refused(
        "R7", d, "pay", FINANCE, at("2026-03-23"), tranche=2, amount="300000.00", on="2026-03-23"
    )
    # a failed mid-term is held again only after a rectification (R10, R11)
    refused(
        "R10",
        d,
        "evaluate",
        EVALUATOR,
        at("2026-03-23"),
        **evaluation("midterm", "2026-03-23", 75, 80),
    )
    d.fire("order_rectification", actor=CLERK, at=at("2026-03-23"), due="2026-03-31", findings="x")
    d.fire("complete_rectification", actor=CLERK, at=at("2026-03-24"), on="2026-03-24")
    evaluate(d, "midterm", "2026-03-24", score=75)
    p2 = d.project.deadline("payment_2")
    assert p2 is not None and p2.due == date(2026, 4, 15)  # 15 working days, 清明 04-04..06
    pay(d, 2, "300000.00", "2026-03-30")


def test_R7_tranches_are_paid_in_order_and_once() -> None:
    d = Driver().to("in_service")
    refused(
        "R7", d, "pay", FINANCE, at("2025-10-09"), tranche=2, amount="300000.00", on="2025-10-09"
    )
    pay(d, 1, "300000.00", "2025-10-09")
    refused(
        "R7", d, "pay", FINANCE, at("2025-10-10"), tranche=1, amount="300000.00", on="2025-10-10"
    )
    refused("R7", d, "pay", FINANCE, at("2025-10-10"), tranche=4, amount="1.00", on="2025-10-10")


def test_R7_the_last_tranche_is_the_price_less_what_was_paid() -> None:
    d = Driver().to("awarded")
    d.fire("sign_contract", actor=CLERK, at=at("2025-09-26"), **sign_data(price="1000000.01"))
    d.fire("record_training", actor=CLERK, at=at("2025-10-20"), **trained("2025-10-20"))
    d.fire("dispatch_staff", actor=CLERK, at=at("2025-10-20"), on="2025-10-20", staff=STAFF)
    pay(d, 1, "300000.00", "2025-10-20")
    evaluate(d, "midterm", "2026-03-20")
    pay(d, 2, "300000.00", "2026-03-23")
    refused(
        "R7", d, "pay", FINANCE, at("2026-09-01"), tranche=3, amount="400000.01", on="2026-09-01"
    )  # final not passed yet
    evaluate(d, "final", "2026-09-01")
    refused(
        "R7", d, "pay", FINANCE, at("2026-09-02"), tranche=3, amount="400000.00", on="2026-09-02"
    )
    pay(d, 3, "400000.01", "2026-09-02")
    assert d.project.paid_total() == Decimal("1000000.01")
    p3 = d.project.deadline("payment_3")
    assert p3 is not None and p3.status.value == "met"


def test_R7_only_purchaser_or_finance_pays() -> None:
    d = Driver().to("contracted")
    with pytest.raises(Forbidden):
        pay(d, 1, "300000.00", "2025-10-09", actor=CONTRACTOR)


def test_R7_a_float_amount_is_refused_as_inexact() -> None:
    d = Driver().to("contracted")
    with pytest.raises(InvalidInput) as err:
        d.fire(
            "pay", actor=FINANCE, at=at("2025-10-09"), tranche=1, amount=300000.0, on="2025-10-09"
        )
    assert (err.value.field, err.value.rule) == ("amount", "R7")


@pytest.mark.parametrize("amount", ["-1", "0", "12.345", "abc", "NaN"])
def test_R7_negative_zero_or_non_decimal_amounts_are_refused(amount: str) -> None:
    d = Driver().to("contracted")
    with pytest.raises(InvalidInput) as err:
        d.fire("pay", actor=FINANCE, at=at("2025-10-09"), tranche=1, amount=amount, on="2025-10-09")
    assert err.value.field == "amount"


def test_R7_a_late_payment_stays_visible_as_late() -> None:
    d = Driver().to("contracted")
    pay(d, 1, "300000.00", "2025-10-24")
    p1 = d.project.deadline("payment_1")
    assert p1 is not None and p1.late and d.project.payments[0].late


def test_R20_an_sme_is_paid_within_30_calendar_days_when_that_is_earlier() -> None:
    sme = Contractor(
        id=7, name="小企业", org_type=OrgType.ENTERPRISE, sme=True, qualifications=QUALIFIED
    )
    d = Driver(contractor=sme).to("awarded")
    # effective 2026-01-05: 15 working days → 2026-01-26; 30 days → 2026-02-04: policy binds
    d.fire(
        "sign_contract",
        actor=CLERK,
        at=at("2026-01-05"),
        **sign_data(signed_on="2026-01-05", effective_on="2026-01-05"),
    )
    p1 = d.project.deadline("payment_1")
    assert p1 is not None and p1.due == date(2026, 1, 26) and p1.rule == "R7,R20"


def test_R20_the_sme_cap_binds_across_a_long_holiday() -> None:
    sme = Contractor(
        id=7, name="小企业", org_type=OrgType.ENTERPRISE, sme=True, qualifications=QUALIFIED
    )
    d = Driver(contractor=sme).to("awarded")
    # effective 2026-02-02, 15 working days cross the Spring Festival → 2026-03-03 (29 days);
    # a contract setting 20 days makes 2026-02-22 the binding deadline (R20)
    d.fire(
        "sign_contract",
        actor=CLERK,
        at=at("2026-02-02"),
        **sign_data(signed_on="2026-02-02", effective_on="2026-02-02", sme_payment_days=20),
    )
    p1 = d.project.deadline("payment_1")
    assert p1 is not None and p1.due == date(2026, 2, 22)


def test_R20_a_contract_may_not_set_more_than_60_days() -> None:
    d = Driver().to("awarded")
    with pytest.raises(InvalidInput) as err:
        d.fire("sign_contract", actor=CLERK, at=at("2025-09-26"), **sign_data(sme_payment_days=61))
    assert (err.value.field, err.value.rule) == ("sme_payment_days", "R20")


# -- R9 subcontracting --------------------------------------------------------------------------


def test_R9_transfer_of_the_whole_service_is_always_refused() -> None:
    d = Driver().to("in_service")
    refused(
        "R9", d, "request_subcontract", CONTRACTOR, at("2025-11-03"), part="全部", to="乙", share=1
    )


def test_R9_subcontracting_needs_prior_approval() -> None:
    d = Driver().to("in_service")
    d.fire(
        "request_subcontract",
        actor=CONTRACTOR,
        at=at("2025-11-03"),
        part="心理疏导",
        to="乙机构",
        share="0.2",
    )
    refused("R9", d, "subcontract", CONTRACTOR, at("2025-11-04"), request_id=1)
    with pytest.raises(Forbidden):
        d.fire("approve_subcontract", actor=CONTRACTOR, at=at("2025-11-04"), request_id=1)
    d.fire("approve_subcontract", actor=CLERK, at=at("2025-11-05"), request_id=1)
    d.fire("subcontract", actor=CONTRACTOR, at=at("2025-11-06"), request_id=1)
    assert d.project.subcontract_requests[0].status == "executed"
    refused("R9", d, "subcontract", CONTRACTOR, at("2025-11-07"), request_id=1)


def test_R9_a_rejected_request_cannot_be_executed() -> None:
    d = Driver().to("in_service")
    d.fire(
        "request_subcontract",
        actor=CONTRACTOR,
        at=at("2025-11-03"),
        part="培训",
        to="丙",
        share="0.1",
    )
    d.fire("reject_subcontract", actor=CLERK, at=at("2025-11-04"), request_id=1, reason="资质不足")
    refused("R9", d, "approve_subcontract", CLERK, at("2025-11-05"), request_id=1)
    refused("R9", d, "subcontract", CONTRACTOR, at("2025-11-05"), request_id=1)


def test_R9_a_share_above_one_is_invalid() -> None:
    d = Driver().to("in_service")
    with pytest.raises(InvalidInput) as err:
        d.fire(
            "request_subcontract",
            actor=CONTRACTOR,
            at=at("2025-11-03"),
            part="x",
            to="y",
            share="1.5",
        )
    assert (err.value.field, err.value.rule) == ("share", "R9")


# -- R10, R11 evaluation, rectification, removal ------------------------------------------------


def test_R10_dawukou_evaluators_are_the_bureau_the_street_offices_and_the_recipients() -> None:
    d = Driver().to("in_service")
    err = refused(
        "R10",
        d,
        "evaluate",
        EVALUATOR,
        at("2026-03-20"),
        **evaluation("semiannual", "2026-03-20", 80, 80, evaluators=["purchaser", "third_party"]),
    )
    assert "street_office" in err.message and "recipients" in err.message


def test_R10_an_evaluation_meets_the_open_evaluation_deadline_and_opens_the_next() -> None:
    d = Driver().to("in_service")
    evaluate(d, "semiannual", "2026-03-20")
    first = d.project.deadline("evaluation#1")
    assert first is not None and first.status.value == "met" and not first.late
    second = d.project.deadline("evaluation#2")
    assert second is not None and second.status.value == "open"


def test_R11_two_consecutive_low_reviews_remove_the_contractor_by_themselves() -> None:
    d = Driver().to("in_service")
    evaluate(d, "semiannual", "2025-12-01", satisfaction=55)  # period 1
    assert d.state == "in_service"
    evaluate(d, "semiannual", "2026-04-20", satisfaction=50)  # period 2
    assert d.state == "takeover"
    assert [r.event for r in d.records[-2:]] == ["evaluate", "remove_contractor"]
    assert d.records[-1].actor.role == "system"
    assert not d.project.open_deadlines("dispatch") and not d.project.open_deadlines("evaluation")


def two_year_contract() -> Driver:
    d = Driver().to("awarded")
    d.fire("sign_contract", actor=CLERK, at=at("2025-09-26"), **sign_data(term_months=24))
    d.fire("record_training", actor=CLERK, at=at("2025-10-20"), **trained("2025-10-20"))
    d.fire("dispatch_staff", actor=CLERK, at=at("2025-10-20"), on="2025-10-20", staff=STAFF)
    return d


def test_R11_a_good_review_between_two_low_ones_resets_the_count() -> None:
    d = two_year_contract()
    evaluate(d, "semiannual", "2025-12-01", satisfaction=55)  # period 1 low
    evaluate(d, "semiannual", "2026-05-05", satisfaction=85)  # period 2 good
    evaluate(d, "semiannual", "2026-10-12", satisfaction=50)  # period 3 low
    assert d.state == "in_service"
    assert [e.period for e in d.project.evaluations] == [1, 2, 3]


def test_R11_rectification_round_trip_meets_its_deadline() -> None:
    d = Driver().to("in_service")
    d.fire(
        "order_rectification",
        actor=CLERK,
        at=at("2025-11-03"),
        due="2025-11-28",
        findings="台账不全",
    )
    assert d.state == "rectifying"
    d.fire("complete_rectification", actor=CLERK, at=at("2025-11-20"), on="2025-11-20")
    assert d.state == "in_service"
    r = d.project.deadline("rectification#1")
    assert r is not None and r.status.value == "met" and not r.late


def test_R11_a_rectification_due_in_the_past_is_invalid() -> None:
    d = Driver().to("in_service")
    with pytest.raises(InvalidInput) as err:
        d.fire(
            "order_rectification", actor=CLERK, at=at("2025-11-03"), due="2025-11-01", findings="x"
        )
    assert err.value.field == "due"


def test_R11_the_purchaser_may_remove_for_a_named_breach() -> None:
    d = Driver().to("in_service")
    d.fire("remove_contractor", actor=CLERK, at=at("2025-11-03"), reason="擅自转包")
    assert d.state == "takeover"


# -- R12 termination and bans -------------------------------------------------------------------


def test_R12_termination_bans_the_contractor_and_cancels_deadlines() -> None:
    d = Driver().to("in_service")
    d.fire(
        "terminate", actor=CLERK, at=at("2025-11-03"), reason="虚报服务数据", ban_until="2028-11-03"
    )
    assert d.state == "terminated"
    assert d.bans and d.bans[0][0] == 7 and d.bans[0][1].until == date(2028, 11, 3)
    assert not d.project.open_deadlines()


def test_R12_a_ban_before_any_award_has_no_one_to_ban() -> None:
    d = Driver().to("approved")
    refused("R12", d, "terminate", CLERK, at("2025-08-10"), reason="x", ban_until="2026-01-01")


def test_terminated_and_closed_are_final() -> None:
    d = Driver().to("approved")
    d.fire("terminate", actor=GOV, at=at("2025-08-10"), reason="政策调整")
    for event in EVENTS:
        with pytest.raises((IllegalTransition, InvalidInput)):
            d.fire(event, actor=CLERK, at=at("2025-08-11"))


# -- R13 acceptance and closing -----------------------------------------------------------------


def test_R13_acceptance_needs_a_passed_final_evaluation() -> None:
    d = Driver().to("in_service")
    refused("R13", d, "accept", CLERK, at("2026-09-01"), on="2026-09-01")
    evaluate(d, "midterm", "2026-03-20")
    evaluate(d, "final", "2026-09-01", score=59)
    refused("R13", d, "accept", CLERK, at("2026-09-02"), on="2026-09-02")


def test_R7_close_needs_every_tranche_paid() -> None:
    d = Driver().to("in_service")
    pay(d, 1, "300000.00", "2025-10-20")
    evaluate(d, "midterm", "2026-03-20")
    pay(d, 2, "300000.00", "2026-03-23")
    evaluate(d, "final", "2026-09-01")
    d.fire("accept", actor=CLERK, at=at("2026-09-02"), on="2026-09-02")
    refused("R7", d, "close", CLERK, at("2026-09-03"))
    pay(d, 3, "400000.00", "2026-09-03")
    d.fire("close", actor=CLERK, at=at("2026-09-04"))
    assert d.state == "closed"
    assert all(dl.status.value != "open" for dl in d.project.deadlines)


# -- available events and inputs ----------------------------------------------------------------


def test_available_events_follow_state_role_and_state_guards() -> None:
    d = Driver()
    ctx = Context(POLICY, CAL)
    assert available_events(d.project, CLERK, ctx, at("2025-08-01")) == [
        "revise_plan",
        "submit",
        "terminate",
    ]
    d.fire("submit", actor=CLERK, at=at("2025-08-01"))
    assert available_events(d.project, GOV, ctx, at("2025-08-01")) == ["reject", "terminate"]
    d.fire("review_budget", actor=FINANCE, at=at("2025-08-02"), approved=True)
    assert "approve" in available_events(d.project, GOV, ctx, at("2025-08-02"))


def test_a_payment_dated_after_the_recording_day_is_invalid() -> None:
    d = Driver().to("contracted")
    with pytest.raises(InvalidInput) as err:
        d.fire(
            "pay",
            actor=FINANCE,
            at=at("2025-10-09"),
            tranche=1,
            amount="300000.00",
            on="2025-10-10",
        )
    assert err.value.field == "on"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"tranche": "1", "amount": "1.00", "on": "2025-10-09"}, "tranche"),
        ({"amount": "1.00", "on": "2025-10-09"}, "tranche"),
        ({"tranche": 1, "amount": "1.00", "on": "09/10/2025"}, "on"),
        ({"tranche": 1, "amount": "1.00", "on": "2025-10-09", "bonus": 1}, "bonus"),
    ],
)
def test_malformed_data_names_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_payload("pay", data)
    assert err.value.field == field
    assert err.value.message_zh and err.value.message_en


def test_states_are_exactly_the_issue_s_at_least() -> None:
    assert {s.value for s in ProjectState} >= {
        "draft",
        "pending_approval",
        "approved",
        "procuring",
        "awarded",
        "contracted",
        "in_service",
        "rectifying",
        "takeover",
        "accepted",
        "closed",
        "terminated",
    }


# -- correcting a deadline ---------------------------------------------------------------------


def test_correcting_the_anchor_recomputes_the_deadline() -> None:
    d = Driver().to("contracted")
    d.fire(
        "correct_deadline",
        actor=CLERK,
        at=at("2025-10-09"),
        key="dispatch",
        anchor_on="2025-09-29",
        reason="签订日期录入有误",
    )
    dispatch = d.project.deadline("dispatch")
    assert dispatch is not None and dispatch.due == date(2025, 10, 27)
    assert d.records[-1].data["old_due"] == "2025-10-23"
    assert "签订日期录入有误" in dispatch.note


def test_an_evaluation_date_can_be_set_anew() -> None:
    d = Driver().to("in_service")
    d.fire(
        "correct_deadline",
        actor=CLERK,
        at=at("2026-01-05"),
        key="evaluation#1",
        due="2026-04-10",
        reason="评估机构改期",
    )
    ev = d.project.deadline("evaluation#1")
    assert ev is not None and (ev.due, ev.unit) == (date(2026, 4, 10), "date")


def test_a_met_deadline_cannot_be_corrected() -> None:
    d = Driver().to("in_service")  # dispatch was met
    refused(
        "R8",
        d,
        "correct_deadline",
        CLERK,
        at("2025-10-21"),
        key="dispatch",
        due="2025-10-30",
        reason="x",
    )
    refused(
        "R15",
        d,
        "correct_deadline",
        CLERK,
        at("2025-10-21"),
        key="nope",
        due="2025-10-30",
        reason="x",
    )


def test_a_correction_gives_exactly_one_of_anchor_and_due() -> None:
    with pytest.raises(InvalidInput) as err:
        parse_payload("correct_deadline", {"key": "dispatch", "reason": "x"})
    assert err.value.field == "anchor_on"
    with pytest.raises(InvalidInput):
        parse_payload(
            "correct_deadline",
            {"key": "dispatch", "reason": "x", "anchor_on": "2025-01-01", "due": "2025-02-01"},
        )


def test_R8_staff_cannot_be_dispatched_before_signing() -> None:
    d = Driver().to("contracted")  # signed 2025-09-26
    refused("R8", d, "dispatch_staff", CLERK, at("2025-10-20"), on="2025-09-25", staff=STAFF)


def test_R10_no_evaluation_before_the_contract_takes_effect() -> None:
    d = Driver().to("awarded")
    d.fire(
        "sign_contract", actor=CLERK, at=at("2025-09-26"), **sign_data(effective_on="2025-10-09")
    )
    d.fire("record_training", actor=CLERK, at=at("2025-10-09"), **trained("2025-10-09"))
    d.fire("dispatch_staff", actor=CLERK, at=at("2025-10-09"), on="2025-10-09", staff=STAFF)
    refused(
        "R10",
        d,
        "evaluate",
        EVALUATOR,
        at("2025-10-09"),
        **evaluation("semiannual", "2025-10-08", 80, 80),
    )


def test_R11_rectification_cannot_be_completed_before_it_was_ordered() -> None:
    d = Driver().to("in_service")
    d.fire(
        "order_rectification",
        actor=CLERK,
        at=at("2025-11-03"),
        due="2025-11-28",
        findings="台账不全",
    )
    refused("R11", d, "complete_rectification", CLERK, at("2025-11-04"), on="2025-11-02")
