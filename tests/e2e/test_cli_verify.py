"""``gpw verify [--anchor FILE]`` and ``gpw anchor [--out FILE]`` on a database the real engine
made: ``--db`` names a SQLite file (its path, as people type it) or a PostgreSQL database's URL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest
from dbtools import execute, row, sqlite_path
from sqlalchemy import select
from support import GOV, at, contractor, project_in

from workflow import Workflow
from workflow.cli import main
from workflow.persistence import audit_t, contractor_t, head_t, project_t


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def made(db_url: str, clock: Callable[[], datetime]) -> tuple[str, int, int]:
    """A database with a contracted project and a banned contractor; (--db, project, contractor).

    ``--db`` is the file's path on SQLite, the URL on PostgreSQL; tampering goes to ``db_url``."""
    wf = Workflow.open(db_url, clock=clock)
    pid, _ = project_in(wf, "contracted")
    other = contractor(wf, name="另一家社工机构")
    wf.ban_contractor(other, actor=GOV, at=at("2025-10-01"), until=date(2026, 1, 1), reason="x")
    wf.close()
    path = sqlite_path(db_url)
    return (db_url if path is None else str(path)), pid, other


def test_verify_and_anchor_on_an_untouched_database(
    made: tuple[str, int, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, pid, _ = made
    code, out, _ = run(capsys, "--db", db, "verify")
    assert code == 0 and out.startswith("OK")
    code, out, _ = run(capsys, "--db", db, "anchor")
    printed = json.loads(out)
    assert (
        code == 0 and printed["format"] == "gpw-anchor-1" and f"project:{pid}" in printed["heads"]
    )
    saved = tmp_path / "anchor.json"
    code, out, _ = run(capsys, "--db", db, "--json", "anchor", "--out", str(saved))
    assert code == 0 and json.loads(out)["digest"] == printed["digest"]
    assert json.loads(saved.read_text(encoding="utf-8"))["heads"] == printed["heads"]
    code, out, _ = run(capsys, "--db", db, "--json", "verify", "--anchor", str(saved))
    result = json.loads(out)
    assert code == 0 and result["ok"] is True and result["problems"] == []


def test_a_cut_chain_with_its_head_rewritten_exits_7_with_the_anchor(
    made: tuple[str, int, int],
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db, _, cid = made
    stream = f"contractor:{cid}"
    saved = tmp_path / "anchor.json"
    assert run(capsys, "--db", db, "anchor", "--out", str(saved))[0] == 0
    first = row(
        db_url, select(audit_t.c.hash).where(audit_t.c.stream == stream, audit_t.c.seq == 1)
    )
    data = row(db_url, select(contractor_t.c.data).where(contractor_t.c.id == cid))["data"]
    execute(
        db_url,
        audit_t.delete().where(audit_t.c.stream == stream, audit_t.c.seq == 2),
        head_t.update().where(head_t.c.stream == stream).values(seq=1, hash=first["hash"]),
        contractor_t.update().where(contractor_t.c.id == cid).values(data={**data, "bans": []}),
    )
    assert run(capsys, "--db", db, "verify")[0] == 0  # consistent in itself
    code, out, _ = run(capsys, "--db", db, "verify", "--anchor", str(saved))
    assert code == 7 and "ALTERED" in out and f"[anchor] {stream} #2" in out
    code, out, _ = run(capsys, "--db", db, "--json", "verify", "--anchor", str(saved))
    result = json.loads(out)
    assert code == 7 and result["first_bad"] == [stream, 2]
    assert [(p["kind"], p["stream"], p["seq"]) for p in result["problems"]] == [
        ("anchor", stream, 2)
    ]


def test_a_changed_state_exits_7_naming_the_project_and_entry(
    made: tuple[str, int, int], db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db, pid, _ = made
    execute(db_url, project_t.update().where(project_t.c.id == pid).values(state="closed"))
    code, out, _ = run(capsys, "--db", db, "--json", "verify")
    result = json.loads(out)
    assert code == 7 and result["ok"] is False
    problem = result["problems"][0]
    assert (problem["kind"], problem["project_id"]) == ("project", pid)
    assert problem["seq"] == result["first_bad"][1] and "state" in problem["reason"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, ["无法读取锚点文件", "cannot read the anchor file"]),
        ("{not json", ["无法读取锚点文件", "cannot read the anchor file"]),
        ('{"format": "gpw-anchor-0"}', ["锚点文件", "anchor file", "anchor.format"]),
    ],
)
def test_a_missing_or_invalid_anchor_file_exits_3_naming_it(
    made: tuple[str, int, int],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    words: list[str],
) -> None:
    db, _, _ = made
    path = tmp_path / "anchor.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "--db", db, "verify", "--anchor", str(path))
    assert code == 3 and out == ""
    assert str(path) in err and all(w in err for w in words) and "Traceback" not in err
    assert err.index("锚点") < err.index("anchor file")  # Chinese first


def test_anchor_refuses_an_unwritable_out_file(
    made: tuple[str, int, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db, _, _ = made
    target = tmp_path / "no-such-folder" / "anchor.json"
    code, _, err = run(capsys, "--db", db, "anchor", "--out", str(target))
    assert code == 3 and str(target) in err and "无法写入锚点文件" in err
