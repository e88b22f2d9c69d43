"""``gpw import FILE.xlsx [--dry-run]`` (issue #11) on a real SQLite file, through main([...]):
the table of rows and projects, ``--json``, every bad cell listed, the exit codes (3 invalid, 4
refused, 5 no file, 8 not a workbook), never a traceback."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook as Xlsx
from support import QUALIFIED, at

from states.model import Actor
from workflow import Workflow
from workflow.cli import main

HEADERS = ["标题", "购买主体", "预算", "服务内容", "采购方式", "承接主体", "签订日期", "生效日期",
           "合同金额", "合同期限（月）", "合同形式", "目标状态", "派遣日期", "派遣人员", "培训日期",
           "培训学时"]  # fmt: skip
DRAFT = ["入户核查员服务", "大武口区民政局", 1200000, "入户核查:16", None, None, None, None, None,
         None, None, "draft", None, None, None, None]  # fmt: skip
SERVING = ["居家照护服务", "大武口区民政局", "800000.00", "照护：40；回访：4", "竞争性磋商",
           "星海社会工作服务中心", date(2025, 9, 26), "2025-10-01", 750000, 12, "委托",
           "in_service", "2025-10-15", "张三:本科;李四:大专", "2025-10-10", 8]  # fmt: skip
#: the CLI's clock: a fixed day after every date in the workbooks (no wall clock in tests)
NOW = "2026-12-04T10:00:00+08:00"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def workbook(path: Path, *rows: list[Any]) -> Path:
    book = Xlsx()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADERS)
    for values in rows:
        sheet.append(values)
    book.save(path)
    return path


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A gpw file with the contractor the workbooks name registered."""
    monkeypatch.setenv("GPW_NOW", NOW)
    path = str(tmp_path / "gpw.db")
    wf = Workflow.open(f"sqlite:///{path}")
    wf.register_contractor(
        actor=Actor(id="admin", role="admin"),
        name="星海社会工作服务中心",
        org_type="social_organization",
        qualifications=QUALIFIED,
        at=at("2025-07-01"),
    )
    wf.close()
    return path


def projects(capsys: pytest.CaptureFixture[str], db: str) -> list[dict[str, Any]]:
    code, out, _ = run(capsys, "--db", db, "--json", "project", "list")
    assert code == 0
    items: list[dict[str, Any]] = json.loads(out)["items"]
    return items


def test_gpw_import_prints_rows_and_projects_and_a_second_run_creates_nothing(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    book = workbook(tmp_path / "台账.xlsx", DRAFT, SERVING)
    code, out, err = run(capsys, "--db", db, "import", str(book))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[1].split("\t") == ["2", "1", "draft", "入户核查员服务"]
    assert lines[2].split("\t") == ["3", "2", "in_service", "居家照护服务"]
    assert "已导入 2 个项目" in lines[-1]
    assert [p["state"] for p in projects(capsys, db)] == ["in_service", "draft"]
    code, out, _ = run(capsys, "--db", db, "--json", "import", str(book))
    again = json.loads(out)
    assert (code, again["already_imported"], again["created"]) == (0, True, 0)
    assert [(r["row"], r["project_id"]) for r in again["rows"]] == [(2, 1), (3, 2)]
    assert len(projects(capsys, db)) == 2
    code, out, _ = run(capsys, "--db", db, "verify")
    assert code == 0


def test_gpw_import_dry_run_writes_nothing(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    book = workbook(tmp_path / "a.xlsx", DRAFT, SERVING)
    code, out, _ = run(capsys, "--db", db, "import", str(book), "--dry-run", "--json")
    report = json.loads(out)
    assert (code, report["dry_run"], report["created"]) == (0, True, 0)
    assert [r["state"] for r in report["rows"]] == ["draft", "in_service"]
    assert projects(capsys, db) == []
    code, out, _ = run(capsys, "--db", db, "import", str(book))
    assert code == 0 and len(projects(capsys, db)) == 2


def test_gpw_import_lists_every_bad_cell_and_writes_nothing(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_money = [*DRAFT]
    bad_money[2] = "１２０万"
    unknown = [*SERVING]
    unknown[5] = "无名社工"
    late = [*SERVING]
    late[12] = "2025-10-30"  # 20 working days after signing: R8 allows 15
    book = workbook(tmp_path / "bad.xlsx", DRAFT, bad_money, unknown, late)
    code, out, err = run(capsys, "--db", db, "import", str(book))
    assert (code, out) == (3, "")
    table = [line.split("\t") for line in err.splitlines()[1:-1]]
    assert [(r[0], r[1], r[3]) for r in table] == [
        ("3", "预算", "R1"),
        ("4", "承接主体", "R4"),
        ("5", "派遣日期", "R8"),
    ]
    assert "未导入任何项目" in err.splitlines()[-1] and "Traceback" not in err
    code, _, err = run(capsys, "--db", db, "--json", "import", str(book))
    error = json.loads(err)["error"]
    assert (code, error["code"], error["field"]) == (3, "invalid_input", "file")
    assert [e["row"] for e in error["details"]["errors"]] == [3, 4, 5]
    assert projects(capsys, db) == []
    # refused by a rule only (R8): exit 4
    code, _, err = run(capsys, "--db", db, "import", str(workbook(tmp_path / "r.xlsx", late)))
    assert code == 4 and "[R8]" in err


def test_gpw_import_refuses_what_is_not_a_workbook_without_a_traceback(
    tmp_path: Path, db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nothing-here.db"
    code, _, err = run(capsys, "--db", str(missing), "import", str(tmp_path / "no.xlsx"))
    assert code == 5 and "no.xlsx" in err
    assert not missing.exists()  # the database is not created for a missing file
    text = tmp_path / "ledger.xlsx"
    text.write_text("标题,购买主体\n", encoding="utf-8")
    whole = workbook(tmp_path / "whole.xlsx", DRAFT).read_bytes()
    damaged = tmp_path / "damaged.xlsx"
    damaged.write_bytes(whole[:-100])
    for path in (text, damaged):
        code, out, err = run(capsys, "--db", db, "import", str(path))
        assert (code, out) == (8, "")
        assert "不是可读取的 Excel 工作簿" in err and "Traceback" not in err
    code, _, err = run(capsys, "--db", db, "import", str(tmp_path))  # a folder
    assert code == 5
    assert projects(capsys, db) == []
