"""The command line of the group robots (issue #11): gpw directory add-robot / robots /
remove-robot on a real SQLite file, and gpw tick + gpw relay posting to a real local DingTalk robot
with GPW_CHANNELS and GPW_BASE_URL; the secret and the token never printed."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime
from pathlib import Path

import pytest
from robot_servers import robot_server
from support import at, project_in

from workflow import Workflow
from workflow.cli import main

TOKEN = "0f" * 32
SECRET = "SEC" + "7c" * 30
DING_URL = f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI's clock (an audit entry's time), never the wall clock."""
    monkeypatch.setenv("GPW_NOW", "2031-01-06T10:00:00+08:00")
    for name in ("GPW_CHANNELS", "GPW_BASE_URL", "GPW_NOTICES"):
        monkeypatch.delenv(name, raising=False)


def test_add_list_and_remove_a_robot_showing_no_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    db = str(tmp_path / "g.db")
    code, out, err = run(
        capsys, "--db", db, "directory", "add-robot", "--org", "大武口区民政局",
        "--kind", "dingtalk", "--url", DING_URL, "--secret", SECRET,
    )  # fmt: skip
    assert code == 0, err
    assert out.strip() == (
        "群机器人 / robot 1 大武口区民政局 dingtalk "
        "https://oapi.dingtalk.com/robot/send?access_token=**** 加签 / secret ****"
    )
    code, out2, _ = run(
        capsys, "--db", db, "--json", "directory", "add-robot", "--org", "大武口区财政局",
        "--kind", "wecom", "--url", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-123",
    )  # fmt: skip
    assert code == 0 and json.loads(out2)["secret"] is None
    code, listed, _ = run(capsys, "--db", db, "--json", "directory", "robots")
    items = json.loads(listed)["items"]
    assert [(r["id"], r["kind"], r["secret"]) for r in items] == [
        (1, "dingtalk", "****"),
        (2, "wecom", None),
    ]
    assert items[1]["url"] == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=****"
    code, text, _ = run(capsys, "--db", db, "directory", "robots", "--org", "大武口区财政局")
    assert code == 0 and text.splitlines() == [
        "2 大武口区财政局 wecom https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=****"
    ]
    code, out3, _ = run(capsys, "--db", db, "directory", "remove-robot", "1")
    assert code == 0 and "1" in out3
    code, _, err = run(capsys, "--db", db, "directory", "remove-robot", "1")
    assert code == 5 and "robot_id" in err and "Traceback" not in err
    code, listed, _ = run(capsys, "--db", db, "directory", "robots")
    assert listed.startswith("2 大武口区财政局 wecom")
    for text in (out, out2, listed, err, caplog.text):
        assert SECRET not in text and TOKEN not in text and "k-123" not in text


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--org", "大武口区民政局", "--kind", "feishu", "--url", DING_URL], "kind"),
        (["--org", "大武口区民政局", "--kind", "dingtalk", "--url", f"ftp://x/?t={TOKEN}"], "url"),
        (["--org", "", "--kind", "dingtalk", "--url", DING_URL], "org"),
        (["--org", "甲", "--kind", "wecom", "--url", DING_URL, "--secret", SECRET], "secret"),
    ],
)
def test_bad_robots_exit_3_naming_the_field_without_echoing_secrets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], field: str
) -> None:
    db = str(tmp_path / "g.db")
    code, out, err = run(capsys, "--db", db, "directory", "add-robot", *args)
    assert code == 3 and field in err and "Traceback" not in err
    assert TOKEN not in err + out and SECRET not in err + out


def test_the_secret_from_standard_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "g.db")
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    code, out, _ = run(
        capsys, "--db", db, "--json", "directory", "add-robot", "--org", "大武口区民政局",
        "--kind", "dingtalk", "--url", DING_URL, "--secret-stdin",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["secret"] == "****"
    wf = Workflow.open(f"sqlite:///{db}", mode="read")
    try:
        (robot,) = wf.directory.robots()
        assert robot.secret == SECRET  # read whole, without its line break
    finally:
        wf.close()


def test_tick_and_relay_post_to_the_organisations_robot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "office.db"
    wf = Workflow.open(
        f"sqlite:///{path}", clock=lambda: datetime(2031, 1, 6, tzinfo=at("2026-01-01").tzinfo)
    )
    pid, _ = project_in(wf, "contracted")
    wf.close()
    db = str(path)
    with robot_server("dingtalk", TOKEN, SECRET) as ding:
        code, _, err = run(
            capsys, "--db", db, "directory", "add-robot", "--org", "大武口区民政局",
            "--kind", "dingtalk", "--url", ding.url, "--secret", SECRET,
        )  # fmt: skip
        assert code == 0, err
        # the channel needs the dashboard's address for its links
        monkeypatch.setenv("GPW_CHANNELS", "inbox,dingtalk")
        code, _, err = run(capsys, "--db", db, "tick", "--at", "2025-10-22T09:00:00+08:00")
        assert code == 8 and "base_url" in err and "Traceback" not in err
        monkeypatch.setenv("GPW_BASE_URL", "https://gpw.example.gov.cn")
        code, out, err = run(capsys, "--db", db, "tick", "--at", "2025-10-22T09:00:00+08:00")
        assert code == 0, err
        ding.at(at("2025-10-22", 10))
        code, out, err = run(
            capsys, "--db", db, "--json", "relay", "--at", "2025-10-22T10:00:00+08:00"
        )
        assert code == 0, err
        report = json.loads(out)
        assert (report["sent"], report["failed"], report["deferred"]) == (2, 0, 0)
        assert ding.codes() == [0, 0]  # signed, and within the hour of the robot's clock
        texts = [r.json()["markdown"]["text"] for r in ding.received]
        assert all(t.endswith(f"(https://gpw.example.gov.cn/projects/{pid})") for t in texts)
        code, out, err = run(capsys, "--db", db, "--json", "notices", "list")
        assert TOKEN not in out + err and SECRET not in out + err
