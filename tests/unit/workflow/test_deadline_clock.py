"""中止计时、恢复计时、延长 through the workflow (issue #10), on a SQLite file and PostgreSQL: audit
entries, the deadline rows the scheduler reads (a suspended one is not due), the notices (none
while suspended, the right stage after resuming, the move told once), a calendar reload that
recomputes suspended and extended deadlines, the project page's timeline and the lists.

Signed and effective 2025-09-26, dispatch and payment_1 are due Thu 2025-10-23 (15 working days,
across 国庆 2025): reminder Mon 10-20, overdue Fri 10-24, escalation_1 Mon 10-27, escalation_2
Thu 10-30, each at 09:00.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from dbtools import rows
from ocds_check import check_package, milestones
from sqlalchemy import select
from support import (
    ADMIN,
    CLERK,
    CONTRACTOR,
    advance,
    at,
    contractor,
    new_project,
    project_in,
    sign_data,
)

from notifications.testing import RecordingChannel
from workflow import Forbidden, GuardRefused, InvalidInput, Workflow
from workflow.persistence import deadline_t
from workflow.services.scope import Scope

#: 2027 as an operator loads it: 01-01, 01-04 and 01-05 off (made up; none is published yet)
YEAR_2027 = {"year": 2027, "holidays": ["2027-01-01", "2027-01-04", "2027-01-05"], "workdays": []}


@pytest.fixture
def nwf(db_url: str, clock: Any) -> Any:
    workflow = Workflow.open(db_url, channels=[RecordingChannel()], clock=clock)
    yield workflow
    workflow.close()


def stop(wf: Workflow, pid: int, key: str, on: str, day: str | None = None) -> Any:
    return wf.fire(
        pid, "suspend_deadline", actor=CLERK, at=at(day or on), key=key, reason="疫情封控", on=on
    )


def go(wf: Workflow, pid: int, key: str, on: str, day: str | None = None) -> Any:
    return wf.fire(pid, "resume_deadline", actor=CLERK, at=at(day or on), key=key, on=on)


def extend(wf: Workflow, pid: int, key: str, n: int, day: str) -> Any:
    return wf.fire(
        pid, "extend_deadline", actor=CLERK, at=at(day), key=key, working_days=n, reason="协商"
    )


def row(wf: Workflow, pid: int, key: str) -> dict[str, Any]:
    (found,) = rows(
        wf.engine,
        select(deadline_t).where(deadline_t.c.project_id == pid, deadline_t.c.key == key),
    )
    return found


def signed(wf: Workflow, on: str) -> int:
    pid, _ = project_in(wf, "awarded")
    wf.fire(
        pid, "sign_contract", actor=CLERK, at=at(on), **sign_data(signed_on=on, effective_on=on)
    )
    return pid


def contracted(wf: Workflow) -> int:
    """Signed and effective Fri 2025-09-26: dispatch and payment_1 due Thu 2025-10-23."""
    return signed(wf, "2025-09-26")


def for_dispatch(notices: list[Any]) -> list[Any]:
    return [n for n in notices if n.deadline_kind == "dispatch"]


# -- the events, their audit entries and the rows -------------------------------------------------


def test_stopped_restarted_and_extended_with_audit_entries_and_rows(wf: Workflow) -> None:
    pid = signed(wf, "2026-02-02")  # dispatch due Sat 2026-02-28 (a make-up working day)
    view = stop(wf, pid, "dispatch", "2026-02-11")
    dispatch = view.deadline("dispatch")
    assert dispatch is not None and dispatch.status == "suspended"
    assert dispatch.suspended_on == date(2026, 2, 11) and dispatch.remaining_working_days == 8
    stopped = row(wf, pid, "dispatch")
    # the scheduler claims open rows whose next stage is due: this one has none
    assert (stopped["status"], stopped["next_stage"], stopped["next_fire_at"]) == (
        "suspended",
        None,
        None,
    )
    view = go(wf, pid, "dispatch", "2026-03-10")
    assert view.deadline("dispatch").due == date(2026, 3, 20)  # type: ignore[union-attr]
    running = row(wf, pid, "dispatch")
    assert running["status"] == "open" and running["next_stage"] == "reminder"
    assert running["moved_from"] == date(2026, 2, 28)  # the next notice tells the move
    extend(wf, pid, "dispatch", 5, "2026-03-20")
    assert row(wf, pid, "dispatch")["due"] == date(2026, 3, 27)
    trail = [(e.event, e.data) for e in wf.history(pid)[-3:]]
    assert [event for event, _ in trail] == [
        "suspend_deadline",
        "resume_deadline",
        "extend_deadline",
    ]
    assert trail[0][1]["remaining"] == 8 and trail[0][1]["reason"] == "疫情封控"
    assert (trail[1][1]["old_due"], trail[1][1]["new_due"]) == ("2026-02-28", "2026-03-20")
    assert (trail[2][1]["old_due"], trail[2][1]["new_due"]) == ("2026-03-20", "2026-03-27")
    as_dict = wf.project(pid).deadline("dispatch").to_dict()  # type: ignore[union-attr]
    assert [c["kind"] for c in as_dict["changes"]] == ["suspended", "resumed", "extended"]
    assert wf.verify().ok


def test_a_refusal_writes_nothing(wf: Workflow) -> None:
    pid = signed(wf, "2026-02-02")
    stop(wf, pid, "dispatch", "2026-02-11")
    before, entries = wf.project(pid), len(wf.history(pid))
    with pytest.raises(GuardRefused) as err:
        stop(wf, pid, "dispatch", "2026-02-12")  # twice
    assert err.value.rule == "R8"
    with pytest.raises(GuardRefused) as err:
        extend(wf, pid, "dispatch", 1, "2026-02-12")  # while suspended
    assert err.value.rule == "R8"
    with pytest.raises(InvalidInput) as bad:
        extend(wf, pid, "payment_1", 0, "2026-02-12")
    assert bad.value.field == "working_days"
    with pytest.raises(Forbidden):
        wf.fire(
            pid,
            "resume_deadline",
            actor=CONTRACTOR,
            at=at("2026-02-12"),
            key="dispatch",
            on="2026-02-12",
        )
    assert wf.project(pid).to_dict() == before.to_dict()
    assert len(wf.history(pid)) == entries
    assert row(wf, pid, "dispatch")["status"] == "suspended"


def test_met_while_suspended_the_row_is_met_and_not_late(wf: Workflow) -> None:
    pid = signed(wf, "2026-09-18")  # payment_1 due 2026-10-15
    stop(wf, pid, "payment_1", "2026-09-29")
    wf.fire(
        pid,
        "pay",
        actor=CLERK,
        at=at("2026-11-02"),
        tranche=1,
        amount="300000.00",
        on="2026-11-02",
    )
    paid = row(wf, pid, "payment_1")
    assert (paid["status"], paid["late"], paid["next_fire_at"]) == ("met", False, None)
    assert wf.verify().ok


# -- a calendar reload (a new year loaded) ------------------------------------------------------


def test_a_reload_recomputes_a_resumed_deadline(wf: Workflow) -> None:
    pid = signed(wf, "2026-12-10")  # dispatch due Thu 2026-12-31
    stop(wf, pid, "dispatch", "2026-12-21")  # 8 kept: 12-22..25, 12-28..31
    go(wf, pid, "dispatch", "2026-12-28")
    # 12-29, 30, 31, (01-01 off, estimated) 01-04..08
    estimated = row(wf, pid, "dispatch")
    assert (estimated["due"], estimated["provisional"]) == (date(2027, 1, 8), True)
    changes = wf.calendar.add_year(YEAR_2027, actor=ADMIN, at=at("2027-01-02"))
    # 12-29, 30, 31, (01-04, 05 off) 01-06, 07, 08, 11, 12
    assert {
        "project_id": pid,
        "key": "dispatch",
        "old_due": "2027-01-08",
        "new_due": "2027-01-12",
        "provisional": False,
    } in changes
    loaded = row(wf, pid, "dispatch")
    assert (loaded["due"], loaded["provisional"], loaded["status"]) == (
        date(2027, 1, 12),
        False,
        "open",
    )
    resumed = wf.project(pid).deadline("dispatch")
    assert resumed is not None and resumed.changes[-1]["due_after"] == "2027-01-12"
    entry = wf.history(pid)[-1]
    assert entry.event == "recompute_deadlines" and entry.data["year"] == 2027
    assert wf.verify().ok


def test_a_reload_recomputes_a_suspended_deadline_that_stays_suspended(wf: Workflow) -> None:
    pid = signed(wf, "2026-12-21")  # dispatch due 2027-01-12, provisional
    stop(wf, pid, "dispatch", "2026-12-24")  # 12 kept, counted into 2027
    before = row(wf, pid, "dispatch")
    assert (before["status"], before["provisional"]) == ("suspended", True)
    changes = wf.calendar.add_year(YEAR_2027, actor=ADMIN, at=at("2027-01-02"))
    # the suspended row is found and recomputed: its original day is now 01-14 (01-06..08,
    # 01-11..14), still 12 kept, no longer provisional, still suspended (no notice due)
    assert any(c["project_id"] == pid and c["key"] == "dispatch" for c in changes)
    after = row(wf, pid, "dispatch")
    assert (after["status"], after["provisional"], after["due"], after["next_fire_at"]) == (
        "suspended",
        False,
        date(2027, 1, 14),
        None,
    )
    assert wf.project(pid).deadline("dispatch").remaining_working_days == 12  # type: ignore[union-attr]
    go(wf, pid, "dispatch", "2027-01-04")  # a day off: 01-06..08, 01-11..15, 01-18..21
    assert row(wf, pid, "dispatch")["due"] == date(2027, 1, 21)
    assert wf.verify().ok


def test_a_reload_recomputes_an_extension_into_2027(wf: Workflow) -> None:
    pid = signed(wf, "2026-12-10")  # dispatch due 2026-12-31
    extend(wf, pid, "dispatch", 5, "2026-12-30")  # (01-01 off) 01-04..08, provisional
    assert row(wf, pid, "dispatch")["provisional"] is True
    wf.calendar.add_year(YEAR_2027, actor=ADMIN, at=at("2027-01-02"))
    loaded = row(wf, pid, "dispatch")
    assert (loaded["due"], loaded["provisional"]) == (date(2027, 1, 12), False)
    assert wf.verify().ok


# -- notices ------------------------------------------------------------------------------------


def test_no_notice_while_suspended(nwf: Workflow) -> None:
    pid = contracted(nwf)
    stop(nwf, pid, "dispatch", "2025-10-15")  # kept: 10-16, 17, 20, 21, 22, 23 = 6
    for day in ("2025-10-20", "2025-10-24", "2025-10-27", "2025-10-30", "2025-11-28"):
        assert for_dispatch(nwf.tick(at(day))) == []
    assert [n.stage for n in nwf.notices() if n.deadline_kind == "payment_1"] == [
        "reminder",
        "overdue",
        "escalation_1",
        "escalation_2",
    ]


def test_after_resuming_the_next_stage_is_the_new_due_days_and_says_so(nwf: Workflow) -> None:
    pid = contracted(nwf)
    assert [n.stage for n in for_dispatch(nwf.tick(at("2025-10-20")))] == ["reminder"]
    stop(nwf, pid, "dispatch", "2025-10-21")  # kept: 10-22, 10-23
    assert for_dispatch(nwf.tick(at("2025-10-24"))) == []  # the old overdue day: nothing
    assert for_dispatch(nwf.tick(at("2025-10-30"))) == []  # the old escalation_2 day: nothing
    go(nwf, pid, "dispatch", "2025-11-03")  # the 2nd working day after Mon 11-03: Wed 11-05
    # its reminder (10-31) went out for the old day already: not sent again
    assert for_dispatch(nwf.tick(at("2025-11-03", 12))) == []
    assert for_dispatch(nwf.tick(at("2025-11-05", 12))) == []
    (overdue,) = for_dispatch(nwf.tick(at("2025-11-06", 10)))  # the day after 11-05
    assert overdue.stage == "overdue"
    assert "原截止日 2025-10-23，现为 2025-11-05" in overdue.body
    assert "2025-10-21 中止计时（尚余 2 个工作日）：疫情封控" in overdue.body
    assert "2025-11-03 恢复计时，截止日为 2025-11-05" in overdue.body
    (next_one,) = for_dispatch(nwf.tick(at("2025-11-07", 10)))
    assert next_one.stage == "escalation_1" and "原截止日" not in next_one.body  # said once
    assert "中止计时" not in next_one.body


def test_a_long_suspension_skips_the_old_days_stages(nwf: Workflow) -> None:
    pid = contracted(nwf)
    stop(nwf, pid, "dispatch", "2025-10-15")  # kept: 10-16, 17, 20, 21, 22, 23 = 6
    go(nwf, pid, "dispatch", "2025-11-03", day="2025-11-03")  # due 11-11: 11-04..07, 10, 11
    # nothing of the old day's ladder (its reminder, overdue, escalations) is due now
    assert for_dispatch(nwf.tick(at("2025-11-03", 12))) == []
    (first,) = for_dispatch(nwf.tick(at("2025-11-06", 10)))  # 3 working days before 11-11
    assert first.stage == "reminder" and "原截止日 2025-10-23，现为 2025-11-11" in first.body


def test_an_extension_is_told_in_the_next_notice_even_the_first(nwf: Workflow) -> None:
    pid = contracted(nwf)
    extend(nwf, pid, "dispatch", 5, "2025-10-15")  # 10-24, 27, 28, 29, 30
    assert for_dispatch(nwf.tick(at("2025-10-20"))) == []  # the old reminder day
    (reminder,) = for_dispatch(nwf.tick(at("2025-10-27", 10)))  # 3 before Thu 10-30
    assert reminder.stage == "reminder"
    assert "原截止日 2025-10-23，现为 2025-10-30" in reminder.body
    assert "2025-10-15 延长 5 个工作日，截止日为 2025-10-30：协商" in reminder.body


# -- the project page and the lists ---------------------------------------------------------------


def test_the_page_shows_the_timeline_and_the_list_the_suspended(wf: Workflow) -> None:
    pid = signed(wf, "2026-02-02")
    stop(wf, pid, "dispatch", "2026-02-11")
    page = wf.details.project_detail(pid, Scope.all(), now=at("2026-02-20"))
    (dispatch,) = [d for d in page.deadlines if d.key == "dispatch"]
    assert dispatch.deadline.status == "suspended" and not dispatch.overdue
    assert dispatch.working_days_left is None and dispatch.next_stage is None
    as_json = dispatch.to_dict()
    assert as_json["remaining_working_days"] == 8 and as_json["suspended_on"] == "2026-02-11"
    assert as_json["changes"][0]["kind"] == "suspended"
    listed = wf.lists.deadlines(Scope.all(), status="suspended", now=at("2026-03-02"))
    assert [(i.project_id, i.key) for i in listed.items] == [(pid, "dispatch")]
    # the old due day passed: a suspended deadline is not overdue
    overdue = wf.lists.deadlines(Scope.all(), status="overdue", now=at("2026-03-02"))
    assert "dispatch" not in [i.key for i in overdue.items if i.project_id == pid]


def test_the_clock_is_published_as_implementation_updates(wf: Workflow) -> None:
    pid = signed(wf, "2026-02-02")
    stop(wf, pid, "dispatch", "2026-02-11")
    go(wf, pid, "dispatch", "2026-03-10")
    extend(wf, pid, "dispatch", 5, "2026-03-20")
    package = wf.disclose(pid)
    check_package(package)  # the schema, the milestones' coherence, libcoveocds
    releases = package["releases"][-3:]
    assert [r["tag"] for r in releases] == [["implementationUpdate"]] * 3
    dispatch = [next(m for m in milestones(r) if m["id"].endswith("-dispatch")) for r in releases]
    assert "2026-02-11 中止计时" in dispatch[0]["description"]
    assert dispatch[0]["status"] == "scheduled"
    assert dispatch[1]["dueDate"] == "2026-03-20T23:59:59+08:00"  # the end of its due day
    assert "恢复计时" in dispatch[1]["description"] and "中止" not in dispatch[1]["description"]
    assert "延长 5 个工作日" in dispatch[2]["description"]
    assert "疫情封控" not in str(package)  # a reason stays out of the public record


def test_a_suspended_sme_payment_accrues_no_interest_in_the_finance_ledger(wf: Workflow) -> None:
    cid = contractor(wf, sme=True)
    pid = new_project(wf)
    advance(lambda event, **kw: wf.fire(pid, event, **kw), "awarded", cid)
    on = "2026-09-18"  # payment_1 due 2026-10-15
    wf.fire(
        pid, "sign_contract", actor=CLERK, at=at(on), **sign_data(signed_on=on, effective_on=on)
    )
    stop(wf, pid, "payment_1", "2026-09-29")

    def unpaid() -> list[Any]:
        sheet = wf.ledger([pid]).sheet("finance")
        (found,) = [r for r in sheet.rows if r[4] == 1]
        return found

    # the clock (2031) is years after the old due day: no interest while it is stopped
    row_ = unpaid()
    assert row_[12] == "未付（自 2026-09-29 中止计时）" and row_[-1] is None
    go(wf, pid, "payment_1", "2026-10-09")  # due 2026-10-20: late ever since
    assert unpaid()[12] == "未付" and unpaid()[-1] > 0
