"""The deadline ladder in time travel: explicit ``now``, a real database (a SQLite file and
PostgreSQL), no sleeping."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from support import ADMIN, CLERK, STAFF, SUPERVISOR, at, project_in

from notifications.channels import NoticeConfig, Person
from notifications.testing import RecordingChannel
from workflow import ConfigurationError, Forbidden, InvalidInput, Workflow

# signed and effective 2025-09-26: dispatch and payment_1 due Thu 2025-10-23 (15 working days).
# Ladder: reminder Mon 10-20, overdue Fri 10-24, escalation_1 Mon 10-27, escalation_2 Thu 10-30.


@pytest.fixture
def channel() -> RecordingChannel:
    return RecordingChannel()


@pytest.fixture
def nwf(db_url: str, channel: RecordingChannel, clock: Any) -> Any:
    workflow = Workflow.open(db_url, channels=[channel], clock=clock)
    yield workflow
    workflow.close()


def kinds(notices: list[Any]) -> set[tuple[str, str]]:
    return {(n.deadline_kind, n.stage) for n in notices}


def test_the_day_before_due_gives_only_the_reminder(nwf: Workflow) -> None:
    project_in(nwf, "contracted")
    assert nwf.tick(at("2025-10-20", 8)) == []  # 09:00 not reached yet
    assert kinds(nwf.tick(at("2025-10-22"))) == {
        ("dispatch", "reminder"),
        ("payment_1", "reminder"),
    }


def test_the_same_tick_twice_sends_nothing_new(nwf: Workflow) -> None:
    project_in(nwf, "contracted")
    first = nwf.tick(at("2025-10-22"))
    assert len(first) == 2
    assert nwf.tick(at("2025-10-22")) == []
    assert nwf.tick(at("2025-10-23", 23)) == []  # the due day itself: nothing new
    assert len(nwf.notices()) == 2


def test_the_ladder_reminder_overdue_escalations(nwf: Workflow) -> None:
    project_in(nwf, "contracted")
    nwf.tick(at("2025-10-22"))
    assert kinds(nwf.tick(at("2025-10-24", 9))) == {
        ("dispatch", "overdue"),
        ("payment_1", "overdue"),
    }
    assert kinds(nwf.tick(at("2025-10-27", 9))) == {
        ("dispatch", "escalation_1"),
        ("payment_1", "escalation_1"),
    }
    assert nwf.tick(at("2025-10-29")) == []
    assert kinds(nwf.tick(at("2025-10-30", 9))) == {
        ("dispatch", "escalation_2"),
        ("payment_1", "escalation_2"),
    }
    assert nwf.tick(at("2026-01-05")) == []  # the ladder is done; evaluation#1 is in March


def test_recipients_climb_the_ladder(nwf: Workflow) -> None:
    project_in(nwf, "contracted")
    notices = nwf.tick(at("2025-10-22")) + nwf.tick(at("2025-10-27", 10))
    notices += nwf.tick(at("2025-10-30", 10))
    by = {
        (n.deadline_kind, n.stage): [(r["org"], r["role"]) for r in n.recipients] for n in notices
    }
    assert by[("dispatch", "reminder")] == [
        ("星海社会工作服务中心", "contractor"),
        ("大武口区民政局", "purchaser"),
    ]
    assert by[("dispatch", "escalation_1")] == [("大武口区民政局", "leader")]
    assert by[("dispatch", "escalation_2")] == [("大武口区人民政府", "government")]
    assert by[("payment_1", "reminder")] == [
        ("大武口区民政局", "purchaser"),
        ("大武口区财政局", "finance"),
    ]
    assert by[("payment_1", "escalation_1")] == [("大武口区财政局", "head")]
    assert by[("payment_1", "escalation_2")] == [
        ("大武口区审计局", "audit"),
        ("大武口区人民政府", "government"),
    ]


def test_a_deadline_met_before_due_sends_nothing_more(nwf: Workflow) -> None:
    pid, _ = project_in(nwf, "contracted")
    nwf.tick(at("2025-10-22"))
    nwf.fire(
        pid, "dispatch_staff", actor=CLERK, at=at("2025-10-22", 15), on="2025-10-22", staff=STAFF
    )
    assert kinds(nwf.tick(at("2025-10-24", 9))) == {("payment_1", "overdue")}
    assert all(n.deadline_kind != "dispatch" for n in nwf.tick(at("2025-11-30")))


def test_a_29_day_outage_sends_only_the_latest_stage(nwf: Workflow) -> None:
    project_in(nwf, "contracted")
    notices = nwf.tick(at("2025-11-21"))  # 29 days after 10-23, nothing was sent before
    assert kinds(notices) == {("dispatch", "escalation_2"), ("payment_1", "escalation_2")}
    body = notices[0].body
    assert ("已逾期" in body and "（20 天）" in body) or "天）" in body
    assert "提醒" in body and "已并入本通知" in body  # the skipped stages are named


def test_notices_render_chinese_with_rule_due_day_and_next_step(nwf: Workflow) -> None:
    project_in(nwf, "contracted")
    reminder = next(n for n in nwf.tick(at("2025-10-22")) if n.deadline_kind == "dispatch")
    assert reminder.subject.startswith("【提醒】")
    assert "2025-10-23" in reminder.subject
    assert "（R8）" in reminder.body
    assert "距截止还有 1 个工作日" in reminder.body
    assert "2025-10-24 发出逾期通知" in reminder.body


def test_relay_delivers_to_the_directory_and_the_inbox(
    nwf: Workflow, channel: RecordingChannel
) -> None:
    project_in(nwf, "contracted")
    leader = nwf.directory.add(
        org="大武口区民政局", role="purchaser", name="张敏", email="zhang@example.org"
    )
    nwf.tick(at("2025-10-22"))
    report = nwf.relay(at("2025-10-22", 11))
    assert (report.sent, report.failed) == (2, 0)
    assert sorted(n.deadline_kind for n, _, _ in channel.sent) == ["dispatch", "payment_1"]
    assert all(p == leader for _, p, _ in channel.sent)
    inbox = nwf.inbox(leader)
    assert {n.deadline_kind for n in inbox} == {"dispatch", "payment_1"}
    assert {n.status for n in nwf.notices()} == {"sent"}
    assert nwf.relay(at("2025-10-22", 12)).claimed == 0
    assert {n.deadline_kind for n in nwf.inbox(org="大武口区财政局", role="finance")} == {
        "payment_1"
    }


def test_a_changed_leader_gets_the_next_escalation(
    nwf: Workflow, channel: RecordingChannel
) -> None:
    project_in(nwf, "contracted")
    old = nwf.directory.add(org="大武口区民政局", role="leader", name="旧领导")
    nwf.directory.remove(old.id)
    new = nwf.directory.add(org="大武口区民政局", role="leader", name="新领导")
    nwf.tick(at("2025-10-27", 10))
    nwf.relay(at("2025-10-27", 11))
    assert [p.name for _, p, _ in channel.sent] == ["新领导"]
    assert new.name == "新领导"


def test_failed_deliveries_retry_with_backoff_then_go_dead(db_url: str) -> None:
    flaky = RecordingChannel(fail_times=100)
    wf = Workflow.open(db_url, channels=[flaky])
    project_in(wf, "contracted")
    wf.directory.add(org="大武口区民政局", role="purchaser", name="张敏")
    wf.tick(at("2025-10-22"))
    report = wf.relay(at("2025-10-22", 10))
    assert (report.failed, report.dead) == (2, 0)
    assert wf.relay(at("2025-10-22", 10)).claimed == 0  # not before the backoff
    now = at("2025-10-22", 10)
    from datetime import timedelta

    for _ in range(10):
        now += timedelta(hours=2)
        wf.relay(now)
    assert {n.status for n in wf.notices()} == {"dead"}
    assert {n.attempts for n in wf.notices()} == {6}  # the policy's max_attempts
    dead = wf.notices(status="dead")[0]
    assert "OSError" in (dead.last_error or "")
    flaky.fail_times = 0
    wf.resend(dead.id, actor=ADMIN, at=now)
    wf.relay(now)
    assert wf.notice(dead.id).status == "sent"
    with pytest.raises(Forbidden):
        wf.resend(dead.id, actor=SUPERVISOR, at=now)
    wf.close()


def test_recovery_after_failures_sends_once(db_url: str) -> None:
    flaky = RecordingChannel(fail_times=1)
    wf = Workflow.open(db_url, channels=[flaky])
    project_in(wf, "contracted")
    wf.directory.add(org="大武口区民政局", role="purchaser", name="张敏")
    wf.tick(at("2025-10-22"))
    wf.relay(at("2025-10-22", 10))
    wf.relay(at("2025-10-22", 12))
    assert sorted(n.deadline_kind for n, _, _ in flaky.sent) == ["dispatch", "payment_1"]
    assert {n.status for n in wf.notices()} == {"sent"}
    wf.close()


def test_a_recomputed_deadline_says_it_moved(nwf: Workflow) -> None:
    pid, _ = project_in(nwf, "awarded")
    from support import sign_data

    nwf.fire(
        pid,
        "sign_contract",
        actor=CLERK,
        at=at("2026-12-21"),
        **sign_data(signed_on="2026-12-21", effective_on="2026-12-21"),
    )
    dispatch = nwf.project(pid).deadline("dispatch")
    assert dispatch is not None and dispatch.provisional  # reaches into 2027
    first = [n for n in nwf.tick(at("2027-01-08")) if n.deadline_kind == "dispatch"]
    assert first and "暂定" in first[0].subject
    nwf.calendar.add_year(
        {"year": 2027, "holidays": ["2027-01-01", "2027-01-04", "2027-01-05"], "workdays": []},
        actor=ADMIN,
        at=at("2027-01-09"),
    )
    moved = nwf.project(pid).deadline("dispatch")
    assert moved is not None and not moved.provisional and moved.due > dispatch.due
    later = [n for n in nwf.tick(at("2027-02-01")) if n.deadline_kind == "dispatch"]
    assert later and f"原截止日 {dispatch.due}" in later[0].body


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"channels": ("inbox", "pigeon")}, "channels"),
        ({"channels": ("inbox", "email")}, "smtp.host"),
        ({"channels": ("webhook",)}, "webhook.secret"),
        ({"lang": "fr"}, "lang"),
    ],
)
def test_bad_configuration_is_refused_at_start(
    db_url: str, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ConfigurationError) as err:
        Workflow.open(db_url, notices=NoticeConfig(**kwargs))
    assert err.value.field == field


def test_a_template_with_an_unknown_variable_is_refused_at_start(
    db_url: str, tmp_path: Path
) -> None:
    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "dispatch.overdue.txt").write_text("{{ project.titel }}", encoding="utf-8")
    with pytest.raises(ConfigurationError) as err:
        Workflow.open(db_url, notices=NoticeConfig(template_dir=str(tmp_path)))
    assert "dispatch.overdue.txt" in err.value.message and "titel" in err.value.message


def test_a_host_template_overrides_the_shipped_one(db_url: str, tmp_path: Path) -> None:
    (tmp_path / "zh").mkdir()
    (tmp_path / "zh" / "dispatch.subject.txt").write_text(
        "派遣提醒：{{ project.title }} {{ deadline.due }}", encoding="utf-8"
    )
    wf = Workflow.open(db_url, notices=NoticeConfig(template_dir=str(tmp_path)))
    project_in(wf, "contracted")
    subjects = {n.deadline_kind: n.subject for n in wf.tick(at("2025-10-22"))}
    assert subjects["dispatch"] == "派遣提醒：入户核查员服务 2025-10-23"
    assert subjects["payment_1"].startswith("【提醒】")
    wf.close()


def test_contract_end_reminds_60_days_before(nwf: Workflow) -> None:
    pid, _ = project_in(nwf, "in_service")
    end = nwf.project(pid).deadline("contract_end")
    assert end is not None and end.due == date(2026, 9, 25)
    notices = [n for n in nwf.tick(at("2026-07-28")) if n.deadline_kind == "contract_end"]
    assert [n.stage for n in notices] == ["reminder"]
    assert "续签" in notices[0].body


def test_tick_without_now_reads_the_injected_clock_under_freezegun(db_url: str) -> None:
    from freezegun import freeze_time

    wf = Workflow.open(db_url)  # default clock: the real (frozen) time
    project_in(wf, "contracted")
    with freeze_time("2025-10-22T02:00:00Z"):  # 10:00 Asia/Shanghai, the day before due
        assert kinds(wf.tick()) == {("dispatch", "reminder"), ("payment_1", "reminder")}
    with freeze_time("2025-10-24T00:30:00Z"):  # 08:30 Shanghai: overdue fires at 09:00
        assert wf.tick() == []
    with freeze_time("2025-10-24T01:00:00Z"):
        assert kinds(wf.tick()) == {("dispatch", "overdue"), ("payment_1", "overdue")}
    wf.close()


def test_a_corrected_deadline_moves_its_ladder_and_says_so(nwf: Workflow) -> None:
    pid, _ = project_in(nwf, "contracted")
    nwf.tick(at("2025-10-21"))  # reminders for due 2025-10-23
    nwf.fire(
        pid,
        "correct_deadline",
        actor=CLERK,
        at=at("2025-10-21", 15),
        key="dispatch",
        due="2025-10-22",
        reason="补充协议：提前派遣",
    )
    # 10-24 would have been the overdue day for the old date: dispatch's came a day sooner
    sooner = [n for n in nwf.tick(at("2025-10-23", 10)) if n.deadline_kind == "dispatch"]
    assert [n.stage for n in sooner] == ["overdue"]
    assert "原截止日 2025-10-23，现为 2025-10-22" in sooner[0].body
    again = [n for n in nwf.tick(at("2025-10-27", 10)) if n.deadline_kind == "dispatch"]
    assert again and "原截止日" not in again[0].body  # said once


def test_health_shows_waiting_work_outbox_and_last_runs(nwf: Workflow) -> None:
    project_in(nwf, "contracted")
    nwf.directory.add(org="大武口区民政局", role="purchaser", name="张敏")
    before = nwf.health(at("2025-10-22"))
    # the reminders came due Mon 10-20 09:00 and nothing has ticked since: 49 hours
    assert before["oldest_due_stage_waiting_seconds"] == 49 * 3600.0
    assert before["last_tick"] is None and before["notices"]["pending"] == 0
    nwf.tick(at("2025-10-22"))
    mid = nwf.health(at("2025-10-22", 11))
    assert mid["oldest_due_stage_waiting_seconds"] is None
    assert mid["notices"]["pending"] == 2 and mid["oldest_undelivered_seconds"] == 3600.0
    assert mid["last_tick"] == at("2025-10-22").isoformat()
    nwf.relay(at("2025-10-22", 11))
    after = nwf.health(at("2025-10-22", 12))
    assert after["notices"]["sent"] == 2 and after["oldest_undelivered_seconds"] is None
    assert after["last_relay"] == at("2025-10-22", 11).isoformat()
    # tick ran 2 h ago, relay 1 h ago: stale for the default 600 s, fine for 2 h
    assert [p["code"] for p in after["problems"]] == ["tick_stale", "relay_stale"]
    relaxed = nwf.health(at("2025-10-22", 12), max_tick_age=7200, max_relay_age=7200)
    assert relaxed["ok"] is True and relaxed["problems"] == []
    assert before["ok"] is False and {p["code"] for p in before["problems"]} == {
        "tick_never_ran",
        "relay_never_ran",
        "due_stage_waiting",
    }


class _NoAddress(RecordingChannel):
    """A channel that cannot reach anybody (like e-mail for people without an address)."""

    def address(self, person: Person) -> str | None:
        return None


def test_a_notice_nobody_can_receive_is_undeliverable_not_sent(
    nwf: Workflow, channel: RecordingChannel
) -> None:
    project_in(nwf, "contracted")
    nwf.tick(at("2025-10-22"))
    report = nwf.relay(at("2025-10-22", 10))
    assert (report.sent, report.undeliverable) == (0, 2) and channel.sent == []
    assert {n.status for n in nwf.notices()} == {"undeliverable"}
    notice = nwf.notices(status="undeliverable")[0]
    assert "大武口区民政局/purchaser" in (notice.last_error or "")
    assert notice.sent_at is None
    # the inbox still shows it, and health reports it
    assert len(nwf.inbox(org="大武口区民政局", role="purchaser")) == 2
    health = nwf.health(at("2025-10-22", 10), max_tick_age=3600, max_relay_age=3600)
    assert health["notices"]["undeliverable"] == 2 and health["ok"] is False
    assert [p["code"] for p in health["problems"]] == ["undeliverable_notices"]
    assert nwf.relay(at("2025-10-22", 11)).claimed == 0  # not retried by itself
    # once the directory knows somebody, a resend delivers it
    nwf.directory.add(org="大武口区民政局", role="purchaser", name="张敏")
    nwf.resend(notice.id, actor=ADMIN, at=at("2025-10-22", 12))
    assert nwf.relay(at("2025-10-22", 12)).sent == 1
    assert nwf.notice(notice.id).status == "sent" and len(channel.sent) == 1


def test_a_person_no_channel_can_address_is_undeliverable(db_url: str) -> None:
    wf = Workflow.open(db_url, channels=[_NoAddress()])
    project_in(wf, "contracted")
    wf.directory.add(org="大武口区民政局", role="purchaser", name="张敏")
    wf.tick(at("2025-10-22"))
    assert wf.relay(at("2025-10-22", 10)).undeliverable == 2
    wf.close()


def test_with_the_inbox_alone_the_inbox_is_the_delivery(db_url: str) -> None:
    wf = Workflow.open(db_url, channels=[])
    project_in(wf, "contracted")
    wf.tick(at("2025-10-22"))
    report = wf.relay(at("2025-10-22", 10))
    assert (report.sent, report.undeliverable) == (2, 0)
    assert {n.status for n in wf.notices()} == {"sent"}
    wf.close()


def test_health_thresholds_dead_notices_and_stale_runs(db_url: str) -> None:
    flaky = RecordingChannel(fail_times=100)
    wf = Workflow.open(db_url, channels=[flaky])
    project_in(wf, "contracted")
    wf.directory.add(org="大武口区民政局", role="purchaser", name="张敏")
    wf.tick(at("2025-10-22", 9))
    now = at("2025-10-22", 9)
    for _ in range(8):
        wf.relay(now)
        now += timedelta(hours=2)
    assert {n.status for n in wf.notices()} == {"dead"}
    wf.tick(now)
    wf.relay(now)
    fresh = wf.health(now)
    assert fresh["notices"]["dead"] == 2
    assert [p["code"] for p in fresh["problems"]] == ["dead_notices"]
    stale = wf.health(now + timedelta(seconds=601))
    assert [p["code"] for p in stale["problems"]] == ["dead_notices", "tick_stale", "relay_stale"]
    relaxed = wf.health(now + timedelta(seconds=601), max_tick_age=700, max_relay_age=700)
    assert [p["code"] for p in relaxed["problems"]] == ["dead_notices"]
    with pytest.raises(InvalidInput) as err:
        wf.health(now, max_due_wait=0)
    assert err.value.field == "max_due_wait"
    with pytest.raises(InvalidInput) as err:
        wf.notices(status="lost")
    assert err.value.field == "status" and "undeliverable" in err.value.message_en
    wf.close()
