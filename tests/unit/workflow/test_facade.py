"""The Workflow facade on a real database (a SQLite file and PostgreSQL): one transaction per
event, audit, versions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from dbtools import execute, fingerprint, row, rows
from sqlalchemy import func, select
from support import (
    ADMIN,
    CLERK,
    FINANCE,
    GOV,
    QUALIFIED,
    SUPERVISOR,
    advance,
    at,
    contractor,
    new_project,
    project_in,
    sign_data,
)

from workflow import (
    Actor,
    ConcurrentUpdate,
    ContractorNotFound,
    Forbidden,
    GuardRefused,
    IllegalTransition,
    InvalidInput,
    ProjectNotFound,
    Workflow,
)
from workflow.persistence import audit_t, deadline_t


def test_create_project_starts_in_draft_at_version_1(wf: Workflow) -> None:
    pid = new_project(wf)
    view = wf.project(pid)
    assert (view.state, view.version, view.policy) == ("draft", 1, "dawukou-2019")
    assert [e.event for e in wf.history(pid)] == ["create_project"]


def test_each_accepted_event_bumps_the_version_and_writes_one_audit_entry(wf: Workflow) -> None:
    pid, _ = project_in(wf, "in_service")
    view = wf.project(pid)
    history = wf.history(pid)
    assert view.state == "in_service"
    assert view.version == len(history) == 10  # create + nine events (R14: a training)
    assert [e.seq for e in history] == list(range(1, 11))
    last = history[-1]
    assert (last.event, last.from_state, last.to_state, last.role) == (
        "dispatch_staff",
        "contracted",
        "in_service",
        "purchaser",
    )
    assert last.data["on"] == "2025-10-20"


def test_the_view_shows_deadlines_with_due_day_provisional_and_met_on(wf: Workflow) -> None:
    pid, _ = project_in(wf, "in_service")
    view = wf.project(pid)
    dispatch = view.deadline("dispatch")
    assert dispatch is not None
    assert (dispatch.due, dispatch.provisional, dispatch.met_on, dispatch.late) == (
        date(2025, 10, 23),
        False,
        date(2025, 10, 20),
        False,
    )
    assert view.deadline("payment_1") is not None
    assert view.to_dict()["deadlines"][0]["due"]


def test_payments_show_in_the_view_as_decimal(wf: Workflow) -> None:
    pid, _ = project_in(wf, "in_service")
    view = wf.fire(
        pid,
        "pay",
        actor=FINANCE,
        at=at("2025-10-21"),
        tranche=1,
        amount="300000.00",
        on="2025-10-21",
    )
    assert view.payments[0].amount == __import__("decimal").Decimal("300000.00")
    assert wf.project(pid).payments == view.payments


def test_deadline_rows_mirror_the_project(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "contracted")
    found = rows(
        db_url,
        select(deadline_t.c.key, deadline_t.c.status).where(deadline_t.c.project_id == pid),
    )
    assert {r["key"]: r["status"] for r in found} == {
        "dispatch": "open",
        "payment_1": "open",
        "evaluation#1": "open",
        "evaluation#2": "open",
        "contract_end": "open",
        "training#0": "met",  # R14: trained before duty (the walk records it)
    }


def test_expected_version_that_is_stale_raises_concurrent_update(wf: Workflow) -> None:
    pid, _ = project_in(wf, "contracted")
    view = wf.project(pid)
    wf.fire(
        pid,
        "pay",
        actor=FINANCE,
        at=at("2025-10-09"),
        tranche=1,
        amount="300000.00",
        on="2025-10-09",
        expected_version=view.version,
    )
    with pytest.raises(ConcurrentUpdate):
        wf.fire(
            pid,
            "dispatch_staff",
            actor=CLERK,
            at=at("2025-10-20"),
            on="2025-10-20",
            staff=[{"name": "甲", "education": "大专"}],
            expected_version=view.version,
        )


def test_unknown_project_is_not_found(wf: Workflow) -> None:
    with pytest.raises(ProjectNotFound):
        wf.fire(999, "submit", actor=CLERK, at=at("2025-08-01"))
    with pytest.raises(ProjectNotFound):
        wf.project(999)


def test_a_naive_datetime_is_refused(wf: Workflow) -> None:
    pid = new_project(wf)
    with pytest.raises(InvalidInput) as err:
        wf.fire(pid, "submit", actor=CLERK, at=datetime(2025, 8, 1, 10))
    assert err.value.field == "at"


def test_a_refused_event_writes_nothing(wf: Workflow) -> None:
    pid, _ = project_in(wf, "contracted")
    before = (wf.project(pid).to_dict(), [e.hash for e in wf.history(pid)])
    with pytest.raises(GuardRefused):
        wf.fire(
            pid,
            "pay",
            actor=FINANCE,
            at=at("2025-10-09"),
            tranche=2,
            amount="300000.00",
            on="2025-10-09",
        )
    with pytest.raises(IllegalTransition):
        wf.fire(pid, "approve", actor=GOV, at=at("2025-10-09"))
    with pytest.raises(Forbidden):
        wf.fire(
            pid,
            "pay",
            actor=SUPERVISOR,
            at=at("2025-10-09"),
            tranche=1,
            amount="300000.00",
            on="2025-10-09",
        )
    assert (wf.project(pid).to_dict(), [e.hash for e in wf.history(pid)]) == before


@pytest.mark.parametrize(
    ("event", "data"),
    [
        ("pay", {"tranche": 1, "amount": -5, "on": "2025-10-09"}),
        ("pay", {"tranche": 1, "amount": 3.3, "on": "2025-10-09"}),
        ("pay", {"tranche": 1, "on": "2025-10-09"}),
        ("sign_contract", sign_data(effective_on="2025-01-01")),
        ("teleport", {}),
        (
            "evaluate",
            {
                "kind": "annual",
                "score": 1,
                "satisfaction": 1,
                "on": "2025-10-09",
                "evaluators": ["purchaser"],
            },
        ),
    ],
)
def test_bad_input_leaves_the_database_byte_for_byte_unchanged(
    wf: Workflow, db_url: str, event: str, data: dict[str, Any]
) -> None:
    """SQLite: the file, its -wal and -shm byte for byte; PostgreSQL: every gpw row."""
    pid, _ = project_in(wf, "contracted")
    before = fingerprint(db_url)
    with pytest.raises(InvalidInput):
        wf.fire(pid, event, actor=FINANCE, at=at("2025-10-09"), **data)
    assert fingerprint(db_url) == before


def test_verify_finds_the_first_altered_entry(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "awarded")
    assert wf.verify().ok
    review = (audit_t.c.stream == f"project:{pid}") & (audit_t.c.event == "review_budget")
    data = row(db_url, select(audit_t.c.data).where(review))["data"]
    execute(db_url, audit_t.update().where(review).values(data={**data, "approved": False}))
    report = wf.verify()
    assert not report.ok
    assert report.first_bad == (f"project:{pid}", 3)
    assert "altered" in report.reason


def test_verify_finds_a_deleted_tail(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "awarded")
    stream = audit_t.c.stream == f"project:{pid}"
    last = select(func.max(audit_t.c.seq)).where(stream).scalar_subquery()
    execute(db_url, audit_t.delete().where(stream, audit_t.c.seq == last))
    report = wf.verify()
    assert not report.ok and report.first_bad is not None
    assert report.first_bad[0] == f"project:{pid}"


def test_verify_finds_a_deleted_middle_entry(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "awarded")
    execute(
        db_url, audit_t.delete().where(audit_t.c.stream == f"project:{pid}", audit_t.c.seq == 2)
    )
    report = wf.verify()
    assert report.first_bad == (f"project:{pid}", 2)


def test_termination_bans_the_contractor_in_the_same_transaction(wf: Workflow) -> None:
    pid, cid = project_in(wf, "in_service")
    wf.fire(
        pid,
        "terminate",
        actor=CLERK,
        at=at("2025-11-03"),
        reason="虚报服务数据",
        ban_until="2028-11-03",
    )
    record = wf.contractor(cid)
    assert record.bans[0]["until"] == "2028-11-03" and record.bans[0]["project_id"] == pid
    other = new_project(wf, title="另一个项目")
    advance(lambda ev, **kw: wf.fire(other, ev, **kw), "procuring", cid)
    with pytest.raises(GuardRefused) as err:
        wf.fire(other, "award", actor=CLERK, at=at("2025-11-10"), contractor_id=cid)
    assert err.value.rule == "R12"
    assert wf.verify().ok


def test_ban_contractor_from_at_until_a_date(wf: Workflow) -> None:
    cid = contractor(wf)
    view = wf.ban_contractor(
        cid, actor=GOV, at=at("2025-06-01"), until=date(2025, 9, 30), reason="欺诈"
    )
    assert view.bans[0]["from_on"] == "2025-06-01"
    with pytest.raises(InvalidInput) as err:
        wf.ban_contractor(cid, actor=GOV, at=at("2025-06-01"), until=date(2025, 5, 1), reason="x")
    assert err.value.field == "until"
    with pytest.raises(ContractorNotFound):
        wf.ban_contractor(999, actor=GOV, at=at("2025-06-01"), until=date(2026, 1, 1), reason="x")


def test_register_contractor_validates_org_type_and_conditions(wf: Workflow) -> None:
    with pytest.raises(InvalidInput) as err:
        wf.register_contractor(actor=CLERK, name="x", org_type="charity", qualifications=QUALIFIED)
    assert (err.value.field, err.value.rule) == ("org_type", "R4")
    with pytest.raises(InvalidInput) as err:
        wf.register_contractor(
            actor=CLERK, name="x", org_type="enterprise", qualifications={"magic": True}
        )
    assert err.value.field == "qualifications"
    with pytest.raises(Forbidden):
        wf.register_contractor(
            actor=SUPERVISOR, name="x", org_type="enterprise", qualifications=QUALIFIED
        )


def test_available_events_through_the_facade(wf: Workflow) -> None:
    pid, _ = project_in(wf, "contracted")
    assert wf.available_events(pid, FINANCE, at=at("2025-10-01")) == ["pay"]
    assert wf.available_events(pid, SUPERVISOR, at=at("2025-10-01")) == []


def test_the_injected_clock_is_used_when_no_at_is_given(db_url: str) -> None:
    fixed = at("2025-07-30")
    workflow = Workflow.open(db_url, clock=lambda: fixed)
    pid = workflow.create_project(
        actor=CLERK,
        title="t",
        purchaser="大武口区民政局",
        budget="1.00",
        items=[{"name": "x", "quantity": 1}],
    )
    assert workflow.history(pid)[0].at == fixed
    workflow.close()


def test_an_unknown_role_is_invalid(wf: Workflow) -> None:
    pid = new_project(wf)
    with pytest.raises(InvalidInput) as err:
        wf.fire(pid, "submit", actor=Actor(id="x", role="mayor"), at=at("2025-08-01"))
    assert err.value.field == "actor.role"


def test_projects_list_filters_by_state(wf: Workflow) -> None:
    a = new_project(wf)
    b, _ = project_in(wf, "approved")
    assert [p["id"] for p in wf.projects(state="approved")] == [b]
    assert {p["id"] for p in wf.projects()} == {a, b}


def test_calendar_add_year_needs_admin_or_government(wf: Workflow) -> None:
    with pytest.raises(Forbidden):
        wf.calendar.add_year(
            {"year": 2027, "holidays": [], "workdays": []}, actor=CLERK, at=at("2026-11-20")
        )
    assert 2027 not in wf.calendar.known_years()
    wf.calendar.add_year(
        {"year": 2027, "holidays": ["2027-01-01"], "workdays": []}, actor=ADMIN, at=at("2026-11-20")
    )
    assert 2027 in wf.calendar.known_years()


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"items": 5}, "items"),
        ({"items": [{"name": "核查"}]}, "items[0].quantity"),
        ({"budget": 12.5}, "budget"),
        ({"budget": "-1"}, "budget"),
        ({"title": ""}, "title"),
    ],
)
def test_create_project_refuses_bad_plans_naming_the_field(
    wf: Workflow, db_url: str, over: dict[str, Any], field: str
) -> None:
    new_project(wf)
    before = fingerprint(db_url)
    with pytest.raises(InvalidInput) as err:
        new_project(wf, **over)
    assert err.value.field == field
    assert fingerprint(db_url) == before


@pytest.mark.parametrize(
    ("population", "staff"), [(30_000, 3), (30_001, 4), (35_000, 4), (40_000, 4), (40_001, 5)]
)
def test_R17_wf_staffing_for_hosts(wf: Workflow, population: int, staff: int) -> None:
    # Jilin (000 三(三)): 3万人以下(含3万人)不少于3人; 每增加1万人(不足1万人的,按1万人计)增加1名
    result = wf.staffing(policy="jilin-2017", population=population)
    assert (result.required, result.post) == (staff, "town")
    assert result.to_dict()["rule"] == "R17"


def test_R17_wf_staffing_by_kind_of_post_and_refusals(wf: Workflow) -> None:
    # Nanyang (003 第三十五条): a town 1 per 800 recipients, at least 3: ⌈2500 / 800⌉ = 4
    assert wf.staffing(policy="nanyang-2019", post="town", recipients=2500).required == 4
    # the default policy (Dawukou, 宁民规发〔2018〕2号 as 001 §三(二) cites it): a bureau 2-3
    bureau = wf.staffing(post="county")
    assert (bureau.required, bureau.max_staff) == (2, 3)
    with pytest.raises(InvalidInput) as err:
        wf.staffing(policy="jilin-2017", population=-1)
    assert (err.value.field, err.value.rule) == ("population", "R17")
    with pytest.raises(InvalidInput) as err:
        wf.staffing(population=35_000)  # Dawukou staffs by kind of post: name one
    assert err.value.field == "post"
