"""The training sandbox (issue #10): a copy of a real database on an accelerated working-day clock,
delivering to the inbox only; the original is never written.

The clock, hand-worked on 2026's calendar: started Fri 2026-02-13 10:00 at one working day per 60
real seconds, 35 s later it is Sat 02-14 00:00 (a make-up working day), 60 s after that Tue 02-24
00:00 (the Spring Festival's 02-15..23 skipped), 30 s later 02-24 12:00. Across National Day:
Wed 09-30 00:00, then Thu 10-08, Fri 10-09, Sat 10-10 (worked). Into 2027, unpublished: Thu
2026-12-31, then 2027-01-04 (01-01 a statutory holiday, the weekend; 暂定).
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text
from support import CLERK, at, project_in

from notifications.channels import NoticeConfig, SmtpConfig
from notifications.testing import RecordingChannel
from states.calendar import WorkingDayCalendar
from states.errors import ConfigurationError, InvalidInput, NotFound
from workflow import Workflow
from workflow.services.sandbox import SandboxClock, SandboxMark, copy_database, sandbox_of
from workflow.tables import meta_t

TZ = at("2026-01-01").tzinfo
CAL = WorkingDayCalendar.official()


class Real:
    """A stand-in for real time (Unix seconds), moved by hand."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def clock(start: datetime, real: Real, pace: float = 60.0) -> SandboxClock:
    mark = SandboxMark(
        source="sqlite:///x.db",
        made_at=start,
        start=start,
        since=real.now,
        seconds_per_working_day=pace,
    )
    return SandboxClock(CAL, mark, real=real)


def test_one_working_day_per_n_seconds_across_the_spring_festival() -> None:
    real = Real()
    c = clock(datetime(2026, 2, 13, 10, tzinfo=TZ), real)
    assert c() == datetime(2026, 2, 13, 10, tzinfo=TZ)
    real.now += 35  # the 14 hours left of Friday: 35 of its 60 seconds
    assert c() == datetime(2026, 2, 14, 0, tzinfo=TZ)  # Saturday 02-14, worked
    real.now += 60
    assert c() == datetime(2026, 2, 24, 0, tzinfo=TZ)  # 02-15..23 are no working days
    real.now += 30
    assert c() == datetime(2026, 2, 24, 12, tzinfo=TZ)
    real.now += 3  # 72 minutes of business time
    assert c() == datetime(2026, 2, 24, 13, 12, tzinfo=TZ)


def test_national_day_and_a_provisional_2027() -> None:
    real = Real()
    c = clock(datetime(2026, 9, 30, tzinfo=TZ), real)
    days = []
    for _ in range(3):
        real.now += 60
        days.append(c().date())
    assert days == [date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10)]
    real = Real()
    c = clock(datetime(2026, 12, 31, tzinfo=TZ), real)
    real.now += 60
    assert c() == datetime(2027, 1, 4, tzinfo=TZ)
    assert CAL.next_working_day(date(2027, 1, 1)).provisional  # the day rests on an estimate


def test_the_clock_never_runs_back() -> None:
    real = Real()
    c = clock(datetime(2026, 2, 13, 16, 30, tzinfo=TZ), real, pace=7)
    seen = []
    for step in range(400):
        real.now += 0.37
        seen.append(c())
        assert step == 0 or seen[-1] >= seen[-2]
    assert c.at_elapsed(-5) == datetime(2026, 2, 13, 16, 30, tzinfo=TZ)


# -- a copy of a real file -------------------------------------------------------------------------


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def source(tmp_path: Path) -> tuple[str, int]:
    """A real SQLite gpw database with a contracted Dawukou project (deadlines open), closed."""
    url = f"sqlite:///{tmp_path / 'office.db'}"
    wf = Workflow.open(url, clock=lambda: datetime(2031, 1, 1, tzinfo=TZ))
    pid, _ = project_in(wf, "awarded")
    wf.fire(
        pid,
        "sign_contract",
        actor=CLERK,
        at=at("2026-02-11"),
        signed_on="2026-02-11",
        effective_on="2026-02-11",
        price="1000000.00",
        form="purchase",
        term_months=12,
        terms={
            "scope": "入户核查",
            "quantity": "16人",
            "quality": "考核",
            "payment_schedule": "30/30/40",
            "rights_and_duties": "第五条",
            "liability": "第八条",
            "exit_mechanism": "临时接管预案",
        },
    )
    wf.directory.add(org="大武口区民政局", role="purchaser", name="张敏", email="z@example.gov.cn")
    wf.close()
    return url, pid


def test_a_copy_runs_on_its_own_clock_and_delivers_to_the_inbox_only(
    tmp_path: Path, source: tuple[str, int]
) -> None:
    url, pid = source
    original = tmp_path / "office.db"
    before = digest(original)
    dest = f"sqlite:///{tmp_path / 'drill.db'}"
    # signed Wed 02-11: the dispatch (and the training before duty) are due Tue 03-10, 15 working
    # days on (02-12, 13, 14, 24..28, 03-02..06, 09, 10); their reminders fall on Thu 03-05
    start = datetime(2026, 2, 13, 10, tzinfo=TZ)
    real = Real()
    made = copy_database(url, dest, start=start, seconds_per_working_day=60, real=real)
    assert (made.start, made.seconds_per_working_day) == (start, 60.0)
    assert digest(original) == before  # the original is only read
    assert sandbox_of(Workflow.open(url, mode="read").engine) is None

    drill = Workflow.open(dest, sandbox=True)
    try:
        assert drill.sandbox is not None and drill.sandbox.source == url
        assert drill.project(pid).state == "contracted"  # the copy holds the same projects
        # the drill's clock, driven by hand: ten working days after 02-13 (02-14, 24, 25, 26,
        # 27, 28, 03-02, 03, 04, 05) it is Thu 03-05, noon: the reminders' day
        drill.clock = SandboxClock(drill.calendar.current(), drill.sandbox, real=real)
        real.now += 35 + 60 * 9 + 30
        assert drill.clock() == datetime(2026, 3, 5, 12, tzinfo=TZ)
        notices = drill.tick()
        assert {(n.deadline_key, n.stage) for n in notices} >= {
            ("dispatch", "reminder"),
            ("training#0", "reminder"),
        }
        report = drill.relay()
        assert report.sent == len(notices) and report.failed == 0
        inbox = drill.inbox(org="大武口区民政局", role="purchaser")
        assert {n.deadline_key for n in inbox} >= {"dispatch", "training#0"}
        # the inbox was the delivery: nothing went out on another channel
        assert {drill.notice(n.id).status for n in notices} == {"sent"}
        assert all(d["channel"] == "inbox" for n in notices for d in drill.deliveries(n.id))
        assert drill.verify().ok
    finally:
        drill.close()
    assert digest(original) == before


def test_e_mail_webhooks_and_other_channels_are_refused(
    tmp_path: Path, source: tuple[str, int]
) -> None:
    url, _ = source
    dest = f"sqlite:///{tmp_path / 'drill.db'}"
    copy_database(url, dest, start=datetime(2026, 2, 13, 10, tzinfo=TZ))
    email = NoticeConfig(channels=("inbox", "email"), smtp=SmtpConfig(host="smtp.example.gov.cn"))
    with pytest.raises(ConfigurationError) as err:
        Workflow.open(dest, notices=email)
    assert err.value.field == "channels" and "email" in err.value.message
    hook = NoticeConfig(channels=("webhook",), webhook_secret="s" * 32)
    with pytest.raises(ConfigurationError):
        Workflow.open(dest, notices=hook)
    with pytest.raises(ConfigurationError):
        Workflow.open(dest, channels=[RecordingChannel()])
    # the group robots (issue #11) too: refused as anything but the inbox is, by name
    for robot in ("dingtalk", "wecom"):
        chat = NoticeConfig(channels=("inbox", robot), base_url="https://gpw.example.gov.cn")
        with pytest.raises(ConfigurationError) as err:
            Workflow.open(dest, notices=chat)
        assert err.value.field == "channels" and robot in err.value.message
        assert "inbox" in err.value.message_en
    # a marked copy is a sandbox even when not asked to be one
    opened = Workflow.open(dest)
    try:
        assert opened.sandbox is not None
    finally:
        opened.close()


def test_the_original_never_runs_as_a_sandbox(source: tuple[str, int]) -> None:
    url, _ = source
    with pytest.raises(ConfigurationError) as err:
        Workflow.open(url, sandbox=True)
    assert err.value.field == "db" and "sandbox" in err.value.message_en


@pytest.mark.parametrize(
    ("dest", "error", "field"),
    [
        ("office.db", InvalidInput, "copy"),  # itself
        ("exists.db", InvalidInput, "copy"),  # never overwritten
        ("no/such/folder/drill.db", NotFound, "copy"),
    ],
)
def test_a_copy_is_a_new_file(
    tmp_path: Path, source: tuple[str, int], dest: str, error: Any, field: str
) -> None:
    url, _ = source
    (tmp_path / "exists.db").write_bytes(b"someone's file")
    with pytest.raises(error) as err:
        copy_database(url, f"sqlite:///{tmp_path / dest}", start=at("2026-02-13"))
    assert err.value.field == field
    assert (tmp_path / "exists.db").read_bytes() == b"someone's file"


def test_only_a_gpw_database_is_copied(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        copy_database(
            f"sqlite:///{tmp_path / 'missing.db'}",
            f"sqlite:///{tmp_path / 'drill.db'}",
            start=at("2026-02-13"),
        )
    (tmp_path / "notes.db").write_text("not a database")
    with pytest.raises(ConfigurationError):
        copy_database(
            f"sqlite:///{tmp_path / 'notes.db'}",
            f"sqlite:///{tmp_path / 'drill.db'}",
            start=at("2026-02-13"),
        )
    assert not (tmp_path / "drill.db").exists()


def test_a_pace_outside_one_second_to_a_day_is_refused(
    tmp_path: Path, source: tuple[str, int]
) -> None:
    for pace in (0, 0.5, 86401):
        with pytest.raises(InvalidInput) as err:
            copy_database(
                source[0],
                f"sqlite:///{tmp_path / 'drill.db'}",
                start=at("2026-02-13"),
                seconds_per_working_day=pace,
            )
        assert err.value.field == "seconds_per_working_day"


# -- PostgreSQL: CREATE DATABASE … TEMPLATE --------------------------------------------------------


def test_a_postgresql_copy_is_made_from_a_template_or_refused_while_in_use(
    pg_server: Any, pg_template: str
) -> None:
    name = pg_server.create_database(template=pg_template)
    url = pg_server.url(name)
    wf = Workflow.open(url, clock=lambda: datetime(2031, 1, 1, tzinfo=TZ))
    pid, _ = project_in(wf, "approved")
    # while a connection to the source is open, PostgreSQL refuses a template copy: said so
    held = wf.engine.connect()
    copy_name = f"{name}_drill"
    try:
        with pytest.raises(ConfigurationError) as err:
            copy_database(url, pg_server.url(copy_name), start=at("2026-02-13"))
        assert "no other connection" in err.value.message_en and err.value.field == "db"
    finally:
        held.close()
        wf.close()
    try:
        made = copy_database(url, pg_server.url(copy_name), start=at("2026-02-13"))
        drill = Workflow.open(pg_server.url(copy_name))
        try:
            assert drill.sandbox is not None and drill.sandbox.start == made.start
            assert drill.project(pid).state == "approved"
        finally:
            drill.close()
        source_wf = Workflow.open(url, mode="read")
        try:
            assert source_wf.sandbox is None  # the original is not marked
            with source_wf.engine.connect() as conn:
                assert conn.execute(select(meta_t).where(meta_t.c.key == "sandbox")).first() is None
                assert conn.execute(text("select 1")).scalar() == 1
        finally:
            source_wf.close()
    finally:
        pg_server.drop_database(copy_name)
        pg_server.drop_database(name)
