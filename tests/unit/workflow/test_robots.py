"""Group robots through the directory and the relay (issue #11), on SQLite and PostgreSQL: a
notice to an organisation reaches its DingTalk and WeCom robots once each, never another
organisation's; an errcode is retried then dead-lettered; the 20-a-minute limit holds on the
relay's clock across workers, the rest waiting for the next minute; no secret in a log, an error,
a delivery or the audit trail. Real local HTTP servers play the robots (tests/robot_servers.py).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from robot_servers import RobotServer, robot_server
from sqlalchemy import select
from support import ADMIN, CLERK, CONTRACTOR, SUPERVISOR, at, project_in

from notifications.channels import NoticeConfig
from states.errors import Forbidden, InvalidInput, NotFound
from workflow import Workflow
from workflow.tables import audit_t, delivery_t, robot_send_t

BASE = "https://gpw.example.gov.cn"
PURCHASER, FINANCE, AUDIT = "大武口区民政局", "大武口区财政局", "大武口区审计局"
TOKEN_D = "d1" * 32
TOKEN_W = "e2b4a5c8-d6e0-4f1a-9b3c-4d5e6f7a8b9c"
SECRET = "SEC" + "5a" * 30
#: the reminders of a contracted project: dispatch (contractor, purchaser) and payment_1
#: (purchaser, finance), written by the tick of 2025-10-22
TICK = at("2025-10-22", 9)
RELAY = at("2025-10-22", 10)
#: the workflows' clock: after every date the tests record (an operator's resend, say)
LATER = at("2031-01-06")


def robots_wf(db_url: str, channels: tuple[str, ...] = ("inbox", "dingtalk", "wecom")) -> Workflow:
    config = NoticeConfig(channels=channels, base_url=BASE)
    return Workflow.open(db_url, notices=config, clock=lambda: LATER)


@pytest.fixture
def rwf(db_url: str) -> Iterator[Workflow]:
    workflow = robots_wf(db_url)
    yield workflow
    workflow.close()


@pytest.fixture
def ding() -> Iterator[RobotServer]:
    with robot_server("dingtalk", TOKEN_D, SECRET) as server:
        yield server


@pytest.fixture
def wecom() -> Iterator[RobotServer]:
    with robot_server("wecom", TOKEN_W) as server:
        yield server


def relay(wf: Workflow, now: datetime, *servers: RobotServer, **kw: Any) -> Any:
    for server in servers:
        server.at(now)  # the robots' clock is the relay's
    return wf.relay(now, **kw)


def directory_entries(wf: Workflow) -> list[Any]:
    with wf.engine.connect() as conn:
        return list(
            conn.execute(
                select(audit_t.c.event, audit_t.c.data)
                .where(audit_t.c.stream == "directory")
                .order_by(audit_t.c.seq)
            )
        )


def robot_deliveries(wf: Workflow) -> list[Any]:
    with wf.engine.connect() as conn:
        return list(
            conn.execute(
                select(delivery_t)
                .where(delivery_t.c.channel.in_(("dingtalk", "wecom")))
                .order_by(delivery_t.c.id)
            )
        )


# -- the directory --------------------------------------------------------------------------


def test_add_list_and_remove_robots_audited_without_their_secrets(wf: Workflow) -> None:
    url = f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN_D}"
    ding = wf.directory.add_robot(org=PURCHASER, kind="dingtalk", url=url, secret=SECRET, at=RELAY)
    wecom = wf.directory.add_robot(
        org=FINANCE,
        kind="wecom",
        url=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={TOKEN_W}",
        at=RELAY,
    )
    assert [r.id for r in wf.directory.robots()] == [ding.id, wecom.id]
    assert [r.id for r in wf.directory.robots(org=FINANCE)] == [wecom.id]
    listed = [r.to_dict() for r in wf.directory.robots()]
    assert listed[0]["url"] == "https://oapi.dingtalk.com/robot/send?access_token=****"
    assert (listed[0]["secret"], listed[1]["secret"]) == ("****", None)
    wf.directory.remove_robot(ding.id, actor=ADMIN, at=RELAY)
    assert [r.id for r in wf.directory.robots()] == [wecom.id]
    with pytest.raises(NotFound) as caught:
        wf.directory.remove_robot(ding.id, at=RELAY)  # removed already
    assert caught.value.field == "robot_id"
    entries = directory_entries(wf)
    assert [e.event for e in entries] == ["robot_add", "robot_add", "robot_remove"]
    assert entries[0].data["secret_set"] is True and entries[1].data["secret_set"] is False
    assert entries[0].data["url"].endswith("access_token=****")
    trail = json.dumps([e.data for e in entries], ensure_ascii=False)
    assert SECRET not in trail and TOKEN_D not in trail and TOKEN_W not in trail
    assert wf.verify().ok


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"org": " ", "kind": "wecom", "url": "https://q.example/send?key=k"}, "org"),
        ({"org": "甲\n乙", "kind": "wecom", "url": "https://q.example/send?key=k"}, "org"),
        ({"org": PURCHASER, "kind": "feishu", "url": "https://q.example/send?key=k"}, "kind"),
        ({"org": PURCHASER, "kind": "wecom", "url": f"ftp://q.example/send?key={TOKEN_W}"}, "url"),
        ({"org": PURCHASER, "kind": "wecom", "url": f"q.example/send?key={TOKEN_W}"}, "url"),
        ({"org": PURCHASER, "kind": "wecom", "url": f"https://q.example/ ?key={TOKEN_W}"}, "url"),
        # review: urllib takes user:password@ for part of the host (sent to a DNS query)
        ({"org": PURCHASER, "kind": "wecom", "url": f"https://u:{TOKEN_W}@q.example/s"}, "url"),
        ({"org": PURCHASER, "kind": "wecom", "url": f"https://{TOKEN_W}@q.example/s"}, "url"),
        ({"org": PURCHASER, "kind": "wecom", "url": f"https://q.example:{TOKEN_W}/s"}, "url"),
        ({"org": PURCHASER, "kind": "wecom", "url": "https://q.example:70000/s?key=k"}, "url"),
        (
            {"org": PURCHASER, "kind": "wecom", "url": "https://q.example/s", "secret": SECRET},
            "secret",
        ),
        (
            {"org": PURCHASER, "kind": "dingtalk", "url": "https://o.example/s", "secret": "a b"},
            "secret",
        ),
    ],
)
def test_bad_robots_are_refused_naming_the_field_and_writing_nothing(
    wf: Workflow, args: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        wf.directory.add_robot(at=RELAY, **args)
    error = caught.value
    assert error.field == field
    assert field in error.message_zh and field in error.message_en
    assert TOKEN_W not in error.message and SECRET not in error.message
    assert wf.directory.robots() == [] and directory_entries(wf) == []


def test_only_an_admin_or_the_system_adds_or_removes_a_robot(wf: Workflow) -> None:
    """Review: a robot receives every notice addressed to its organisation, so whoever adds one
    reads that organisation's notices: a purchaser's clerk adding one to the finance bureau, or
    a contractor to the purchaser, is refused (as subscriptions are), and nothing is written."""
    url = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={TOKEN_W}"
    for actor in (CONTRACTOR, CLERK, SUPERVISOR):
        with pytest.raises(Forbidden) as caught:
            wf.directory.add_robot(org=FINANCE, kind="wecom", url=url, actor=actor, at=RELAY)
        assert caught.value.field == "actor.role"
    assert wf.directory.robots() == [] and directory_entries(wf) == []
    made = wf.directory.add_robot(org=FINANCE, kind="wecom", url=url, actor=ADMIN, at=RELAY)
    with pytest.raises(Forbidden):
        wf.directory.remove_robot(made.id, actor=CLERK, at=RELAY)
    assert [r.id for r in wf.directory.robots()] == [made.id]
    wf.directory.remove_robot(made.id, actor=ADMIN, at=RELAY)
    assert wf.directory.robots() == []


def test_only_an_admin_or_the_system_adds_or_removes_a_person(wf: Workflow) -> None:
    """The same for a person of the directory: one added to the finance bureau with an e-mail
    address or a webhook of a clerk's own receives the bureau's notices."""
    for actor in (CONTRACTOR, CLERK, SUPERVISOR):
        with pytest.raises(Forbidden) as caught:
            wf.directory.add(
                org=FINANCE,
                role="finance",
                name="冒名者",
                webhook="https://attacker.example/hook",
                actor=actor,
                at=RELAY,
            )
        assert caught.value.field == "actor.role"
    assert wf.directory.people() == [] and directory_entries(wf) == []
    person = wf.directory.add(
        org=FINANCE, role="finance", name="王会计", email="wang@example.cn", actor=ADMIN, at=RELAY
    )
    with pytest.raises(Forbidden):
        wf.directory.remove(person.id, actor=CLERK, at=RELAY)
    assert [p.id for p in wf.directory.people()] == [person.id]
    wf.directory.remove(person.id, actor=ADMIN, at=RELAY)
    assert wf.directory.people() == []


def test_the_same_robot_twice_is_refused(wf: Workflow) -> None:
    url = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={TOKEN_W}"
    wf.directory.add_robot(org=PURCHASER, kind="wecom", url=url, at=RELAY)
    with pytest.raises(InvalidInput) as caught:
        wf.directory.add_robot(org=PURCHASER, kind="wecom", url=url, at=RELAY)
    assert caught.value.field == "url" and TOKEN_W not in caught.value.message
    assert len(wf.directory.robots()) == 1


# -- the relay ------------------------------------------------------------------------------


def test_a_notice_reaches_each_robot_of_its_organisations_once_and_no_other(
    rwf: Workflow, ding: RobotServer, wecom: RobotServer
) -> None:
    pid, _ = project_in(rwf, "contracted")
    d = rwf.directory.add_robot(org=PURCHASER, kind="dingtalk", url=ding.url, secret=SECRET)
    w = rwf.directory.add_robot(org=PURCHASER, kind="wecom", url=wecom.url)
    with robot_server("wecom", "finance-key") as fin, robot_server("wecom", "audit-key") as aud:
        f = rwf.directory.add_robot(org=FINANCE, kind="wecom", url=fin.url)
        rwf.directory.add_robot(org=AUDIT, kind="wecom", url=aud.url)  # addressed by neither
        notices = rwf.tick(TICK)
        assert {n.deadline_kind for n in notices} == {"dispatch", "payment_1"}
        report = relay(rwf, RELAY, ding, wecom, fin, aud)
        assert (report.sent, report.failed, report.deferred) == (2, 0, 0)
        # the purchaser's robots get both notices, once each; finance only the payment's
        assert ding.codes() == [0, 0] and wecom.codes() == [0, 0]
        assert [
            r.json()["markdown"]["content"].count(f"/projects/{pid})") for r in wecom.received
        ] == [1, 1]
        assert (
            len(fin.accepted) == 1
            and "第1期资金拨付" in fin.accepted[0].json()["markdown"]["content"]
        )
        assert aud.received == []
        # sent is sent: nothing again, on a later relay or a tick
        rwf.tick(at("2025-10-22", 12))
        relay(rwf, at("2025-10-22", 12), ding, wecom, fin)
        assert (len(ding.received), len(wecom.received), len(fin.received)) == (2, 2, 1)
    rows = robot_deliveries(rwf)
    assert sorted((r.channel, r.address, r.status) for r in rows) == sorted(
        [("dingtalk", f"robot:{d.id}", "sent")] * 2
        + [("wecom", f"robot:{w.id}", "sent")] * 2
        + [("wecom", f"robot:{f.id}", "sent")]
    )
    assert all(r.person.startswith((PURCHASER, FINANCE)) for r in rows)
    shown = json.dumps([rwf.deliveries(n.id) for n in notices], default=str, ensure_ascii=False)
    assert TOKEN_D not in shown and TOKEN_W not in shown and "127.0.0.1" not in shown


def test_two_robots_of_one_organisation_each_get_the_notice_once(
    rwf: Workflow, wecom: RobotServer
) -> None:
    project_in(rwf, "contracted")
    with robot_server("wecom", "second-key") as second:
        rwf.directory.add_robot(org=PURCHASER, kind="wecom", url=wecom.url)
        rwf.directory.add_robot(org=PURCHASER, kind="wecom", url=second.url)
        rwf.tick(TICK)
        assert relay(rwf, RELAY, wecom, second).sent == 2
        keys = [
            sorted(r.json()["markdown"]["content"] for r in s.received) for s in (wecom, second)
        ]
        assert keys[0] == keys[1] and len(keys[0]) == 2 and keys[0][0] != keys[0][1]


def test_robots_of_a_channel_not_enabled_or_removed_get_nothing(
    db_url: str, ding: RobotServer, wecom: RobotServer
) -> None:
    wf = robots_wf(db_url, channels=("inbox", "wecom"))
    try:
        project_in(wf, "contracted")
        wf.directory.add_robot(org=PURCHASER, kind="dingtalk", url=ding.url, secret=SECRET)
        gone = wf.directory.add_robot(org=PURCHASER, kind="wecom", url=wecom.url)
        wf.directory.remove_robot(gone.id)
        wf.tick(TICK)
        report = relay(wf, RELAY, ding, wecom)
        assert ding.received == [] and wecom.received == []
        # nobody reachable but the inbox: undeliverable, as for a person-addressed channel
        assert report.undeliverable == 2
        assert {n.deadline_kind for n in wf.inbox(org=PURCHASER, role="purchaser")} == {
            "dispatch",
            "payment_1",
        }
    finally:
        wf.close()


def test_an_errcode_is_retried_with_backoff_then_dead_lettered(
    rwf: Workflow, wecom: RobotServer
) -> None:
    project_in(rwf, "contracted")
    rwf.directory.add_robot(org=FINANCE, kind="wecom", url=wecom.url)  # the payment's only
    wecom.fail_next, wecom.fail_code, wecom.fail_message = 1000, -1, "system busy"
    rwf.tick(TICK)
    now = RELAY
    report = relay(rwf, now, wecom)
    # the dispatch notice reaches nobody (no robot, no person): undeliverable
    assert (report.sent, report.failed, report.undeliverable) == (0, 1, 1)
    assert relay(rwf, now + timedelta(seconds=30), wecom).claimed == 0  # not before the backoff
    for _ in range(8):
        now += timedelta(hours=3)
        relay(rwf, now, wecom)
    (payment,) = [n for n in rwf.notices() if n.deadline_kind == "payment_1"]
    assert (payment.status, payment.attempts) == ("dead", 6)  # the policy's max_attempts
    assert "errcode -1" in (payment.last_error or "")
    assert wecom.codes() == [-1] * 6
    (row,) = robot_deliveries(rwf)
    assert (row.status, row.attempts) == ("failed", 6)
    # resent by an operator once the robot is well again: delivered, once
    wecom.fail_next = 0
    rwf.resend(payment.id, actor=ADMIN, at=now)
    relay(rwf, now, wecom)
    assert rwf.notice(payment.id).status == "sent" and wecom.codes()[-1] == 0
    assert len(wecom.received) == 7


def _projects(wf: Workflow, n: int) -> None:
    for _ in range(n):
        project_in(wf, "contracted")


def test_twenty_a_minute_per_robot_the_rest_wait_for_the_next_minute(
    rwf: Workflow, wecom: RobotServer
) -> None:
    _projects(rwf, 11)  # 22 notices to the purchaser
    robot = rwf.directory.add_robot(org=PURCHASER, kind="wecom", url=wecom.url)
    assert len(rwf.tick(TICK)) == 22
    first = relay(rwf, RELAY, wecom, batch=7)
    assert (first.sent, first.deferred, first.failed) == (20, 2, 0)
    assert wecom.codes() == [0] * 20  # the robot never had to refuse (45009)
    waiting = [n for n in rwf.notices() if n.status == "pending"]
    assert len(waiting) == 2 and {n.attempts for n in waiting} == {0}  # a wait is no attempt
    # within the minute: nothing more, the notices not even claimed
    assert relay(rwf, RELAY + timedelta(seconds=40), wecom).claimed == 0
    assert len(wecom.received) == 20
    # the next minute: the two that waited, and nothing lost or sent twice
    later = relay(rwf, RELAY + timedelta(seconds=90), wecom)
    assert (later.sent, later.deferred) == (2, 0)
    assert wecom.codes() == [0] * 22
    assert {(n.status, n.attempts) for n in rwf.notices()} == {("sent", 1)}
    contents = [r.json()["markdown"]["content"] for r in wecom.received]
    assert len(set(contents)) == 22
    assert sorted(r.address for r in robot_deliveries(rwf)) == [f"robot:{robot.id}"] * 22
    # the sends are in the database, on the relay's clock (2025, not the wall clock's year)
    with rwf.engine.connect() as conn:
        sends = list(conn.execute(select(robot_send_t.c.sent_at)).scalars())
    assert len(sends) == 22
    assert all(RELAY <= s < RELAY + timedelta(seconds=120) for s in sends)


def test_the_limit_holds_across_workers_sharing_the_database(
    db_url: str, wecom: RobotServer
) -> None:
    """Two workers (two engines) relay at once: together they post 20 in the minute, the
    robot never refuses one, and the rest go out the next minute."""
    workers = [robots_wf(db_url), robots_wf(db_url)]
    try:
        _projects(workers[0], 13)  # 26 notices
        workers[0].directory.add_robot(org=PURCHASER, kind="wecom", url=wecom.url)
        workers[0].tick(TICK)
        wecom.at(RELAY)
        reports: list[Any] = []
        errors: list[BaseException] = []

        def run(wf: Workflow) -> None:
            try:
                reports.append(wf.relay(RELAY, batch=3))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == [] and len(reports) == 2
        assert sum(r.sent for r in reports) == 20 and wecom.codes() == [0] * 20
        # a second worker on its own at the same minute sends nothing more
        assert relay(workers[1], RELAY + timedelta(seconds=30), wecom).sent == 0
        assert len(wecom.received) == 20
        relay(workers[1], RELAY + timedelta(seconds=90), wecom)
        assert wecom.codes() == [0] * 26
        assert {n.status for n in workers[0].notices()} == {"sent"}
    finally:
        for w in workers:
            w.close()


def test_dingtalk_signs_with_the_relays_clock(rwf: Workflow, ding: RobotServer) -> None:
    project_in(rwf, "contracted")
    rwf.directory.add_robot(org=PURCHASER, kind="dingtalk", url=ding.url, secret=SECRET)
    rwf.tick(TICK)
    ding.at(RELAY + timedelta(hours=2))  # a robot whose clock is two hours on: refused
    assert rwf.relay(RELAY).failed == 2
    assert ding.codes() == [310000, 310000]
    # the retry, signed at its own relay's time, is within the hour: taken
    assert relay(rwf, RELAY + timedelta(hours=2), ding).sent == 2
    later_ms = int((RELAY + timedelta(hours=2)).timestamp() * 1000)
    assert all(0 <= int(r.query["timestamp"]) - later_ms < 60_000 for r in ding.accepted)


def test_no_secret_in_logs_errors_or_deliveries(
    rwf: Workflow, ding: RobotServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    project_in(rwf, "contracted")
    ding.fail_next, ding.fail_code = 1000, 310000
    ding.fail_message = f"sign not match, url: {ding.url}&sign=x, secret {SECRET}"
    rwf.directory.add_robot(org=PURCHASER, kind="dingtalk", url=ding.url, secret=SECRET)
    rwf.directory.add_robot(
        org=PURCHASER,
        kind="wecom",
        url=f"http://127.0.0.1:9/cgi-bin/webhook/send?key={TOKEN_W}",  # nothing listens
    )
    rwf.tick(TICK)
    report = relay(rwf, RELAY, ding)
    assert report.failed == 2
    notices = rwf.notices()
    texts = [caplog.text, *(n.last_error or "" for n in notices)]
    texts += [json.dumps(rwf.deliveries(n.id), default=str) for n in notices]
    texts += [json.dumps([e.data for e in directory_entries(rwf)], ensure_ascii=False)]
    texts += [repr(r) for r in rwf.directory.robots()]
    assert "errcode 310000" in texts[1] and "robot:" in caplog.text
    for text in texts:
        assert TOKEN_D not in text and TOKEN_W not in text and SECRET not in text
