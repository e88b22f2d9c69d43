"""The command line's faces: no input, file or URL prints a traceback; read commands never write.

Each case asserts the exit code, a message in Chinese then English naming the field or the file,
no traceback, and (where a file is given) that the file is byte-for-byte unchanged.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from support import CONTRACTOR, project_in

from workflow import Workflow
from workflow.cli import main

PURCHASER = "大武口区民政局"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out, out.err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bilingual(err: str, *names: str) -> None:
    """The message is Chinese then English (" / " between) and names each of ``names``."""
    assert err.startswith("错误 / error ["), err
    message = err.split("]: ", 1)[1]
    assert re.search(r"[\u4e00-\u9fff].* / .*[A-Za-z]", message), err
    for name in names:
        assert name in err, (name, err)


def a_project(db: Path, state: str = "procuring") -> tuple[int, int]:
    wf = Workflow.open(f"sqlite:///{db}")
    try:
        return project_in(wf, state)
    finally:
        wf.close()


READ_COMMANDS = [
    ("project", "show", "1"),
    ("project", "list"),
    ("project", "history", "1"),
    ("events", "1"),
    ("verify",),
    ("notices", "list"),
    ("notices", "show", "1"),
    ("inbox", "--org", PURCHASER, "--role", "purchaser"),
    ("directory", "list"),
    ("contractor", "show", "1"),
    ("calendar", "show", "2026"),
    ("calendar", "check"),
    ("health",),
]


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_read_command_never_creates_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    typo = tmp_path / "gpw-dmeo.db"
    code, _, err = run(capsys, "--db", str(typo), *command)
    assert code == 5
    bilingual(err, str(typo), "数据库文件不存在", "no database file")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", READ_COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_read_command_leaves_a_foreign_database_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    foreign = tmp_path / "app.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("create table customers (id integer primary key, name text)")
        conn.execute("insert into customers (name) values ('甲')")
    conn.close()
    before = digest(foreign)
    code, _, err = run(capsys, "--db", str(foreign), *command)
    assert code == 8
    bilingual(err, str(foreign), "不是 gpw 数据库", "is not a gpw database")
    assert digest(foreign) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.sqlite"]


def test_write_commands_refuse_a_foreign_database_and_leave_it_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = tmp_path / "app.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("create table customers (id integer primary key)")
    conn.close()
    before = digest(foreign)
    for command in (
        ("init",),
        ("tick",),
        ("directory", "add", "--org", "x", "--role", "y", "--name", "z"),
        ("project", "create", "--title", "t", "--purchaser", PURCHASER, "--budget", "1.00"),
    ):
        code, _, err = run(capsys, "--db", str(foreign), *command)
        assert code == 8, command
        bilingual(err, str(foreign), "customers", "nothing was written")
    assert digest(foreign) == before
    with sqlite3.connect(f"file:{foreign}?mode=ro", uri=True) as conn:
        assert conn.execute("pragma journal_mode").fetchone() == ("delete",)  # not made WAL
    conn.close()


@pytest.mark.parametrize("command", [("project", "list"), ("init",), ("demo",)])
def test_a_file_that_is_not_sqlite_exits_8_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    corrupt = tmp_path / "gpw.db"
    corrupt.write_bytes(b"not a database, just some bytes\n" * 200)
    before = digest(corrupt)
    code, _, err = run(capsys, "--db", str(corrupt), *command)
    assert code == 8
    bilingual(err, str(corrupt), "不是 SQLite 数据库或已损坏", "not an SQLite database")
    assert digest(corrupt) == before


def test_an_empty_file_is_not_a_gpw_database_to_read_but_may_be_initialised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "gpw.db"
    empty.touch()
    code, _, err = run(capsys, "--db", str(empty), "project", "list")
    assert code == 8 and empty.stat().st_size == 0
    bilingual(err, str(empty), "空数据库", "an empty database")
    assert run(capsys, "--db", str(empty), "init")[0] == 0
    assert run(capsys, "--db", str(empty), "project", "list")[0] == 0


def test_a_missing_folder_exits_5_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "no-such-folder" / "gpw.db"
    code, _, err = run(capsys, "--db", str(db), "init")
    assert code == 5
    bilingual(err, str(db.parent), "文件夹不存在", "folder does not exist")
    code, _, err = run(capsys, "--db", str(db), "project", "list")
    assert code == 5
    bilingual(err, str(db))
    assert not db.parent.exists()


def test_a_read_only_file_is_read_but_never_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "gpw.db"
    pid, _ = a_project(db)
    db.chmod(stat.S_IRUSR | stat.S_IRGRP)
    before = digest(db)
    try:
        code, out, _ = run(capsys, "--db", str(db), "--json", "project", "show", str(pid))
        assert code == 0 and json.loads(out)["state"] == "procuring"
        code, _, err = run(
            capsys,
            "--db",
            str(db),
            "fire",
            str(pid),
            "fail_procurement",
            "reason=流标",
            "--org",
            PURCHASER,
            "--at",
            "2025-09-11T10:00:00+08:00",
        )
        assert code == 8
        bilingual(err, str(db), "只读", "read-only")
        assert digest(db) == before
    finally:
        db.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_read_commands_open_the_database_read_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "gpw.db"
    pid, _ = a_project(db)
    before = digest(db)
    for command in READ_COMMANDS:
        args = [str(pid) if a == "1" else a for a in command]
        code, _, err = run(capsys, "--db", str(db), *args)
        assert code in (0, 5, 9), (command, err)  # 5: no notice or contractor 1; 9: health
    assert digest(db) == before


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql+psycopg2://u@localhost/x", "psycopg2"),
        ("postgresql+pg8000://u@localhost/x", "pg8000"),
    ],
)
def test_a_database_url_without_its_driver_exits_8(
    capsys: pytest.CaptureFixture[str], url: str, driver: str
) -> None:
    # gpw ships psycopg 3; these two drivers are never installed with it
    assert importlib.util.find_spec(driver) is None
    for command in (("project", "list"), ("init",)):
        code, _, err = run(capsys, "--db", url, *command)
        assert code == 8
        bilingual(err, driver, url, "缺少数据库驱动", "not installed")


def test_an_unknown_url_scheme_exits_8(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--db", "nosuchdb://x/y", "project", "list")
    assert code == 8
    bilingual(err, "nosuchdb://x/y")


def test_bad_json_and_reserved_keys_in_fire(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "gpw.db"
    pid, _ = a_project(db)
    before = digest(db)
    base = ["--db", str(db), "fire", str(pid), "record_review", "--org", PURCHASER]
    code, _, err = run(capsys, *base, "--data", "{reviewers: [甲]")
    assert code == 3
    bilingual(err, "--data", "不是有效的 JSON", "not valid JSON")
    code, _, err = run(capsys, *base, "--data", "[1, 2]")
    assert code == 3
    bilingual(err, "--data", "JSON 对象", "JSON object")
    code, _, err = run(capsys, *base, "--data", '{"x": NaN}')
    assert code == 3
    bilingual(err, "--data")
    for key, option in (
        ("actor", "--actor"),
        ("at", "--at"),
        ("expected_version", "--expected-version"),
        ("event", "EVENT"),
    ):
        code, _, err = run(capsys, *base, f"{key}=1")
        assert code == 3, key
        bilingual(err, f"{key} 不是事件数据", f"use {option}")
        code, _, err = run(capsys, *base, "--data", json.dumps({key: 1}))
        assert code == 3, key
        bilingual(err, f"({key})")
    code, _, err = run(capsys, "--db", str(db), "--json", *base[2:], "=1")
    assert code == 3 and json.loads(err)["error"]["field"] == "fields"
    assert digest(db) == before


def test_numbers_on_the_command_line_are_decimals_never_floats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "gpw.db"
    pid, cid = a_project(db)
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "fire",
        str(pid),
        "record_review",
        'reviewers=["甲", "乙", "丙"]',
        'criteria={"quality": 70.5, "price": 29.5}',
        f'scores={{"{cid}": 85.5}}',
        "--org",
        PURCHASER,
        "--at",
        "2025-09-11T10:00:00+08:00",
    )
    assert code == 0, err
    code, out, _ = run(capsys, "--db", str(db), "--json", "project", "history", str(pid))
    review = json.loads(out)[-1]["data"]
    assert review["scores"] == {str(cid): "85.5"}
    assert review["criteria"] == {"quality": "70.5", "price": "29.5"}
    # --data too: a subcontract share of 0.3 on a project in service (R9)
    db2 = tmp_path / "svc.db"
    pid2, _ = a_project(db2, "in_service")
    code, _, err = run(
        capsys,
        "--db",
        str(db2),
        "fire",
        str(pid2),
        "request_subcontract",
        "--data",
        '{"part": "数据录入", "to": "某信息公司", "share": 0.3}',
        "--role",
        "contractor",
        "--org",
        CONTRACTOR.org,
        "--at",
        "2025-10-21T10:00:00+08:00",
    )
    assert code == 0, err
    code, out, _ = run(capsys, "--db", str(db2), "--json", "project", "history", str(pid2))
    assert json.loads(out)[-1]["data"]["share"] == "0.3"


def test_bad_items_json_and_decimal_quantities(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "gpw.db"
    create = ["--db", str(db), "project", "create", "--title", "核查", "--purchaser", PURCHASER]
    create += ["--budget", "1000.00", "--org", PURCHASER, "--at", "2025-08-01T10:00:00+08:00"]
    code, _, err = run(capsys, *create, "--items-json", '[{"name": "入户核查", "quantity": 16')
    assert code == 3
    bilingual(err, "--items-json", "不是有效的 JSON", "not valid JSON")
    code, out, err = run(
        capsys, *create, "--json", "--items-json", '[{"name": "入户核查", "quantity": 1.5}]'
    )
    assert code == 0, err
    pid = json.loads(out)["id"]
    code, out, _ = run(capsys, "--db", str(db), "project", "show", str(pid), "--json")
    assert json.loads(out)["data"]["items"][0]["quantity"] == "1.5"


@pytest.mark.parametrize(
    "command",
    [
        ("project", "show", "99999999999999999999999"),
        ("project", "history", "99999999999999999999999"),
        ("events", "99999999999999999999999"),
        ("fire", "99999999999999999999999", "submit"),
        ("notices", "show", "99999999999999999999999"),
        ("contractor", "show", "99999999999999999999999"),
        ("project", "show", "0"),
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_an_id_out_of_range_exits_3_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    db = tmp_path / "gpw.db"
    assert run(capsys, "--db", str(db), "init")[0] == 0
    code, _, err = run(capsys, "--db", str(db), *command)
    assert code == 3
    bilingual(err, "超出范围", "out of range", "_id")


def test_a_huge_number_inside_event_data_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "gpw.db"
    pid, _ = a_project(db, "procuring")
    code, _, err = run(
        capsys,
        "--db",
        str(db),
        "fire",
        str(pid),
        "award",
        "contractor_id=99999999999999999999999",
        "--org",
        PURCHASER,
        "--at",
        "2025-09-15T10:00:00+08:00",
    )
    assert code == 3, err
    bilingual(err)


def test_calendar_check_of_a_missing_or_bad_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "calendar", "check", str(tmp_path / "2027.json"))
    assert code == 5
    bilingual(err, "2027.json", "日历文件不存在", "no calendar file")
    db = tmp_path / "gpw.db"
    assert run(capsys, "--db", str(db), "init")[0] == 0
    code, _, err = run(capsys, "--db", str(db), "calendar", "add-year", str(tmp_path / "x.json"))
    assert code == 5
    bilingual(err, "x.json", "日历文件不存在")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    code, _, err = run(capsys, "calendar", "check", str(bad))
    assert code == 3
    bilingual(err, "bad.json")


def test_json_after_the_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "gpw.db"
    pid, _ = a_project(db)
    for args in (
        ("--json", "project", "show", str(pid)),
        ("project", "show", str(pid), "--json"),
        ("project", "--json", "show", str(pid)),
    ):
        code, out, _ = run(capsys, "--db", str(db), *args)
        assert code == 0 and json.loads(out)["id"] == pid, args
    code, _, err = run(capsys, "--db", str(db), "project", "show", "999", "--json")
    assert code == 5 and json.loads(err)["error"]["field"] == "project_id"


def test_events_fields_shows_types_and_allowed_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "gpw.db"
    pid, _ = a_project(db, "approved")
    code, out, _ = run(capsys, "--db", str(db), "events", str(pid), "--org", PURCHASER, "--fields")
    assert code == 0
    assert "publish_notice:" in out
    method = next(line for line in out.splitlines() if line.strip().startswith("method"))
    assert "必填 / required" in method and "open_tender" in method and "single_source" in method
    code, out, _ = run(
        capsys, "--db", str(db), "events", str(pid), "--org", PURCHASER, "--fields", "--json"
    )
    described = {d["event"]: d["fields"] for d in json.loads(out)}
    notice = {f["name"]: f for f in described["publish_notice"]}
    assert notice["method"]["required"] is True and "invited_tender" in notice["method"]["allowed"]
    assert notice["notice"]["type"] == "string"


def test_list_commands_say_when_they_cut_and_refuse_unknown_filters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "gpw.db"
    a_project(db, "draft")
    a_project(db, "draft")
    code, out, _ = run(capsys, "--db", str(db), "project", "list", "--limit", "1")
    assert code == 0 and out.count("\n#") == 0 and out.startswith("#2 ")
    assert "仅显示前 1 条" in out and "showing the first 1" in out
    code, out, _ = run(capsys, "--db", str(db), "--json", "project", "list", "--limit", "1")
    listed = json.loads(out)
    assert listed["truncated"] is True and len(listed["items"]) == 1
    code, out, _ = run(capsys, "--db", str(db), "project", "list", "--limit", "2")
    assert "仅显示" not in out
    for person in ("甲", "乙"):
        run(
            capsys,
            "--db",
            str(db),
            "directory",
            "add",
            "--org",
            "o",
            "--role",
            "r",
            "--name",
            person,
        )
    code, out, _ = run(capsys, "--db", str(db), "directory", "list", "--limit", "1")
    assert "甲" in out and "乙" not in out and "仅显示前 1 条" in out
    code, _, err = run(capsys, "--db", str(db), "project", "list", "--state", "drafted")
    assert code == 3
    bilingual(err, "--state", "drafted", "pending_approval")
    code, _, err = run(capsys, "--db", str(db), "notices", "list", "--status", "lost")
    assert code == 3
    bilingual(err, "--status", "lost", "undeliverable")
    code, _, err = run(capsys, "--db", str(db), "project", "list", "--limit", "0")
    assert code == 3
    bilingual(err, "--limit")


def test_undeliverable_notices_are_shown_by_health(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "gpw.db"
    a_project(db, "contracted")
    monkeypatch.setenv("GPW_CHANNELS", "inbox,log")  # a person-addressed channel: nobody known
    run(capsys, "--db", str(db), "tick", "--at", "2025-10-22T10:00:00+08:00")
    code, out, _ = run(capsys, "--db", str(db), "relay", "--at", "2025-10-22T10:01:00+08:00")
    assert code == 0 and "undeliverable 2" in out
    code, out, _ = run(capsys, "--db", str(db), "health", "--at", "2025-10-22T10:02:00+08:00")
    assert code == 9 and "undeliverable 2" in out and "通讯录" in out
    code, out, _ = run(
        capsys, "--db", str(db), "--json", "notices", "list", "--status", "undeliverable"
    )
    assert len(json.loads(out)["items"]) == 2
    code, out, _ = run(capsys, "--db", str(db), "notices", "list", "--status", "sent")
    assert "no notices" in out


def _mark_demo(db: Path) -> None:
    from workflow.notices import upsert_meta
    from workflow.persistence import DEMO_MARK

    wf = Workflow.open(f"sqlite:///{db}")
    with wf.engine.begin() as conn:
        upsert_meta(conn, DEMO_MARK, "gpw demo")
    wf.close()


def test_demo_refuses_a_database_it_did_not_make(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "gpw.db"
    pid, _ = a_project(db)
    before = digest(db)
    code, _, err = run(capsys, "--db", str(db), "demo")
    assert code == 8
    bilingual(err, str(db), "不是演示库", "--replace")
    assert digest(db) == before
    assert run(capsys, "--db", str(db), "project", "show", str(pid))[0] == 0


def test_demo_replaces_its_own_database_and_with_replace_any(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo_db = tmp_path / "demo.db"
    a_project(demo_db)
    a_project(demo_db)
    _mark_demo(demo_db)
    code, out, err = run(capsys, "--db", str(demo_db), "--json", "demo")
    assert code == 0, err
    assert json.loads(out)["project_id"] == 1  # a fresh database: the old projects are gone
    other = tmp_path / "other.db"
    a_project(other)
    a_project(other)
    code, out, err = run(capsys, "--db", str(other), "--json", "demo", "--replace")
    assert code == 0, err
    assert json.loads(out)["project_id"] == 1
    # the database it made is recognised as a demo one next time (make run, twice)
    code, _, err = run(capsys, "--db", str(other), "--json", "demo")
    assert code == 0, err


def test_no_traceback_from_the_real_process(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(os.urandom(4096))
    for args, expected in (
        (["--db", str(tmp_path / "nope" / "x.db"), "project", "list"], 5),
        (["--db", str(junk), "verify"], 8),
        (["--db", "nosuchdb://u@localhost/x", "health"], 8),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "workflow", *args], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == expected, (args, done.stderr)
        assert "Traceback" not in done.stdout + done.stderr
        assert "错误 / error" in done.stderr
