"""R20 in the pure domain: disputes over part of a tranche, partial payments, late interest.

保障中小企业款项支付条例 (国务院令第728号, revised by 第802号, in force 2025-06-01): 第十五条 a
dispute over part does not hold back the undisputed part; 第十七条 late interest at the
contract's rate, else 万分之五 a day; 第九条 no payment conditional on a third party. Every date
below is worked by hand on the 2026 calendar (春节 02-15..23 off, make-up Saturdays 02-14 and
02-28) and across the 2026/2027 year boundary.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from drivers import Driver, evaluate, pay, refused
from ocds_check import check_package
from support import CLERK, CONTRACTOR, EVALUATOR, FINANCE, QUALIFIED, at, sign_data

from states import ocds
from states import payments as pm
from states.enums import OrgType
from states.errors import Forbidden, InvalidInput
from states.model import Contractor
from states.payloads import EVENT_PAYLOADS
from states.policy import load_policy

POLICY = load_policy("dawukou-2019")
SME = Contractor(
    id=7,
    name="星海社会工作服务中心",
    org_type=OrgType.ENTERPRISE,
    sme=True,
    qualifications=QUALIFIED,
)


def signed(effective: str, *, sme: bool = True, **over: Any) -> Driver:
    """A project awarded to an SME (or not) and signed, in effect on ``effective``."""
    d = Driver(contractor=SME if sme else None).to("awarded")
    d.fire(
        "sign_contract",
        actor=CLERK,
        at=at(effective),
        **sign_data(signed_on=effective, effective_on=effective, **over),
    )
    return d


def dispute(d: Driver, day: str, amount: str, tranche: int = 1, **over: Any) -> None:
    d.fire(
        "dispute_payment",
        actor=CLERK,
        at=at(day),
        tranche=tranche,
        amount=amount,
        reason="三户入户核查记录不完整",
        **over,
    )


def resolve(d: Driver, day: str, found: str, dispute_id: int = 1) -> None:
    d.fire(
        "resolve_dispute",
        actor=CLERK,
        at=at(day),
        dispute=dispute_id,
        found_due=found,
        on=day,
        reason="双方核对后确认",
    )


def lines(d: Driver, today: str) -> dict[str, pm.LateLine]:
    contract = d.project.contract
    assert contract is not None
    accounts = pm.accounts(
        contract,
        POLICY,
        payments=d.project.payments,
        settlements=d.project.settlements,
        disputes=d.project.disputes,
        deadlines=d.project.deadlines,
    )
    return {x.part.key: x for x in pm.late_lines(contract, accounts, date.fromisoformat(today))}


# -- the arithmetic, by hand -------------------------------------------------------------------


def test_R20_interest_is_simple_calendar_day_interest_rounded_half_up() -> None:
    # 02-10 → 02-26: the 16 days 02-11..02-26, the nine Spring Festival days off among them
    assert pm.days_late(date(2026, 2, 10), date(2026, 2, 26)) == 16
    # 12-22 → 2027-01-05: 12-23..12-31 (9) and 01-01..01-05 (5)
    assert pm.days_late(date(2026, 12, 22), date(2027, 1, 5)) == 14
    assert pm.days_late(date(2026, 12, 22), date(2026, 12, 22)) == 0  # paid on the day: on time
    assert pm.days_late(date(2026, 12, 22), date(2026, 12, 1)) == 0  # paid early
    # 333,333.33 × 0.0005 × 16 = 2,666.66664 → 2,666.67 (half up to the fen)
    assert pm.interest(Decimal("333333.33"), pm.REGULATION_RATE_PER_DAY, 16) == Decimal("2666.67")
    # 0.005 of a fen rounds up, not to even
    assert pm.interest(Decimal("1.00"), Decimal("0.0005"), 5) == Decimal("0.00")
    assert pm.interest(Decimal("10.00"), Decimal("0.0005"), 1) == Decimal("0.01")
    assert pm.REGULATION_RATE_PER_DAY == Decimal("0.0005")  # 万分之五 (条例 第十七条)


def test_R20_a_late_tranche_across_the_spring_festival_bears_interest_every_calendar_day() -> None:
    # in effect Tue 2026-01-20; 15 working days: 01-21..01-30 (8), 02-02..02-06 (5), 02-09, 02-10
    # → 02-10, before the SME's 30 calendar days (02-19)
    d = signed("2026-01-20", price="1111111.10")
    p1 = d.project.deadline("payment_1")
    assert p1 is not None and p1.due == date(2026, 2, 10) and p1.rule == "R7,R20"
    pay(d, 1, "333333.33", "2026-02-26")
    (payment,) = d.project.payments
    assert payment.late and [(x.key, x.due) for x in payment.parts] == [
        ("payment_1", date(2026, 2, 10))
    ]
    line = lines(d, "2026-12-01")["payment_1"]
    assert (line.days_late, line.rate, line.interest) == (16, Decimal("0.0005"), Decimal("2666.67"))


def test_R20_the_contracts_own_rate_replaces_the_default() -> None:
    d = signed("2026-01-20", late_interest_rate_per_day="0.0003")
    assert d.project.contract is not None
    assert d.project.contract.late_interest_rate_per_day == Decimal("0.0003")
    pay(d, 1, "300000.00", "2026-02-26")
    # 300,000 × 0.0003 × 16 = 1,440.00
    assert lines(d, "2026-12-01")["payment_1"].interest == Decimal("1440.00")


def test_R20_unpaid_interest_runs_to_today_across_the_year_boundary() -> None:
    # in effect Tue 2026-12-01: 15 working days → 12-22 (the SME cap, 12-31, is later)
    d = signed("2026-12-01")
    p1 = d.project.deadline("payment_1")
    assert p1 is not None and p1.due == date(2026, 12, 22)
    assert "payment_1" not in {k for k, x in lines(d, "2026-12-22").items() if x.late}
    line = lines(d, "2027-01-05")["payment_1"]
    # 300,000 × 0.0005 × 14 = 2,100.00, still unpaid
    assert (line.days_late, line.interest, line.part.paid) == (14, Decimal("2100.00"), False)
    pay(d, 1, "300000.00", "2027-01-08")
    line = lines(d, "2027-06-30")["payment_1"]  # paid: it stops on the day paid (17 days)
    assert (line.days_late, line.interest) == (17, Decimal("2550.00"))


def test_R20_no_interest_runs_while_the_payment_deadlines_clock_is_stopped() -> None:
    d = signed("2026-01-05")  # payment_1 due 01-26
    # stopped on 01-20 with 4 working days left (01-21, 22, 23, 26)
    d.fire(
        "suspend_deadline",
        actor=CLERK,
        at=at("2026-01-20"),
        key="payment_1",
        reason="疫情封控",
        on="2026-01-20",
    )
    assert lines(d, "2026-02-05") == {}  # no due day while stopped: not late, no interest
    # restarted Tue 02-10: the 4th working day after it is Sat 02-14, a make-up working day
    d.fire("resume_deadline", actor=CLERK, at=at("2026-02-10"), key="payment_1", on="2026-02-10")
    assert d.project.deadline("payment_1").due == date(2026, 2, 14)  # type: ignore[union-attr]
    pay(d, 1, "300000.00", "2026-02-26")
    # late from 02-15 to 02-26, the holiday week included: 12 days, 300,000 × 0.0005 × 12
    line = lines(d, "2026-12-01")["payment_1"]
    assert (line.days_late, line.interest) == (12, Decimal("1800.00"))
    # paid while stopped: not late, and no interest for the days the clock stood
    stood = signed("2026-01-05")
    stood.fire(
        "suspend_deadline",
        actor=CLERK,
        at=at("2026-01-20"),
        key="payment_1",
        reason="疫情封控",
        on="2026-01-20",
    )
    pay(stood, 1, "300000.00", "2026-02-26")
    (payment,) = stood.project.payments
    assert not payment.late and payment.parts[0].due is None
    assert lines(stood, "2026-12-01") == {}


def test_R20_no_interest_for_a_contractor_that_is_not_an_sme() -> None:
    d = signed("2026-01-20", sme=False)
    pay(d, 1, "300000.00", "2026-02-26")
    line = lines(d, "2026-12-01")["payment_1"]
    assert line.late and line.rate is None and line.interest is None


@pytest.mark.parametrize("rate", ["0", "-0.0005", "0.0101", "0.000000001", "5E-4", 0.0005])
def test_R20_a_contracts_rate_is_an_exact_small_positive_fraction(rate: Any) -> None:
    d = Driver(contractor=SME).to("awarded")
    with pytest.raises(InvalidInput) as err:
        d.fire(
            "sign_contract",
            actor=CLERK,
            at=at("2026-01-20"),
            **sign_data(signed_on="2026-01-20", late_interest_rate_per_day=rate),
        )
    assert (err.value.field, err.value.rule) == ("late_interest_rate_per_day", "R20")


# -- disputes and partial payments ---------------------------------------------------------------


def test_R20_the_undisputed_part_is_paid_by_the_tranches_deadline_the_rest_after_resolution() -> (
    None
):
    # in effect Mon 2026-01-05: 15 working days → 01-26 (the SME's 30 days: 02-04)
    d = signed("2026-01-05")
    dispute(d, "2026-01-10", "50000.00")
    record = d.records[-1]
    assert (record.event, record.data["undisputed"], record.data["due"]) == (
        "dispute_payment",
        "250000.00",
        "2026-01-26",
    )
    assert d.project.deadline("payment_1").due == date(2026, 1, 26)  # type: ignore[union-attr]
    pay(d, 1, "250000.00", "2026-01-23")  # the undisputed part, on time
    p1 = d.project.deadline("payment_1")
    assert p1 is not None and p1.status.value == "met" and not p1.late
    # resolved Tue 02-10: 30,000 of the 50,000 is owed, 20,000 is not; 15 working days after
    # 02-10: 02-11, 12, 13, Sat 14 (make-up), 24, 25, 26, 27, Sat 28 (make-up), 03-02..06, 03-09
    # → 03-09, before the SME's 30 calendar days (03-12)
    resolve(d, "2026-02-10", "30000.00")
    rest = d.project.deadline("payment_1#disputed")
    assert rest is not None and rest.kind == "payment_1" and rest.due == date(2026, 3, 9)
    assert (rest.anchor_event, rest.rule, rest.cap_days) == ("resolve_dispute", "R7,R20", 30)
    assert d.records[-1].data["waived"] == "20000.00"
    pay(d, 1, "30000.00", "2026-03-20")
    rest = d.project.deadline("payment_1#disputed")
    assert rest is not None and rest.status.value == "met" and rest.late
    assert d.project.payments[-1].parts[0].key == "payment_1#disputed"
    assert d.project.paid_total() == Decimal("280000.00")
    # 11 days late (03-10..03-20): 30,000 × 0.0005 × 11 = 165.00; the undisputed part: none
    late = lines(d, "2026-12-01")
    assert late["payment_1#disputed"].interest == Decimal("165.00")
    assert late["payment_1"].interest == Decimal("0.00")
    # the tranche is paid: 250,000 + 30,000, 20,000 waived
    refused(
        "R7", d, "pay", FINANCE, at("2026-03-21"), tranche=1, amount="20000.00", on="2026-03-21"
    )


def test_R20_resolved_before_the_undisputed_part_is_paid_both_may_be_paid_at_once() -> None:
    d = signed("2026-01-05")
    dispute(d, "2026-01-06", "50000.00")
    resolve(d, "2026-01-08", "50000.00")
    # payable: the undisputed part, or it and the part found due; nothing else
    err = refused(
        "R7", d, "pay", FINANCE, at("2026-01-09"), tranche=1, amount="50000.00", on="2026-01-09"
    )
    assert err.details["payable"] == ["250000.00", "300000.00"]
    pay(d, 1, "300000.00", "2026-01-09")
    (payment,) = d.project.payments
    assert [x.key for x in payment.parts] == ["payment_1", "payment_1#disputed"]
    assert all(
        d.project.deadline(k).status.value == "met"  # type: ignore[union-attr]
        for k in ("payment_1", "payment_1#disputed")
    )


def test_R20_paying_the_disputed_part_before_the_resolution_is_refused() -> None:
    d = signed("2026-01-05")
    dispute(d, "2026-01-10", "50000.00")
    # the whole tranche while the dispute is open
    refused(
        "R20", d, "pay", FINANCE, at("2026-01-12"), tranche=1, amount="300000.00", on="2026-01-12"
    )
    pay(d, 1, "250000.00", "2026-01-12")
    # then the disputed part alone
    err = refused(
        "R20", d, "pay", FINANCE, at("2026-01-13"), tranche=1, amount="50000.00", on="2026-01-13"
    )
    assert err.details["held"] == "50000.00" and err.details["dispute"] == 1
    # the undisputed part twice
    refused(
        "R20", d, "pay", FINANCE, at("2026-01-13"), tranche=1, amount="250000.00", on="2026-01-13"
    )


@pytest.mark.parametrize(
    ("amount", "why"),
    [("300000.01", "exceeds"), ("300000.00", "whole"), ("999999999.00", "exceeds")],
)
def test_R20_a_dispute_is_over_part_of_a_tranche(amount: str, why: str) -> None:
    d = signed("2026-01-05")
    err = refused(
        "R20", d, "dispute_payment", CLERK, at("2026-01-10"), tranche=1, amount=amount, reason="x"
    )
    assert why in err.message_en and err.details["tranche_amount"] == "300000.00"


def test_R20_a_tranche_already_paid_cannot_be_disputed() -> None:
    d = signed("2026-01-05")
    pay(d, 1, "300000.00", "2026-01-09")
    refused(
        "R20", d, "dispute_payment", CLERK, at("2026-01-10"), tranche=1, amount="1.00", reason="x"
    )


def test_R20_one_dispute_a_tranche_open_or_resolved() -> None:
    d = signed("2026-01-05")
    dispute(d, "2026-01-10", "50000.00")
    err = refused(
        "R20", d, "dispute_payment", CLERK, at("2026-01-11"), tranche=1, amount="1.00", reason="x"
    )
    assert "open dispute" in err.message_en
    resolve(d, "2026-01-12", "0.00")
    err = refused(
        "R20", d, "dispute_payment", CLERK, at("2026-01-13"), tranche=1, amount="1.00", reason="x"
    )
    assert "disputed once" in err.message_en


def test_R20_resolving_more_than_was_disputed_or_a_closed_dispute_is_refused() -> None:
    d = signed("2026-01-05")
    dispute(d, "2026-01-10", "50000.00")
    refused(
        "R20",
        d,
        "resolve_dispute",
        CLERK,
        at("2026-01-12"),
        dispute=1,
        found_due="50000.01",
        on="2026-01-12",
        reason="x",
    )
    refused(  # settled before it was raised
        "R20",
        d,
        "resolve_dispute",
        CLERK,
        at("2026-01-12"),
        dispute=1,
        found_due="1.00",
        on="2026-01-09",
        reason="x",
    )
    refused(
        "R20",
        d,
        "resolve_dispute",
        CLERK,
        at("2026-01-12"),
        dispute=2,
        found_due="1.00",
        on="2026-01-12",
        reason="x",
    )
    resolve(d, "2026-01-12", "50000.00")
    refused(
        "R20",
        d,
        "resolve_dispute",
        CLERK,
        at("2026-01-13"),
        dispute=1,
        found_due="1.00",
        on="2026-01-13",
        reason="again",
    )


def test_R20_a_dispute_needs_a_payable_tranche_raised_by_its_due_day() -> None:
    d = signed("2026-01-05")
    # the second tranche waits for the mid-term evaluation (R7)
    refused(
        "R7", d, "dispute_payment", CLERK, at("2026-01-10"), tranche=2, amount="1.00", reason="x"
    )
    refused(
        "R7", d, "dispute_payment", CLERK, at("2026-01-10"), tranche=4, amount="1.00", reason="x"
    )
    # raised before the contract took effect
    early = signed("2026-01-05")
    refused(
        "R7",
        early,
        "dispute_payment",
        CLERK,
        at("2026-01-10"),
        tranche=1,
        amount="1.00",
        reason="x",
        on="2026-01-04",
    )
    # after the due day (01-26) the tranche is overdue: no dispute holds it back
    err = refused(
        "R20", d, "dispute_payment", CLERK, at("2026-01-27"), tranche=1, amount="1.00", reason="x"
    )
    assert err.details["due"] == "2026-01-26"
    dispute(d, "2026-01-27", "1.00", on="2026-01-26")  # raised on the due day, recorded later


def test_R20_only_the_purchaser_disputes_and_resolves() -> None:
    d = signed("2026-01-05")
    for actor in (CONTRACTOR, FINANCE, EVALUATOR):
        with pytest.raises(Forbidden):
            d.fire(
                "dispute_payment",
                actor=actor,
                at=at("2026-01-11"),
                tranche=1,
                amount="1.00",
                reason="x",
            )
        with pytest.raises(Forbidden):
            d.fire(
                "resolve_dispute",
                actor=actor,
                at=at("2026-01-11"),
                dispute=1,
                found_due="0.00",
                on="2026-01-11",
                reason="x",
            )


def test_R20_a_dispute_over_one_tranche_holds_back_no_other() -> None:
    d = Driver().to("in_service")  # signed 2025-09-26, not an SME: payment_1 due 10-23
    dispute(d, "2025-10-10", "40000.00")
    pay(d, 1, "260000.00", "2025-10-21")
    evaluate(d, "midterm", "2026-03-02")
    pay(d, 2, "300000.00", "2026-03-03")  # while tranche 1's dispute is open
    resolve(d, "2026-03-10", "0.00")  # none of it owed
    evaluate(d, "final", "2026-09-01")
    # the last tranche is the price less the others' amounts, not less what was paid: the
    # 40,000 found not owed is not paid through tranche 3
    refused(
        "R7", d, "pay", FINANCE, at("2026-09-02"), tranche=3, amount="440000.00", on="2026-09-02"
    )
    pay(d, 3, "400000.00", "2026-09-02")
    assert d.project.paid_total() == Decimal("960000.00")
    d.fire("accept", actor=CLERK, at=at("2026-09-03"), on="2026-09-03")
    d.fire("close", actor=CLERK, at=at("2026-09-04"))
    assert d.state == "closed"


def test_R7_close_waits_for_an_open_dispute() -> None:
    d = Driver().to("in_service")
    dispute(d, "2025-10-10", "40000.00")
    pay(d, 1, "260000.00", "2025-10-21")
    evaluate(d, "midterm", "2026-03-02")
    pay(d, 2, "300000.00", "2026-03-03")
    evaluate(d, "final", "2026-09-01")
    pay(d, 3, "400000.00", "2026-09-02")
    d.fire("accept", actor=CLERK, at=at("2026-09-03"), on="2026-09-03")
    err = refused("R7", d, "close", CLERK, at("2026-09-04"))
    assert "1" in err.message_en
    resolve(d, "2026-09-05", "40000.00")
    pay(d, 1, "40000.00", "2026-09-06")
    d.fire("close", actor=CLERK, at=at("2026-09-07"))
    assert d.project.paid_total() == Decimal("1000000.00")


def test_R12_R20_a_settlement_pays_neither_a_part_in_dispute_nor_one_found_not_owed() -> None:
    d = Driver().to("in_service")  # 1,000,000.00
    dispute(d, "2025-10-10", "40000.00")
    pay(d, 1, "260000.00", "2025-10-21")
    d.fire("remove_contractor", actor=CLERK, at=at("2025-10-22"), reason="严重违约")
    # price 1,000,000 − paid 260,000 − 40,000 in dispute = 700,000 at the most
    err = refused(
        "R12",
        d,
        "settle",
        FINANCE,
        at("2025-10-23"),
        amount="700000.01",
        reason="已提供的服务",
        on="2025-10-23",
    )
    assert err.details["left"] == "700000.00"
    d.fire(
        "settle",
        actor=FINANCE,
        at=at("2025-10-23"),
        amount="690000.00",
        reason="已提供的服务",
        on="2025-10-23",
    )
    resolve(d, "2025-10-24", "30000.00")  # 10,000 not owed: no settlement pays it either
    # 1,000,000 − 950,000 paid − 10,000 not owed
    err = refused(
        "R12",
        d,
        "settle",
        FINANCE,
        at("2025-10-25"),
        amount="40000.01",
        reason="余款",
        on="2025-10-25",
    )
    assert err.details["left"] == "40000.00"
    pay(d, 1, "30000.00", "2025-10-27")  # the part found due, by its own deadline
    assert d.project.paid_total() == Decimal("980000.00")


def test_R12_a_new_procurement_keeps_the_disputes_with_the_contract_they_were_about() -> None:
    d = Driver().to("in_service")
    dispute(d, "2025-10-21", "40000.00")
    d.fire("remove_contractor", actor=CLERK, at=at("2025-10-22"), reason="严重违约")
    resolve(d, "2025-10-23", "10000.00")  # a dispute is settled in takeover too
    d.fire("reprocure", actor=CLERK, at=at("2025-10-24"), reason="重新采购")
    assert d.project.disputes == []
    (prior,) = d.project.prior_contracts
    assert [(x.id, x.found_due) for x in prior.disputes] == [(1, Decimal("10000.00"))]


def test_R20_partial_payments_publish_one_transaction_each() -> None:
    d = signed("2026-01-05")
    made: list[tuple[str, dict[str, Any]]] = []

    def published() -> None:
        """The release of the event just fired, from the project right after it (as the
        service publishes it)."""
        rec = d.records[-1]
        entry = {"seq": len(d.records), "event": rec.event, "at": rec.at}
        release = ocds.release(d.project, {**entry, "from_state": rec.from_state, "data": rec.data})
        if release is not None:
            made.append((rec.event, release))

    for step in (
        lambda: dispute(d, "2026-01-10", "50000.00"),
        lambda: pay(d, 1, "250000.00", "2026-01-12"),
        lambda: resolve(d, "2026-01-20", "30000.00"),
        lambda: pay(d, 1, "30000.00", "2026-01-21"),
    ):
        step()
        published()
    # a dispute while open is internal; its resolution and the payments publish
    assert [e for e, _ in made] == ["pay", "resolve_dispute", "pay"]
    assert made[1][1]["tag"] == ["implementationUpdate"]
    last = made[-1][1]
    transactions = last["contracts"][0]["implementation"]["transactions"]
    assert [t["id"] for t in transactions] == ["1-contract-1-payment-1", "1-contract-1-payment-1-2"]
    milestones = {
        m["id"].rsplit("-", 1)[-1]: m for m in last["contracts"][0]["implementation"]["milestones"]
    }
    assert milestones["payment_1#disputed"]["status"] == "met"
    assert "争议部分" in milestones["payment_1#disputed"]["title"]
    check_package(ocds.package([r for _, r in made], published_date=at("2026-01-21")))


def test_R20_nothing_models_a_payment_conditional_on_a_third_party() -> None:
    """条例 第九条: 不得约定以收到第三方付款作为向中小企业支付款项的条件: no event takes such a
    condition, and one offered is refused as an unknown field."""
    words = ("third", "condition", "contingent", "back_to_back", "upstream", "subject_to")
    for event, model in EVENT_PAYLOADS.items():
        for name in model.model_fields:
            assert not any(w in name for w in words), (event, name)
    d = signed("2026-01-05")
    for extra in ({"conditional_on": "上级拨款到位"}, {"third_party_paid": True}):
        with pytest.raises(InvalidInput) as err:
            d.fire(
                "pay",
                actor=FINANCE,
                at=at("2026-01-09"),
                tranche=1,
                amount="300000.00",
                on="2026-01-09",
                **extra,
            )
        assert err.value.field == next(iter(extra))
        with pytest.raises(InvalidInput):
            d.fire(
                "sign_contract",
                actor=CLERK,
                at=at("2026-01-09"),
                **sign_data(),
                **extra,
            )
