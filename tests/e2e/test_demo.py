"""``gpw demo`` end to end: the walk ends closed and verified, and the live projects' notices
name their project's real title and their own deadline, folding earlier stages only when some
really went unsent.

The live projects sit relative to the workflow's clock, so each test injects one: the notices
they produce do not depend on today's date, the hour, or the day of the week. ``run_demo`` runs on
a SQLite file and on PostgreSQL; ``gpw demo`` (what ``make run`` does) on a fresh SQLite file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from states.errors import InvalidInput
from states.policy import STAGE_NAMES
from workflow import Workflow
from workflow.cli import main
from workflow.demo import run_demo
from workflow.notices import Notice

TZ = ZoneInfo("Asia/Shanghai")
#: labels a Chinese notice gives each deadline key of the live projects
LABELS = {
    "dispatch": "人员派遣",
    "payment_1": "第1期资金拨付",
    "evaluation#1": "第1次绩效评价",
    "evaluation#2": "第2次绩效评价",
}


Demo = Callable[[datetime], tuple[Workflow, dict[str, Any]]]


@pytest.fixture
def demo(db_url: str) -> Iterator[Demo]:
    """``demo(now)``: the demo run on the test's database by a workflow on the clock ``now``
    (closed when the test ends); the workflow and the run's JSON result."""
    opened: list[Workflow] = []

    def run(now: datetime) -> tuple[Workflow, dict[str, Any]]:
        wf = Workflow.open(db_url, clock=lambda: now)
        opened.append(wf)
        out: list[str] = []
        run_demo(wf, echo=out.append, as_json=True)
        return wf, json.loads(out[-1])

    yield run
    for wf in opened:
        wf.close()


def check_notice(wf: Workflow, notice: Notice, earlier: list[Notice]) -> None:
    """The notice names its project's title and its own deadline (label and due day), and says
    it folds earlier stages in exactly when a stage of that deadline went unsent since the last
    notice sent for it."""
    project = wf.project(notice.project_id)
    deadline = next(d for d in project.deadlines if d.key == notice.deadline_key)
    due = deadline.due.isoformat()
    assert project.title in notice.subject and project.title in notice.body
    if notice.deadline_key == "contract_end":
        assert f"服务期将于 {due} 届满" in notice.subject
    else:
        assert f"{LABELS[notice.deadline_key]}" in notice.subject
        assert f"{LABELS[notice.deadline_key]}截止 {due}" in notice.body
        assert due in notice.subject
    stages = ["reminder"] if notice.deadline_key == "contract_end" else list(STAGE_NAMES)
    sent = {
        n.stage
        for n in earlier
        if (n.project_id, n.deadline_key) == (notice.project_id, notice.deadline_key)
    }
    # the stages between the last one sent and this one went out in no notice of their own
    last_sent = max((stages.index(s) for s in sent), default=-1)
    skipped = stages[last_sent + 1 : stages.index(notice.stage)]
    assert ("已并入本通知" in notice.body) is bool(skipped), (notice.subject, sent)


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 24, 16, 8, tzinfo=TZ),  # a Tuesday afternoon
        datetime(2026, 11, 30, 8, 30, tzinfo=TZ),  # a Monday before the 09:00 stages
        datetime(2026, 11, 28, 10, tzinfo=TZ),  # a Saturday
        datetime(2026, 10, 9, 10, tzinfo=TZ),  # the day after the National Day holidays
        datetime(2027, 1, 11, 11, tzinfo=TZ),  # 2027's schedule not yet published (暂定)
    ],
)
def test_the_live_projects_notices_name_their_project_and_deadline(
    demo: Demo, now: datetime
) -> None:
    wf, result = demo(now)
    assert result["steps"][-1]["state"] == "closed" and result["verify"]["ok"] is True
    assert wf.project(result["project_id"]).state == "closed"
    overdue, due_soon = result["live_projects"]
    titles = {pid: wf.project(pid).title for pid in (overdue, due_soon)}
    assert titles[overdue].endswith("年星海镇社会救助入户核查服务")
    assert titles[due_soon].endswith("年长胜街道社会救助入户核查服务")

    notices = wf.tick()  # at the clock's now
    # whatever the hour or weekday: one project's dispatch has just passed, the other's is near
    assert {(n.project_id, n.deadline_key, n.stage) for n in notices} == {
        (overdue, "dispatch", "overdue"),
        (overdue, "payment_1", "overdue"),
        (due_soon, "dispatch", "reminder"),
        (due_soon, "payment_1", "reminder"),
    }
    for i, notice in enumerate(notices):
        check_notice(wf, notice, notices[:i])
    assert wf.verify().ok


def test_a_year_of_ticks_names_every_deadline_and_folds_only_what_went_unsent(
    demo: Demo,
) -> None:
    now = datetime(2026, 11, 24, 16, 8, tzinfo=TZ)
    wf, result = demo(now)
    live = set(result["live_projects"])
    sent: list[Notice] = []
    # every third day: stages a day apart fold into one notice now and then, others do not
    for day in range(0, 380, 3):
        for notice in wf.tick(now + timedelta(days=day)):
            assert notice.project_id in live
            check_notice(wf, notice, sent)
            sent.append(notice)
    kinds = {(n.deadline_key, n.stage) for n in sent}
    assert {k for k, _ in kinds} == {
        "dispatch",
        "payment_1",
        "evaluation#1",
        "evaluation#2",
        "contract_end",
    }
    assert {s for _, s in kinds} == set(STAGE_NAMES)
    folded = [n for n in sent if "已并入本通知" in n.body]
    assert folded and len(folded) < len(sent)


def test_the_demo_refuses_a_clock_before_its_walk_ends(db_url: str) -> None:
    early = Workflow.open(db_url, clock=lambda: datetime(2026, 4, 3, 18, tzinfo=TZ))
    try:
        with pytest.raises(InvalidInput) as err:
            run_demo(early, echo=lambda _: None)
        assert (err.value.field, err.value.rule) == ("clock", "R15")
        assert "2026-04-03" in err.value.message
        assert early.projects() == []
    finally:
        early.close()


def test_gpw_demo_on_a_fresh_file_ends_closed_and_verified(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.db"
    assert main(["--db", str(db), "demo"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    walk = [line for line in lines if line.startswith("[") and "实时项目" not in line]
    assert walk[0].startswith("[draft]") and walk[-1].startswith("[closed]")
    assert "留痕核验 verify: OK" in out
    live = [line for line in lines if "实时项目 live project" in line]
    assert len(live) == 2 and all("年" in line and "社会救助入户核查服务" in line for line in live)
    assert "逾期的项目" not in out and "dispatch overdue" not in out
    wf = Workflow.open(f"sqlite:///{db}")
    assert wf.project(1).state == "closed" and wf.verify().ok
