"""Random event sequences against a real database, a fresh one for each example (a SQLite file,
and a PostgreSQL database cloned from the template): the invariants always hold.

- the state is always one of ProjectState;
- no tranche is paid before the evaluation that unlocks it (R7), and paid ≤ price;
- one audit entry per accepted event (the engine's own follow-ups too), one version per write;
- the audit chain verifies; a refused event changes nothing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from support import (
    ALL_EVALUATORS,
    CLERK,
    CONTRACTOR,
    EVALUATOR,
    FINANCE,
    GOV,
    QUALIFIED,
    SUPERVISOR,
    TERMS,
    at,
)

from states.enums import ProjectState
from states.machine import EVENTS
from states.model import Actor, Settlement
from states.payments import tranche_amounts
from states.policy import load_policy
from workflow import Workflow, WorkflowError

POLICY = load_policy("dawukou-2019")
#: a clerk of another organisation: every event it tries is refused (acting for an organisation)
IMPOSTOR = Actor(id="imp", role="purchaser", org="南阳市民政局")
ACTORS = [CLERK, FINANCE, GOV, EVALUATOR, CONTRACTOR, SUPERVISOR, IMPOSTOR]
#: the engine's clock, far after every `at` the walk records (events are dated in the past)
FAR = datetime(2100, 1, 1, tzinfo=UTC)

#: a deadline's clock: stopped, restarted, extended (issue #10)
CLOCK_EVENTS = ("suspend_deadline", "resume_deadline", "extend_deadline")

#: a fresh database for one example: its URL and what removes it afterwards
Fresh = Callable[[], tuple[str, Callable[[], None]]]


def fresh_sqlite_file() -> tuple[str, Callable[[], None]]:
    folder = tempfile.TemporaryDirectory()
    return f"sqlite:///{Path(folder.name) / 'h.db'}", folder.cleanup


class ProjectMachine(RuleBasedStateMachine):
    #: where each example's database comes from (the test sets it for its backend)
    fresh: Fresh = staticmethod(fresh_sqlite_file)

    @initialize()
    def open(self) -> None:
        url, self.remove = self.fresh()
        self.wf = Workflow.open(url, clock=lambda: FAR)
        self.now = at("2025-07-01")
        self.good = self.wf.register_contractor(
            actor=CLERK,
            name=CONTRACTOR.org,
            org_type="enterprise",
            qualifications=QUALIFIED,
            at=self.now,
        )
        self.bad = self.wf.register_contractor(
            actor=CLERK,
            name="差",
            org_type="enterprise",
            qualifications={**QUALIFIED, "clean_record": False},
            at=self.now,
        )
        self.pid = self.wf.create_project(
            actor=CLERK,
            title="随机",
            purchaser=CLERK.org,
            budget="1000000.00",
            items=[{"name": "核查", "quantity": 1}],
            at=self.now,
        )
        # R20: a small or medium enterprise (payment caps, late interest)
        self.other = self.wf.register_contractor(
            actor=CLERK,
            name="另一家",
            org_type="enterprise",
            sme=True,
            qualifications=QUALIFIED,
            at=self.now,
        )
        self.entries = 1
        self.writes = 1

    def teardown(self) -> None:
        if hasattr(self, "wf"):
            self.wf.close()
            self.remove()

    def _data(self, draw: Any, event: str) -> dict[str, Any]:
        today = self.now.date()
        view = self.wf.project(self.pid)
        contract = view.data.get("contract") or {}
        price = Decimal(contract.get("price", "1000000.00"))
        if event in {"submit", "approve", "close"}:
            return {}
        if event == "revise_plan":
            return {"budget": draw(st.sampled_from(["0", "500000.00", "1000000.00"]))}
        if event == "review_budget":
            return {"approved": draw(st.sampled_from([True, True, False]))}
        if event in {"reject", "fail_procurement", "remove_contractor"}:
            return {"reason": "原因"}
        if event == "publish_notice":
            return {
                "method": draw(st.sampled_from(["open_tender", "single_source"])),
                "notice": "公告",
            }
        if event == "record_review":
            return {
                "reviewers": ["甲"],
                "criteria": draw(
                    st.sampled_from(
                        [
                            {"quality": 70, "price": 30},
                            {"quality": 50, "price": 50},
                            {"price": 100},
                            {"quality": 1, "price": 99},
                            {"quality": 60, "price": 30},
                        ]
                    )
                ),
                "scores": draw(
                    st.sampled_from(
                        [
                            {str(self.good): 90, str(self.bad): 95},
                            {str(self.good): 80, str(self.other): 95},
                            {str(self.good): 95, str(self.other): 80},
                        ]
                    )
                ),
            }
        if event == "award":
            reason = draw(st.sampled_from([None, "第一名放弃"]))
            return {"contractor_id": draw(st.sampled_from([self.good, self.bad, self.other]))} | (
                {"reason": reason} if reason else {}
            )
        if event == "settle":
            left = price - sum(Decimal(p["amount"]) for p in view.data["payments"])
            amount = draw(st.sampled_from([left, left / 2, left + 1, Decimal("1.00")]))
            return {
                "amount": str(max(amount.quantize(Decimal("0.01")), Decimal("0.01"))),
                "reason": "已提供的服务",
                "on": today.isoformat(),
            }
        if event == "reprocure":
            return {"reason": "重新采购"}
        if event == "sign_contract":
            return {
                "signed_on": today.isoformat(),
                "effective_on": today.isoformat(),
                "price": draw(st.sampled_from(["900000.00", "1000000.00", "1000000.01"])),
                "form": "purchase",
                "term_months": draw(st.sampled_from([12, 24])),
                "terms": TERMS,
            }
        if event == "dispatch_staff":
            return {
                "on": today.isoformat(),
                "staff": [{"name": "甲", "education": draw(st.sampled_from(["高中", "大专"]))}],
            }
        if event == "record_training":
            # R14: mostly good; a day before the signing, the same day and topic twice, nobody
            # attending, no hours
            back = draw(st.sampled_from([0, 0, 0, 2, 400]))
            return {
                "on": (today - timedelta(days=back)).isoformat(),
                "topic": draw(st.sampled_from(["岗前培训", "政策轮训", "岗前培训"])),
                "attendees": draw(st.sampled_from([1, 2, 2, 0])),
                "hours": draw(st.sampled_from(["8", "2.5", "8", "0"])),
            }
        if event == "pay":
            tranche = draw(st.sampled_from([len(view.payments) + 1] * 3 + [1, 2, 3]))
            paid = sum(Decimal(p["amount"]) for p in view.data["payments"])
            share = POLICY.tranches[min(tranche, 3) - 1].share_percent
            expected = (
                price - paid if tranche == 3 else (price * share / 100).quantize(Decimal("0.01"))
            )
            # R20: under a dispute, the undisputed part, the part found due, or the whole
            options = [expected]
            for x in view.data["disputes"]:
                if x["tranche"] == tranche:
                    found = Decimal(x["found_due"] or x["amount"])
                    options += [expected - Decimal(x["amount"]), found, expected - found]
            amount = draw(st.sampled_from(options))
            amount += draw(st.sampled_from([Decimal(0), Decimal(0), Decimal(1)]))
            return {
                "tranche": tranche,
                "amount": str(max(amount, Decimal("0.01"))),
                "on": today.isoformat(),
            }
        if event == "dispute_payment":
            tranche = draw(st.sampled_from([len(view.payments) + 1] * 3 + [1, 2, 3, 4]))
            share = POLICY.tranches[min(tranche, 3) - 1].share_percent
            whole = (price * share / 100).quantize(Decimal("0.01"))
            amount = draw(st.sampled_from(["10000.00", "50000.00", str(whole), str(whole + 1)]))
            # raised by the tranche's due day: today, or soon after the contract took effect
            days = [today] + [today - timedelta(days=n) for n in (5, 20)]
            if contract:
                effective = date.fromisoformat(contract["effective_on"])
                days += [
                    effective + timedelta(days=n) for n in (1, 5) if n <= (today - effective).days
                ]
            return {
                "tranche": tranche,
                "amount": amount,
                "reason": "部分服务记录不完整",
                "on": draw(st.sampled_from(days)).isoformat(),
            }
        if event == "resolve_dispute":
            return {
                "dispute": draw(st.sampled_from([x["id"] for x in view.data["disputes"]] + [9])),
                "found_due": draw(st.sampled_from(["0.00", "10000.00", "50000.00", "50000.01"])),
                "on": today.isoformat(),
                "reason": "协商一致",
            }
        if event == "evaluate":
            return {
                "kind": draw(st.sampled_from(["semiannual", "midterm", "final"])),
                "score": draw(st.sampled_from([40, 60, 90])),
                "satisfaction": draw(st.sampled_from([40, 59, 60, 90])),
                "on": today.isoformat(),
                "evaluators": draw(st.sampled_from([ALL_EVALUATORS, ["purchaser"]])),
            }
        if event == "order_rectification":
            return {"due": (today + timedelta(days=10)).isoformat(), "findings": "问题"}
        if event in {"complete_rectification", "accept"}:
            return {"on": today.isoformat()}
        if event == "request_subcontract":
            share = draw(st.sampled_from(["0.2", "0.3", "0.5", "0.99", "1"]))
            return {"part": "部分", "to": "乙", "share": share}
        if event in {"approve_subcontract", "reject_subcontract", "subcontract"}:
            return {"request_id": draw(st.integers(1, 3))}
        if event == "correct_deadline":
            key = draw(st.sampled_from(["dispatch", "payment_1", "payment_2", "evaluation#1"]))
            return {"key": key, "reason": "更正", "due": (today + timedelta(days=20)).isoformat()}
        if event in CLOCK_EVENTS:
            # 中止计时、恢复计时、延长: some keys have no clock (met, cancelled, the term's end)
            key = draw(st.sampled_from(["dispatch", "payment_1", "evaluation#1", "contract_end"]))
            if event == "extend_deadline":
                days_ = draw(st.sampled_from([1, 5, 15, 16, 1000]))
                return {"key": key, "working_days": days_, "reason": "协商"}
            on = today - timedelta(days=draw(st.sampled_from([0, 0, 3, 400])))
            reason = {"reason": "疫情封控"} if event == "suspend_deadline" else {}
            return {"key": key, "on": on.isoformat()} | reason
        if event == "terminate":
            ban = draw(st.sampled_from([None, (today + timedelta(days=365)).isoformat()]))
            return {"reason": "违约"} | ({"ban_until": ban} if ban else {})
        raise AssertionError(event)

    @rule(
        data=st.data(),
        event=st.sampled_from(sorted(set(EVENTS) - {"terminate"})),
        actor=st.sampled_from(ACTORS),
        days=st.integers(0, 40),
    )
    def fire_any(self, data: Any, event: str, actor: Any, days: int) -> None:
        """Any event by anyone: mostly refused, and a refusal must change nothing."""
        self._fire(data, event, actor, days)

    @rule(data=st.data(), days=st.integers(0, 90))
    def step_forward(self, data: Any, days: int) -> None:
        """A plausible next step for the project's state, so runs reach payment and closing."""
        view = self.wf.project(self.pid)
        d = view.data
        passed = {e["kind"] for e in d["evaluations"] if e["passed"]}
        review = [(FINANCE, "review_budget")]
        decide = [(GOV, "approve"), (GOV, "approve"), (GOV, "reject")]
        options: dict[str, list[tuple[Any, str]]] = {
            "draft": [(CLERK, "submit")],
            "pending_approval": decide if d["budget_review"] else review,
            "approved": [(CLERK, "publish_notice")],
            "procuring": [(CLERK, "award"), (CLERK, "award"), (CLERK, "fail_procurement")]
            if d["reviews"]
            else [(CLERK, "record_review")],
            "awarded": [(CLERK, "sign_contract")],
            "contracted": [
                (CONTRACTOR, "record_training"),  # R14: before duty, then the dispatch
                (CLERK, "dispatch_staff"),
                (FINANCE, "pay"),
                (CLERK, "dispute_payment"),
                (CLERK, "resolve_dispute"),
                *[(CLERK, event) for event in CLOCK_EVENTS],
            ],
            "in_service": [
                (CLERK, "record_training"),
                (EVALUATOR, "evaluate"),
                (EVALUATOR, "evaluate"),
                (FINANCE, "pay"),
                (CLERK, "dispute_payment"),
                (CLERK, "resolve_dispute"),
                (CLERK, "order_rectification"),
                (CONTRACTOR, "request_subcontract"),
                (CLERK, "approve_subcontract"),
                (CONTRACTOR, "subcontract"),
                *([(CLERK, "accept")] * 3 if "final" in passed else []),
            ],
            "rectifying": [(CLERK, "complete_rectification"), (EVALUATOR, "evaluate")],
            "accepted": [(FINANCE, "pay"), (CLERK, "resolve_dispute"), (CLERK, "close")],
            "takeover": [
                (FINANCE, "pay"),
                (FINANCE, "settle"),
                (CLERK, "reprocure"),
                (CLERK, "reprocure"),
                (CLERK, "terminate"),
            ],
        }
        choices = options.get(view.state, [])
        if choices and any(x["status"] == "open" for x in d["disputes"]):
            choices = [*choices, *[(CLERK, "resolve_dispute")] * 3]  # R20: settle it, mostly
        if choices:
            actor, event = data.draw(st.sampled_from(choices))
            self._fire(data, event, actor, days)

    def _fire(self, data: Any, event: str, actor: Any, days: int) -> None:
        self.now += timedelta(days=days)
        payload = self._data(data.draw, event)
        before = self.wf.project(self.pid)
        try:
            view = self.wf.fire(self.pid, event, actor=actor, at=self.now, **payload)
        except WorkflowError:
            assert self.wf.project(self.pid).to_dict() == before.to_dict()
            return
        self.entries += 1
        self.writes += 1
        if event == "evaluate" and view.state == "takeover":
            self.entries += 1  # R11: the engine removed the contractor by itself

    @invariant()
    def invariants(self) -> None:
        if not hasattr(self, "wf"):
            return
        view = self.wf.project(self.pid)
        assert view.state in {s.value for s in ProjectState}
        history = self.wf.history(self.pid)
        assert len(history) == self.entries  # one entry per accepted event, follow-ups too
        assert view.version == self.writes  # one version per transaction
        contract = view.data.get("contract")
        paid = sum((p.amount for p in view.payments), Decimal(0))
        if contract:
            assert paid <= Decimal(contract["price"])
        else:
            assert paid == 0
        evaluations = view.data["evaluations"]
        for p in view.payments:
            unlock = POLICY.tranches[p.tranche - 1].unlocked_by.value
            if unlock != "contract_effective":
                kind = unlock.removesuffix("_passed")
                assert any(
                    e["kind"] == kind and e["passed"] and e["on"] <= p.on.isoformat()
                    for e in evaluations
                ), (p, evaluations)
        # R9: pending, approved and executed shares never reach the policy's limit, let alone 1
        live = [r for r in view.data["subcontract_requests"] if r["status"] != "rejected"]
        assert sum((Decimal(r["share"]) for r in live), Decimal(0)) <= POLICY.max_subcontract_share
        # R10: one semiannual evaluation per period; R11: removal only after two periods in a row
        periods = [e["period"] for e in evaluations if e["kind"] == "semiannual"]
        assert len(periods) == len(set(periods))
        if view.data["removal_reason"] and "R11" in view.data["removal_reason"]:
            lows = {e["period"] for e in evaluations if e["low"]}
            assert any(p + 1 in lows for p in lows)
        # R20: one dispute a tranche; what a tranche paid never exceeds its amount, less an open
        # dispute (never paid before its resolution) or what a resolution found not owed
        if contract:
            disputes = view.data["disputes"]
            assert len({x["tranche"] for x in disputes}) == len(disputes)
            settled = [Settlement.model_validate(x) for x in view.data["settlements"]]
            amounts = tranche_amounts(Decimal(contract["price"]), POLICY, settled)
            for n, amount in enumerate(amounts, start=1):
                held = [x for x in disputes if x["tranche"] == n]
                cap = amount
                for x in held:
                    found = x["found_due"]
                    cap -= Decimal(x["amount"]) - (Decimal(found) if found is not None else 0)
                paid_n = sum((p.amount for p in view.payments if p.tranche == n), Decimal(0))
                assert paid_n <= max(cap, Decimal(0))  # (a settlement may leave the last none)
        # R14: staff went on duty trained: a training on or before the dispatch day, attended by
        # as many; a training meets one deadline at most, a deadline is met by one training; no
        # training is recorded twice (day and topic) or dated before the contract's signing
        trainings = view.data["trainings"]
        if view.data["dispatched_on"] is not None:
            before = [t for t in trainings if t["on"] <= view.data["dispatched_on"]]
            assert sum(t["attendees"] for t in before) >= len(view.data["staff"]) > 0
        met = [t["meets"] for t in trainings if t["meets"]]
        assert len(met) == len(set(met))
        for t in trainings:
            assert t["attendees"] >= 1 and Decimal(t["hours"]) > 0
            assert contract and t["on"] >= contract["signed_on"]
            if t["meets"]:
                d = view.deadline(t["meets"])
                assert d is not None and d.kind == "training"
                assert d.met_on == date.fromisoformat(t["on"])
        assert len({(t["on"], t["topic"]) for t in trainings}) == len(trainings)
        # R5, R4: the awarded contractor is registered, qualified and acts under its own name
        if view.contractor_id is not None:
            assert view.contractor_id in (self.good, self.other)
            assert view.data["contractor_name"] in (CONTRACTOR.org, "另一家")
        # R12: payments and settlements never exceed the price
        if contract:
            settled = sum((Decimal(x["amount"]) for x in view.data["settlements"]), Decimal(0))
            assert paid + settled <= Decimal(contract["price"])
        # a deadline's clock: suspended exactly while its last change is a suspension; stopped
        # no more often than the policy allows, each restart on or after its stop; never
        # extended more often than the policy allows, nor in all by more than its window
        for d in view.deadlines:
            last = d.changes[-1]["kind"] if d.changes else None
            if d.status in ("open", "suspended"):
                assert (d.status == "suspended") == (last == "suspended"), d
            stops = [c for c in d.changes if c["kind"] == "suspended"]
            assert len(stops) <= POLICY.max_deadline_suspensions, d
            for stop, after in zip(d.changes, d.changes[1:], strict=False):
                if stop["kind"] == "suspended":
                    assert after["kind"] == "resumed" and after["on"] >= stop["on"], d
            extensions = [c["working_days"] for c in d.changes if c["kind"] == "extended"]
            assert len(extensions) <= POLICY.max_deadline_extensions
            if d.unit == "working_days":
                assert sum(extensions) <= d.length
        assert self.wf.verify().ok


SETTINGS = settings(
    max_examples=30,
    stateful_step_count=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def test_random_event_sequences_keep_the_invariants(
    backend: str, request: pytest.FixtureRequest
) -> None:
    fresh: Fresh = fresh_sqlite_file
    if backend == "postgresql":
        server = request.getfixturevalue("pg_server")
        template = request.getfixturevalue("pg_template")

        def fresh_postgres_database() -> tuple[str, Callable[[], None]]:
            name = server.create_database(template=template)
            return server.url(name), lambda: server.drop_database(name)

        fresh = fresh_postgres_database
    machine = type("ProjectMachine", (ProjectMachine,), {"fresh": staticmethod(fresh)})
    run_state_machine_as_test(machine, settings=SETTINGS)
