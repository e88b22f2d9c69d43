"""Provisional deadlines, and their audited recomputation when an operator loads the year."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from support import ADMIN, CLERK, advance, at, contractor, new_project, sign_data

from workflow import InvalidInput, Workflow

# 2027 as an operator would load it (an illustrative schedule: the real notice is not out yet)
Y2027 = {
    "year": 2027,
    "holidays": [
        "2027-01-01",
        "2027-02-08",
        "2027-02-09",
        "2027-02-10",
        "2027-02-11",
        "2027-02-12",
    ],
    "workdays": ["2027-02-06"],
    "notice": "国办发明电〔2026〕X号（示例）",
    "notice_date": "2026-11-20",
}


def _signed_late_2026(wf: Workflow) -> int:
    cid = contractor(wf)
    pid = new_project(wf)
    steps = lambda ev, **kw: wf.fire(pid, ev, **kw)  # noqa: E731
    advance(steps, "awarded", cid)
    wf.fire(
        pid,
        "sign_contract",
        actor=CLERK,
        at=at("2026-12-21"),
        **sign_data(signed_on="2026-12-21", effective_on="2026-12-21"),
    )
    return pid


def test_a_deadline_reaching_an_unknown_year_is_provisional(wf: Workflow) -> None:
    pid = _signed_late_2026(wf)
    dispatch = wf.project(pid).deadline("dispatch")
    assert dispatch is not None and dispatch.provisional
    assert wf.calendar.add_working_days(date(2026, 12, 21), 15).provisional
    assert not wf.calendar.add_working_days(date(2026, 9, 18), 15).provisional


def test_loading_the_year_recomputes_open_provisional_deadlines_with_an_audit_entry(
    wf: Workflow, tmp_path: Path
) -> None:
    pid = _signed_late_2026(wf)
    before = wf.project(pid)
    path = tmp_path / "2027.json"
    path.write_text(json.dumps(Y2027, ensure_ascii=False), encoding="utf-8")
    changes = wf.calendar.add_year(path, actor=ADMIN, at=at("2026-11-25"))
    after = wf.project(pid)
    dispatch = after.deadline("dispatch")
    assert dispatch is not None and not dispatch.provisional
    # 2026-12-21 + 15 working days, with 2027-01-01 off: 2027-01-12
    assert dispatch.due == date(2027, 1, 12)
    assert {c["key"] for c in changes} >= {"dispatch"}
    assert after.version == before.version + 1
    last = wf.history(pid)[-1]
    assert last.event == "recompute_deadlines" and last.data["year"] == 2027
    assert wf.verify().ok


def test_loading_a_year_twice_is_refused_without_replace(wf: Workflow) -> None:
    wf.calendar.add_year(Y2027, actor=ADMIN, at=at("2026-11-25"))
    with pytest.raises(InvalidInput) as err:
        wf.calendar.add_year(Y2027, actor=ADMIN, at=at("2026-11-26"))
    assert err.value.field == "year"
    wf.calendar.add_year({**Y2027, "workdays": []}, actor=ADMIN, at=at("2026-11-26"), replace=True)
    assert not wf.calendar.is_working_day(date(2027, 2, 6))


def test_a_year_added_by_another_process_is_seen(wf: Workflow, db_url: str, clock: Any) -> None:
    other = Workflow.open(db_url, clock=clock)
    assert wf.calendar.add_working_days(date(2026, 12, 21), 15).provisional
    other.calendar.add_year(Y2027, actor=ADMIN, at=at("2026-11-25"))
    assert not wf.calendar.add_working_days(date(2026, 12, 21), 15).provisional
    other.close()


def test_a_bad_year_file_names_the_field(wf: Workflow) -> None:
    with pytest.raises(InvalidInput) as err:
        wf.calendar.add_year(
            {**Y2027, "holidays": ["2028-01-01"]}, actor=ADMIN, at=at("2026-11-25")
        )
    assert err.value.field is not None and err.value.field.startswith("holidays")
