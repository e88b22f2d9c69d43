"""The gpw command line, driven through main([...]) and once as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import TERMS

from workflow.cli import main

PURCHASER = "大武口区民政局"
FINANCE = "大武口区财政局"
GOVERNMENT = "大武口区人民政府"
#: the organisation each role acts for in these tests (the domain checks it)
ORG = {"purchaser": PURCHASER, "finance": FINANCE, "government": GOVERNMENT}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out, out.err


def test_demo_walks_a_project_to_closed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "demo.db")
    code, out, _ = run(capsys, "--db", db, "--json", "demo")
    assert code == 0
    result = json.loads(out)
    assert [s["state"] for s in result["steps"]][-1] == "closed"
    assert result["verify"]["ok"] is True
    code, out, _ = run(capsys, "--db", db, "project", "show", str(result["project_id"]))
    assert code == 0 and "[closed]" in out and "dispatch" in out


def test_project_lifecycle_and_exit_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "cli.db")
    code, out, _ = run(
        capsys,
        "--db",
        db,
        "--json",
        "project",
        "create",
        "--title",
        "核查员服务",
        "--purchaser",
        "大武口区民政局",
        "--budget",
        "100000.00",
        "--item",
        "入户核查:16",
        "--org",
        PURCHASER,
        "--at",
        "2025-08-01T10:00:00+08:00",
    )
    assert code == 0
    pid = str(json.loads(out)["id"])
    code, out, _ = run(capsys, "--db", db, "events", pid, "--org", PURCHASER)
    assert code == 0 and "submit" in out
    code, _, err = run(
        capsys,
        "--db",
        db,
        "fire",
        pid,
        "submit",
        "--org",
        PURCHASER,
        "--at",
        "2025-08-01T11:00:00+08:00",
    )
    assert code == 0, err
    # refused: approval before the finance review (R1) → exit 4
    code, _, err = run(
        capsys,
        "--db",
        db,
        "fire",
        pid,
        "approve",
        "--role",
        "government",
        "--org",
        GOVERNMENT,
        "--at",
        "2025-08-02T10:00:00+08:00",
    )
    assert code == 4 and "R1" in err
    # forbidden role → exit 4 as well
    code, _, err = run(
        capsys,
        "--db",
        db,
        "fire",
        pid,
        "review_budget",
        "approved=true",
        "--role",
        "supervisor",
        "--at",
        "2025-08-02T10:00:00+08:00",
    )
    assert code == 4 and "forbidden" in err
    # invalid input → exit 3, naming the field
    code, _, err = run(
        capsys,
        "--db",
        db,
        "--json",
        "fire",
        pid,
        "review_budget",
        "approved=maybe",
        "--role",
        "finance",
    )
    assert code == 3 and json.loads(err)["error"]["field"] == "approved"
    # not found → exit 5
    assert run(capsys, "--db", db, "project", "show", "999")[0] == 5
    # stale version → exit 6
    code, _, _ = run(
        capsys,
        "--db",
        db,
        "fire",
        pid,
        "review_budget",
        "approved=true",
        "--role",
        "finance",
        "--org",
        FINANCE,
        "--expected-version",
        "1",
        "--at",
        "2025-08-02T10:00:00+08:00",
    )
    assert code == 6
    code, out, _ = run(capsys, "--db", db, "--json", "project", "history", pid)
    assert [e["event"] for e in json.loads(out)] == ["create_project", "submit"]
    code, out, _ = run(capsys, "--db", db, "--json", "verify")
    assert code == 0 and json.loads(out)["ok"] is True
    code, out, _ = run(capsys, "--db", db, "project", "list")
    assert "pending_approval" in out
    code, out, _ = run(capsys, "--db", db, "project", "list", "--json")
    listed = json.loads(out)
    assert listed["truncated"] is False and [p["id"] for p in listed["items"]] == [int(pid)]


def test_verify_exits_7_when_the_trail_was_altered(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    db = tmp_path / "t.db"
    assert run(capsys, "--db", str(db), "demo")[0] == 0
    with sqlite3.connect(db) as conn:
        conn.execute("update gpw_audit set actor_id = 'mallory' where seq = 3")
    code, out, _ = run(capsys, "--db", str(db), "verify")
    assert code == 7 and "ALTERED" in out


def test_calendar_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "cal.db")
    assert run(capsys, "--db", db, "calendar", "show", "2026")[0] == 5  # no database yet
    assert not Path(db).exists()
    assert run(capsys, "--db", db, "init")[0] == 0
    code, out, _ = run(capsys, "--db", db, "calendar", "show", "2026")
    assert code == 0 and "2026-02-14" in out  # make-up Saturday
    code, out, _ = run(capsys, "--db", db, "--json", "calendar", "show", "2027")
    assert code == 0 and json.loads(out)["provisional"] is True
    code, out, _ = run(capsys, "--db", db, "--json", "calendar", "check")
    assert json.loads(out)["provisional_from"] == 2027
    year = tmp_path / "2027.json"
    year.write_text(
        json.dumps({"year": 2027, "holidays": ["2027-01-01"], "workdays": [], "notice": "示例"}),
        encoding="utf-8",
    )
    assert run(capsys, "--db", db, "calendar", "check", str(year))[0] == 0
    assert run(capsys, "--db", db, "calendar", "add-year", str(year), "--role", "admin")[0] == 0
    code, out, _ = run(capsys, "--db", db, "--json", "calendar", "check")
    assert json.loads(out)["provisional_from"] == 2028
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({"year": 2028, "holidays": ["2029-01-01"], "workdays": []}), encoding="utf-8"
    )
    code, _, err = run(capsys, "--db", db, "calendar", "add-year", str(bad), "--role", "admin")
    assert code == 3 and "holidays" in err
    code, _, err = run(capsys, "--db", db, "calendar", "check", str(tmp_path / "2029.json"))
    assert code == 5 and "2029.json" in err and "日历文件不存在" in err


def test_policy_show_marks_inherited_values(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "policy", "show", "nanyang-2019")
    assert code == 0
    rows = out.splitlines()
    source = {
        row.split(":")[0].strip(): rows[i + 1]
        for i, row in enumerate(rows[:-1])
        if rows[i + 1].strip().startswith("←")
    }
    assert "inherited" in source["tranches"]
    assert "inherited" not in source["pay_floor_multiple"]
    assert "seed:003 第三十七条" in source["pay_floor_multiple"]


def test_policy_validate_refuses_a_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.json"
    path.write_text(
        json.dumps({"name": "x", "inherits": "dawukou-2019", "dispatch_window_working_days": -3}),
        encoding="utf-8",
    )
    code, _, err = run(capsys, "policy", "validate", str(path))
    assert code == 3 and "dispatch_window_working_days" in err


def test_contractor_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "c.db")
    code, out, _ = run(
        capsys,
        "--db",
        db,
        "--json",
        "contractor",
        "register",
        "--name",
        "星海",
        "--org-type",
        "social_organization",
        "--all-qualified",
    )
    assert code == 0
    cid = str(json.loads(out)["id"])
    code, out, _ = run(
        capsys,
        "--db",
        db,
        "--json",
        "contractor",
        "ban",
        cid,
        "--until",
        "2099-01-01",
        "--reason",
        "欺诈",
        "--role",
        "government",
    )
    assert code == 0 and json.loads(out)["bans"][0]["until"] == "2099-01-01"


def test_the_console_script_runs_as_a_process(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    done = subprocess.run(
        [sys.executable, "-m", "workflow", "--db", str(db), "demo"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "closed" in done.stdout and "verify: OK" in done.stdout


def _contracted(db: str, capsys: pytest.CaptureFixture[str]) -> str:
    """A project signed 2025-09-26 through the CLI; returns its id."""
    code, out, _ = run(
        capsys,
        "--db",
        db,
        "--json",
        "contractor",
        "register",
        "--name",
        "星海",
        "--org-type",
        "social_organization",
        "--all-qualified",
    )
    cid = str(json.loads(out)["id"])
    code, out, _ = run(
        capsys,
        "--db",
        db,
        "--json",
        "project",
        "create",
        "--title",
        "核查",
        "--purchaser",
        "大武口区民政局",
        "--budget",
        "1000000.00",
        "--item",
        "入户核查:16",
        "--org",
        PURCHASER,
        "--at",
        "2025-08-01T10:00:00+08:00",
    )
    pid = str(json.loads(out)["id"])
    steps = [
        ("submit", "purchaser", []),
        ("review_budget", "finance", ["approved=true"]),
        ("approve", "government", []),
        ("publish_notice", "purchaser", ["method=open_tender", "notice=公告"]),
        (
            "record_review",
            "purchaser",
            [
                'reviewers=["甲"]',
                'criteria={"quality": 70, "price": 30}',
                f'scores={{"{cid}": 90}}',
            ],
        ),
        ("award", "purchaser", [f"contractor_id={cid}"]),
        (
            "sign_contract",
            "purchaser",
            [
                "signed_on=2025-09-26",
                "effective_on=2025-09-26",
                "price=900000.00",
                "form=purchase",
                "term_months=12",
                "terms=" + json.dumps(TERMS, ensure_ascii=False),
            ],
        ),
        # R14: trained before duty (the training deadline is met, it sends nothing)
        (
            "record_training",
            "purchaser",
            ["on=2025-09-26", "topic=岗前培训", "attendees=2", "hours=8"],
        ),
    ]
    for event, role, fields in steps:
        code, _, err = run(
            capsys,
            "--db",
            db,
            "fire",
            pid,
            event,
            *fields,
            "--role",
            role,
            "--org",
            ORG[role],
            "--at",
            "2025-09-26T10:00:00+08:00",
        )
        assert code == 0, (event, err)
    return pid


def test_tick_relay_notices_inbox_and_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "n.db")
    pid = _contracted(db, capsys)
    code, out, _ = run(
        capsys,
        "--db",
        db,
        "--json",
        "directory",
        "add",
        "--org",
        "大武口区民政局",
        "--role",
        "purchaser",
        "--name",
        "张敏",
        "--email",
        "zm@example.org",
    )
    assert code == 0
    person = str(json.loads(out)["id"])
    code, out, _ = run(capsys, "--db", db, "--json", "tick", "--at", "2025-10-22T10:00:00+08:00")
    created = json.loads(out)
    assert {(n["deadline_kind"], n["stage"]) for n in created} == {
        ("dispatch", "reminder"),
        ("payment_1", "reminder"),
    }
    assert all(n["project_id"] == int(pid) for n in created)
    code, out, _ = run(capsys, "--db", db, "tick", "--at", "2025-10-22T10:00:00+08:00")
    assert "nothing due" in out
    code, out, _ = run(capsys, "--db", db, "--json", "relay", "--at", "2025-10-22T11:00:00+08:00")
    assert json.loads(out)["sent"] == 2
    code, out, _ = run(
        capsys, "--db", db, "--json", "inbox", "--org", "大武口区民政局", "--role", "purchaser"
    )
    assert len(json.loads(out)["items"]) == 2
    code, out, _ = run(capsys, "--db", db, "--json", "notices", "list", "--status", "sent")
    first = json.loads(out)["items"][0]["id"]
    code, out, _ = run(capsys, "--db", db, "notices", "show", str(first))
    assert code == 0 and "【提醒】" in out and "inbox" not in out.split("\n")[0]
    code, out, _ = run(capsys, "--db", db, "--json", "notices", "resend", str(first))
    assert code == 0 and json.loads(out)["status"] == "pending"
    code, _, _ = run(capsys, "--db", db, "notices", "resend", str(first), "--role", "supervisor")
    assert code == 4
    assert run(capsys, "--db", db, "notices", "show", "999")[0] == 5
    code, out, _ = run(capsys, "--db", db, "directory", "list")
    assert "张敏" in out
    assert run(capsys, "--db", db, "directory", "remove", person)[0] == 0
    code, out, _ = run(capsys, "--db", db, "directory", "list")
    assert "张敏" not in out


def test_bad_channel_configuration_exits_8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GPW_CHANNELS", "inbox,pigeon")
    code, _, err = run(capsys, "--db", str(tmp_path / "c.db"), "tick")
    assert code == 8 and "pigeon" in err
    monkeypatch.setenv("GPW_CHANNELS", "inbox,email")
    code, _, err = run(capsys, "--db", str(tmp_path / "c.db"), "tick")
    assert code == 8 and "smtp.host" in err


def test_worker_runs_for_a_while_and_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "w.db")
    _contracted(db, capsys)
    run(
        capsys,
        "--db",
        db,
        "directory",
        "add",
        "--org",
        "大武口区人民政府",
        "--role",
        "government",
        "--name",
        "王区长",
    )
    monkeypatch.setenv("GPW_CHANNELS", "inbox,log")
    code, out, _ = run(capsys, "--db", db, "worker", "--for", "2", "--relay-seconds", "0.5")
    assert code == 0
    assert "gpw worker stopped" in out
    assert "→ 大武口区人民政府/government/王区长" in out  # the log channel printed deliveries


def test_health_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "h.db")
    _contracted(db, capsys)
    # nothing has ticked: the reminders have waited 49 h, tick and relay never ran → exit 9
    code, out, _ = run(capsys, "--db", db, "--json", "health", "--at", "2025-10-22T10:00:00+08:00")
    info = json.loads(out)
    assert code == 9 and info["oldest_due_stage_waiting_seconds"] == 49 * 3600.0
    assert info["ok"] is False
    assert {p["code"] for p in info["problems"]} == {
        "tick_never_ran",
        "relay_never_ran",
        "due_stage_waiting",
    }
    run(capsys, "--db", db, "tick", "--at", "2025-10-22T10:00:00+08:00")
    code, out, _ = run(capsys, "--db", db, "health", "--at", "2025-10-22T10:03:00+08:00")
    assert code == 9 and "pending 2" in out and "relay 从未运行 / relay has never run" in out
    assert "上次 tick / last tick: 2025-10-22 10:00:00 +08:00" in out
    assert "上次 relay / last relay: 无 / none" in out
    run(capsys, "--db", db, "relay", "--at", "2025-10-22T10:05:00+08:00")
    code, out, _ = run(capsys, "--db", db, "health", "--at", "2025-10-22T10:06:00+08:00")
    assert code == 0 and "正常 / ok" in out and "sent 2" in out, out
    # 30 minutes later tick is stale (threshold 600 s) unless the threshold says otherwise
    code, out, _ = run(capsys, "--db", db, "health", "--at", "2025-10-22T10:30:00+08:00")
    assert code == 9 and "tick 已 1800 秒未运行" in out and "threshold 600 s" in out
    late = ["--at", "2025-10-22T10:30:00+08:00", "--max-tick-age", "3600"]
    assert run(capsys, "--db", db, "health", *late, "--max-relay-age", "3600")[0] == 0


def test_policy_show_says_where_each_value_comes_from(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "policy", "show", "jilin-2017")
    assert code == 0
    assert "min_education" in out and "seed:000 三(三)" in out
    assert "inherited:dawukou-2019 ← seed:001 §七.4" in out  # tranches
    assert "default" in out and "law:" in out
