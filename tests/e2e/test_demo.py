"""``gpw demo`` and ``make run``'s seed end to end: every state, what is late and who was told,
the takeover R11 makes by itself, the demo logins, the notices the worker sends at once.

The demo places every date relative to the workflow's clock, so each test injects one: what it
seeds does not depend on today's date, the hour, or the day of the week, and the same clock seeds
the same data. ``run_demo`` runs on a SQLite file and on PostgreSQL; ``gpw demo`` on a fresh
SQLite file.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher

from states.enums import ProjectState
from states.errors import InvalidInput
from states.policy import STAGE_NAMES
from workflow import Workflow
from workflow.cli import main
from workflow.demo import DEMO_PASSWORD, DEMO_USERS, OFFICES, run_demo, seed_if_empty
from workflow.notices import Notice
from workflow.persistence import inspect_database

TZ = ZoneInfo("Asia/Shanghai")
#: the hash parameters of the test users (the demo's own are argon2-cffi's defaults)
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def label(key: str) -> str:
    """What a Chinese notice calls a deadline: ``payment_2`` 第2期资金拨付, ``evaluation#1``
    第1次绩效评价, ``rectification#1`` 第1次限期整改, ``dispatch`` 人员派遣."""
    if key.startswith("payment_"):
        return f"第{key.removeprefix('payment_')}期资金拨付"
    if key == "training#0":  # R14: the training before duty
        return "上岗前培训"
    kind, _, n = key.partition("#")
    name = {
        "dispatch": "人员派遣",
        "evaluation": "绩效评价",
        "rectification": "限期整改",
        "training": "业务培训",
    }[kind]
    return f"第{n}次{name}" if n else name


CLOCKS = [
    datetime(2026, 11, 24, 16, 8, tzinfo=TZ),  # a Tuesday afternoon
    datetime(2026, 11, 30, 8, 30, tzinfo=TZ),  # a Monday before the 09:00 stages
    datetime(2026, 11, 28, 10, tzinfo=TZ),  # a Saturday
    datetime(2026, 10, 9, 10, tzinfo=TZ),  # the day after the National Day holidays
    datetime(2027, 1, 11, 11, tzinfo=TZ),  # 2027's schedule not yet published (暂定)
]

Demo = Callable[[datetime], tuple[Workflow, dict[str, Any]]]


def open_cheap(url: str, now: datetime) -> Workflow:
    wf = Workflow.open(url, clock=lambda: now)
    wf.users.hasher = CHEAP
    return wf


@pytest.fixture
def demo(db_url: str) -> Iterator[Demo]:
    """``demo(now)``: the demo run on the test's database by a workflow on the clock ``now``
    (closed when the test ends); the workflow and the run's JSON result."""
    opened: list[Workflow] = []

    def run(now: datetime) -> tuple[Workflow, dict[str, Any]]:
        wf = open_cheap(db_url, now)
        opened.append(wf)
        out: list[str] = []
        run_demo(wf, echo=out.append, as_json=True)
        return wf, json.loads(out[-1])

    yield run
    for wf in opened:
        wf.close()


def by_key(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["key"]: p for p in result["projects"]}


def check_notice(wf: Workflow, notice: Notice) -> None:
    """The notice names its project's title and its own deadline (label and due day), and says
    it folds earlier stages in exactly when a stage of that deadline went unsent since the last
    notice sent for it (every notice before it in the outbox)."""
    project = wf.project(notice.project_id)
    deadline = next(d for d in project.deadlines if d.key == notice.deadline_key)
    due = deadline.due.isoformat()
    assert project.title in notice.subject and project.title in notice.body
    if notice.deadline_key == "contract_end":
        assert f"服务期将于 {due} 届满" in notice.subject
    else:
        assert label(notice.deadline_key) in notice.subject and due in notice.subject
        assert f"{label(notice.deadline_key)}截止 {due}" in notice.body
    stages = ["reminder"] if notice.deadline_key == "contract_end" else list(STAGE_NAMES)
    sent = {
        n.stage
        for n in wf.notices(project_id=notice.project_id)
        if n.deadline_key == notice.deadline_key and n.id < notice.id
    }
    last_sent = max((stages.index(s) for s in sent), default=-1)
    skipped = stages[last_sent + 1 : stages.index(notice.stage)]
    assert ("已并入本通知" in notice.body) is bool(skipped), (notice.subject, sent)


def working_days_late(wf: Workflow, due: date, today: date) -> int:
    return wf.calendar.current().working_days_between(due, today)


def check_seeded(wf: Workflow, result: dict[str, Any], now: datetime) -> None:
    """What the issue asks of the demo data, as of the clock ``now``."""
    today = now.astimezone(TZ).date()
    projects = wf.projects()
    assert {p["state"] for p in projects} == {s.value for s in ProjectState}
    assert len(projects) >= 13 and result["verify"]["ok"] and wf.verify().ok
    dawukou = {p["purchaser"] for p in projects if p["policy"] == "dawukou-2019"}
    assert {"大武口区民政局", "大武口区星海镇人民政府"} <= dawukou and len(dawukou) >= 3
    assert all(p.startswith("大武口区") for p in dawukou)  # a supervisor of 大武口区 reads all
    seeded = by_key(result)

    # last cycle's walk ends closed; this cycle's 16 caseworkers serve by office (R17)
    assert result["steps"][-1]["state"] == "closed" and result["project_id"] == 1
    live = wf.project(seeded["caseworkers"]["id"])
    assert live.state == "in_service"
    assert [(i["office"], int(i["quantity"])) for i in live.data["items"]] == OFFICES
    assert sum(q for _, q in OFFICES) == 16 and len(live.data["staff"]) == 16

    # other policies name their own supervising bodies; the notices go to them
    for key, policy, government in [
        ("nanyang", "nanyang-2019", "南阳市卧龙区人民政府"),
        ("accepted", "shanghai", "上海市浦东新区人民政府"),
    ]:
        view = wf.project(seeded[key]["id"])
        assert view.policy == policy and view.data["supervisors"]["government"] == government

    # contractors: several, one a small enterprise whose payment deadline R20 caps
    contractors = {wf.project(p["id"]).contractor_id for p in projects} - {None}
    assert len(contractors) >= 5
    sme = wf.project(seeded["payment_overdue"]["id"])
    first_tranche = sme.deadline("payment_1")
    assert sme.contractor_id is not None and wf.contractor(sme.contractor_id).sme
    assert first_tranche is not None and first_tranche.rule == "R7,R20"

    # overdue by a few working days, the notices escalated on their days
    escalated = {
        "payment_overdue": ("payment_1", "escalation_2"),
        "nanyang": ("evaluation#1", "escalation_2"),
        "dispatch_overdue": ("dispatch", "escalation_2"),
        "rectifying": ("rectification#1", "escalation_1"),
    }
    for key, (deadline_key, stage) in escalated.items():
        view = wf.project(seeded[key]["id"])
        deadline = view.deadline(deadline_key)
        assert deadline is not None and deadline.status == "open"
        assert 3 <= working_days_late(wf, deadline.due, today) <= 12, (key, deadline.due)
        sent = [n for n in wf.notices(project_id=view.id) if n.deadline_key == deadline_key]
        assert [n.stage for n in sent][-1] == stage, (key, [n.stage for n in sent])
        assert all(n.status == "sent" for n in sent)
        assert all(n.sent_at is not None and n.sent_at < now for n in sent)
        late = seeded[key]["overdue"]
        assert any(d["key"] == deadline_key and d["last_notice"] == stage for d in late)
    escalations = wf.notices(stage="escalation_2")
    assert escalations and all(n.status == "sent" for n in escalations)
    assert {r["org"] for n in escalations for r in n.recipients} >= {
        "大武口区人民政府",
        "大武口区审计局",
        "南阳市卧龙区人民政府",
    }
    assert wf.inbox(org="大武口区人民政府", role="government")

    # the takeover: two low half-yearly reviews in a row, R11 removed the contractor itself
    takeover = wf.project(seeded["takeover"]["id"])
    assert takeover.state == "takeover"
    trail = wf.history(takeover.id)
    removal = next(e for e in trail if e.event == "remove_contractor")
    assert removal.role == "system" and "R11" in removal.data["reason"]
    lows = [e for e in trail if e.event == "evaluate" and e.data["low"]]
    assert [e.data["period"] for e in lows] == [1, 2]
    assert [e.event for e in trail][-1] == "settle"

    # a ban entered by the termination (R12); subcontract requests in every state (R9)
    terminated = wf.project(seeded["terminated"]["id"])
    assert terminated.contractor_id is not None
    bans = wf.contractor(terminated.contractor_id).bans
    assert terminated.state == "terminated" and bans and bans[0]["until"] > today.isoformat()
    requests = Counter(
        r["status"] for p in projects for r in wf.project(p["id"]).subcontract_requests
    )
    assert set(requests) == {"executed", "rejected", "requested"}
    assert sum(len(wf.project(p["id"]).payments) for p in projects) >= 10

    # provisional deadlines where they reach a year whose schedule is unpublished
    provisional = [
        d
        for p in projects
        for d in wf.project(p["id"]).open_deadlines
        if d.provisional and d.kind != "contract_end"
    ]
    assert provisional and all(
        wf.calendar.current().is_provisional_year(d.due.year) for d in provisional
    )

    # the demo logins: one a role and organisation, the documented password, acting for it
    for user in DEMO_USERS:
        found = wf.users.get(user.login)
        assert (found.role, found.org, found.region) == (user.role, user.org, user.region)
    minzheng = wf.users.login("minzheng", DEMO_PASSWORD).actor()
    assert "award" in wf.available_events(seeded["procuring"]["id"], minzheng)
    zhengfu = wf.users.login("zhengfu", DEMO_PASSWORD).actor()
    assert "approve" in wf.available_events(seeded["pending"]["id"], zhengfu)
    xinghai = wf.users.login("xinghai", DEMO_PASSWORD).actor()
    assert "dispatch_staff" in wf.available_events(seeded["overdue_now"]["id"], xinghai)
    jiandu = wf.users.get("jiandu").scope()  # reads every project of 大武口区, and only those
    assert all(jiandu.allows(p["purchaser"], ()) for p in projects if p["purchaser"] in dawukou)
    assert not jiandu.allows("南阳市卧龙区民政局", ())


def check_worker(wf: Workflow, result: dict[str, Any], now: datetime) -> None:
    """The worker's first tick, at the clock's now, sends the two projects' notices that fall
    due then (and nothing the demo sent already)."""
    overdue, due_soon = result["live_projects"]
    titles = {pid: wf.project(pid).title for pid in (overdue, due_soon)}
    assert titles[overdue].endswith("年星海镇社会救助入户核查服务")
    assert titles[due_soon].endswith("年长胜街道社会救助入户核查服务")
    # the demo sent what fell due before the worker's day; nothing it sent is after now
    assert all(n.created_at <= now for n in wf.notices())

    notices = wf.tick()  # at the clock's now: the worker's first tick
    # whatever the hour or weekday: one project's dispatch has just passed, the other's is near
    assert {
        (n.project_id, n.deadline_key, n.stage)
        for n in notices
        if n.project_id in (overdue, due_soon)
    } == {
        (overdue, "dispatch", "overdue"),
        (overdue, "payment_1", "overdue"),
        (due_soon, "dispatch", "reminder"),
        (due_soon, "payment_1", "reminder"),
        # R14: the training before duty falls due with the dispatch (none recorded yet)
        (overdue, "training#0", "overdue"),
        (due_soon, "training#0", "reminder"),
    }
    for notice in notices:
        check_notice(wf, notice)
    assert wf.relay().sent == len(notices)
    assert wf.verify().ok


def test_the_demo_seeds_every_stage_and_the_worker_has_notices_at_once(demo: Demo) -> None:
    now = CLOCKS[0]
    wf, result = demo(now)
    check_seeded(wf, result, now)
    check_worker(wf, result, now)


@pytest.mark.parametrize("now", CLOCKS[1:])
def test_whatever_the_day_and_hour_the_demo_is_the_same_story(
    tmp_path: Path, now: datetime
) -> None:
    """The dates move with the clock, the story does not (on SQLite: the dates are the
    engine's, the backend is the test above's)."""
    wf = open_cheap(f"sqlite:///{tmp_path / 'demo.db'}", now)
    try:
        out: list[str] = []
        run_demo(wf, echo=out.append, as_json=True)
        result = json.loads(out[-1])
        check_seeded(wf, result, now)
        check_worker(wf, result, now)
    finally:
        wf.close()


def test_a_year_of_ticks_names_every_deadline_and_folds_only_what_went_unsent(
    demo: Demo,
) -> None:
    now = datetime(2026, 11, 24, 16, 8, tzinfo=TZ)
    wf, _ = demo(now)
    for notice in wf.notices():  # the ones the demo sent on their days
        check_notice(wf, notice)
    sent: list[Notice] = []
    # every third day: stages a day apart fold into one notice now and then, others do not
    for day in range(0, 380, 3):
        for notice in wf.tick(now + timedelta(days=day)):
            check_notice(wf, notice)
            sent.append(notice)
    kinds = {(n.deadline_kind, n.stage) for n in sent}
    assert {k for k, _ in kinds} >= {"dispatch", "payment_1", "evaluation", "contract_end"}
    assert {s for _, s in kinds} == set(STAGE_NAMES)
    folded = [n for n in sent if "已并入本通知" in n.body]
    assert folded and len(folded) < len(sent)


def fingerprint(wf: Workflow) -> dict[str, Any]:
    """Everything the demo wrote that a fixed clock should fix: every audit chain's head (they
    hash each event's data, actor, times, the project's version and digest), the deadlines, the
    outbox and the inbox."""
    return {
        "heads": wf.anchor()["heads"],
        "projects": [(p["id"], p["state"], p["version"]) for p in wf.projects()],
        "deadlines": [
            (p["id"], d.key, d.due, d.status, d.provisional)
            for p in wf.projects()
            for d in wf.project(p["id"]).deadlines
        ],
        "notices": [
            (n.key, n.stage, n.subject, n.status, n.created_at, n.sent_at) for n in wf.notices()
        ],
        "inbox": [(n.key, n.status) for n in wf.inbox(org="大武口区民政局", role="purchaser")],
        "users": [u.to_dict() for u in wf.users.list()],
    }


def test_the_same_clock_seeds_the_same_data(tmp_path: Path) -> None:
    now = datetime(2026, 12, 4, 10, 30, tzinfo=TZ)
    prints = []
    for name in ("a.db", "b.db"):
        wf = open_cheap(f"sqlite:///{tmp_path / name}", now)
        try:
            run_demo(wf, echo=lambda _: None)
            prints.append(fingerprint(wf))
        finally:
            wf.close()
    assert prints[0] == prints[1]
    assert len(prints[0]["notices"]) > 10


def test_a_clock_the_calendar_cannot_reach_back_from_is_refused(db_url: str) -> None:
    early = open_cheap(db_url, datetime(2005, 3, 1, 10, tzinfo=TZ))
    try:
        with pytest.raises(InvalidInput) as err:
            run_demo(early, echo=lambda _: None)
        assert err.value.field == "date"
        assert early.projects() == [] and early.users.list() == []
        assert early.directory.people() == []
    finally:
        early.close()


def test_seed_if_empty_seeds_a_fresh_database_once_and_marks_it(tmp_path: Path) -> None:
    db = tmp_path / "run.db"
    now = datetime(2026, 12, 4, 10, tzinfo=TZ)
    wf = open_cheap(f"sqlite:///{db}", now)
    try:
        out: list[str] = []
        assert seed_if_empty(wf, echo=out.append) is True
        assert f"密码 / password: {DEMO_PASSWORD}" in "\n".join(out)
        before = fingerprint(wf)
        assert seed_if_empty(wf, echo=out.append) is False  # the second start seeds nothing
        assert fingerprint(wf) == before
    finally:
        wf.close()
    assert inspect_database(f"sqlite:///{db}").demo  # gpw demo may replace it


def test_seed_if_empty_leaves_a_database_with_projects_alone(wf: Workflow) -> None:
    from workflow.demo import CLERK

    wf.create_project(actor=CLERK, title="一个项目", purchaser=CLERK.org, budget="1000.00")
    assert seed_if_empty(wf, echo=lambda _: None) is False
    assert len(wf.projects()) == 1 and wf.users.list() == []


def test_gpw_demo_prints_the_walk_the_projects_and_the_logins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.db"
    assert main(["--db", str(db), "demo"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    walk = [line for line in lines if line.startswith("[")]
    assert walk[0].startswith("[draft]") and walk[-1].startswith("[closed]")
    table = [line for line in lines if line.startswith("  #")]
    assert len(table) >= 13 and {s.value for s in ProjectState} <= {
        line.split("[")[1].split("]")[0] for line in table
    }
    assert "逾期 / overdue" in out and "escalation_2" in out and "暂定 / provisional" in out
    assert f"password: {DEMO_PASSWORD}" in out
    for user in DEMO_USERS:
        assert f"  {user.login:<12} {user.role:<11} {user.org}" in lines
    assert "留痕核验 verify: OK" in out
    wf = Workflow.open(f"sqlite:///{db}")
    try:
        assert wf.project(1).state == "closed" and wf.verify().ok
        # the public demo password is hashed lightly, and rehashed with the service's own
        # parameters at the first login
        assert password_hash(db, "jiandu").startswith("$argon2id$v=19$m=8192,t=1,p=1$")
        assert wf.users.login("jiandu", DEMO_PASSWORD).role == "supervisor"
        assert not wf.users.hasher.check_needs_rehash(password_hash(db, "jiandu"))
    finally:
        wf.close()


def password_hash(db: Path, login: str) -> str:
    with sqlite3.connect(db) as conn:
        (found,) = conn.execute(
            "select password_hash from gpw_user where login = ?", (login,)
        ).fetchone()
    return str(found)


def test_serve_demo_seeds_a_new_database_once_and_lists_the_logins_once(db_path: Path) -> None:
    """`make run`'s command: `gpw serve --with-worker --demo` seeds an empty file, lists the demo
    logins once and serves; started again on the same file it seeds nothing and lists them."""
    import urllib.request

    from browser import serving

    url = f"sqlite:///{db_path}"
    args = ("--with-worker", "--demo")
    env = {"GPW_CHANNELS": "inbox"}
    with serving(url, now="2026-12-04T10:00:00+08:00", args=args, env=env) as server:
        with urllib.request.urlopen(server.url + "/login", timeout=10) as answer:
            assert answer.status == 200
        first = server.output()
    assert "演示数据已写入 / demo data seeded" in first
    assert first.count("演示账号 / demo logins") == 1
    with serving(url, now="2026-12-04T10:05:00+08:00", args=args, env=env) as server:
        again = server.output()
    assert "未写入演示数据" in again and "demo data seeded" not in again
    assert again.count("演示账号 / demo logins") == 1
