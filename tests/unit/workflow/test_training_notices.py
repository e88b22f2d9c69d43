"""R14's training deadlines walk the notice ladder like any other (reminder 3 working days before
the due day, overdue on the first working day after it, 09:00 Asia/Shanghai), on SQLite and
PostgreSQL, in time travel (explicit ``now``).

* Spring Festival: signed Fri 2026-01-30, the training before duty (``training#0``, the
  contractor's) is due with the dispatch on Fri 02-27; reminder Tue 02-24 (02-27, 26, 25, 24; the
  festival's 02-15..23 are no working days), overdue Sat 02-28 (a make-up working day).
* National Day: dispatched Wed 2026-04-01, the first half-year's training (``training#1``, the
  purchaser's) is due half a year on, Thu 10-01, a holiday: the next working day, Thu 10-08;
  reminder Mon 09-28 (10-08 less three: 09-30, 29, 28), overdue Fri 10-09.
"""

from __future__ import annotations

from typing import Any

import pytest
from support import CLERK, STAFF, at, project_in, sign_data, trained

from notifications.testing import RecordingChannel
from workflow import Workflow


@pytest.fixture
def nwf(db_url: str, clock: Any) -> Any:
    workflow = Workflow.open(db_url, channels=[RecordingChannel()], clock=clock)
    yield workflow
    workflow.close()


def signed(wf: Workflow, day: str) -> int:
    pid, _ = project_in(wf, "awarded")
    wf.fire(
        pid,
        "sign_contract",
        actor=CLERK,
        at=at(day),
        **sign_data(signed_on=day, effective_on=day),
    )
    return pid


def training(notices: list[Any]) -> dict[str, Any]:
    return {n.stage: n for n in notices if n.deadline_kind == "training"}


def test_R14_the_training_before_duty_is_reminded_then_overdue(nwf: Workflow) -> None:
    pid = signed(nwf, "2026-01-30")
    assert nwf.tick(at("2026-02-24", 8)) == []  # 09:00 not reached
    reminder = training(nwf.tick(at("2026-02-24", 9)))["reminder"]
    assert (reminder.deadline_key, reminder.project_id) == ("training#0", pid)
    assert [(r["org"], r["role"]) for r in reminder.recipients] == [
        ("星海社会工作服务中心", "contractor"),
        ("大武口区民政局", "purchaser"),
    ]
    assert reminder.subject == "【提醒】入户核查员服务：上岗前培训截止 2026-02-27"
    assert "上岗之前必须培训" in reminder.body and "（R14）" in reminder.body
    assert "距截止还有 3 个工作日" in reminder.body
    overdue = training(nwf.tick(at("2026-02-28", 9)))["overdue"]
    assert overdue.deadline_key == "training#0"
    assert "已逾期 1 个工作日" in overdue.body
    # trained, late, on the Saturday: the ladder stops for the training, not for the dispatch
    nwf.fire(pid, "record_training", actor=CLERK, at=at("2026-02-28", 15), **trained("2026-02-28"))
    assert nwf.project(pid).deadline("training#0").late  # type: ignore[union-attr]
    later = nwf.tick(at("2026-03-20"))
    assert training(later) == {} and {n.deadline_key for n in later} >= {"dispatch"}


def test_R14_a_training_before_the_reminder_sends_nothing(nwf: Workflow) -> None:
    pid = signed(nwf, "2026-01-30")
    nwf.fire(pid, "record_training", actor=CLERK, at=at("2026-02-12"), **trained("2026-02-12"))
    assert training(nwf.tick(at("2026-03-31"))) == {}


def test_R14_the_half_year_training_is_reminded_then_overdue_across_national_day(
    nwf: Workflow,
) -> None:
    pid = signed(nwf, "2026-03-16")
    nwf.fire(pid, "record_training", actor=CLERK, at=at("2026-03-30"), **trained("2026-03-30"))
    nwf.fire(pid, "dispatch_staff", actor=CLERK, at=at("2026-04-01"), on="2026-04-01", staff=STAFF)
    assert str(nwf.project(pid).deadline("training#1").due) == "2026-10-08"  # type: ignore[union-attr]
    nwf.tick(at("2026-09-25", 12))  # everything due before (payment, the evaluation) goes out
    assert training(nwf.tick(at("2026-09-28", 8))) == {}
    reminder = training(nwf.tick(at("2026-09-28", 9)))["reminder"]
    assert reminder.deadline_key == "training#1"
    assert reminder.subject == "【提醒】入户核查员服务：第1次业务培训截止 2026-10-08"
    assert [r["role"] for r in reminder.recipients] == ["contractor", "purchaser"]
    assert training(nwf.tick(at("2026-10-08", 23))) == {}  # the due day itself: nothing new
    overdue = training(nwf.tick(at("2026-10-09", 9)))["overdue"]
    assert (overdue.deadline_key, overdue.stage) == ("training#1", "overdue")
    assert "第1次业务培训" in overdue.body and "已逾期 1 个工作日" in overdue.body
