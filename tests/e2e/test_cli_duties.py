"""The command line of issue #10's duties: gpw staffing (R17), --assistance-funds (R18) and gpw
sandbox on a real SQLite file, driven through main([...])."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from support import at, project_in

from workflow import Workflow
from workflow.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_gpw_staffing_prints_the_number_first(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "staffing", "--policy", "jilin-2017", "--population", "35000")
    assert code == 0 and out.splitlines()[0] == "4"
    assert "seed:000 三(三)" in out
    code, out, _ = run(
        capsys, "staffing", "--policy", "nanyang-2019", "--post", "town", "--recipients", "2500"
    )
    assert code == 0 and out.splitlines()[0] == "4"
    args = ["--post", "care_home", "--self-care", "20", "--semi-care", "8", "--full-care", "3"]
    code, out, _ = run(capsys, "--json", "staffing", "--policy", "nanyang-2019", *args)
    result = json.loads(out)
    assert (code, result["required"], result["rule"]) == (0, 6, "R17")
    code, out, _ = run(
        capsys, "staffing", "--policy", "nanyang-2019", "--beds", "51", "--post", "mental_health"
    )
    assert out.splitlines()[0] == "41"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--policy", "nanyang-2019", "--recipients", "10"], "post"),
        (["--policy", "jilin-2017", "--population", "-5"], "population"),
        (["--policy", "jilin-2017"], "population"),
        (["--policy", "shanghai", "--population", "5"], "policy"),
        (["--policy", "jilin-2017", "--count", "population=x"], "count"),
    ],
)
def test_gpw_staffing_refuses_naming_the_field(
    capsys: pytest.CaptureFixture[str], args: list[str], field: str
) -> None:
    code, _, err = run(capsys, "staffing", *args)
    assert code == 3 and field in err


def test_a_plan_states_its_assistance_funds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "g.db")
    code, out, _ = run(
        capsys,
        "--db", db, "--json", "project", "create", "--title", "入户核查员服务",
        "--purchaser", "大武口区民政局", "--budget", "1200000", "--item", "入户核查:16",
        "--assistance-funds", "100000000", "--org", "大武口区民政局",
    )  # fmt: skip
    assert code == 0
    pid = json.loads(out)["id"]
    code, out, _ = run(capsys, "--db", db, "--json", "project", "show", str(pid))
    assert json.loads(out)["data"]["assistance_funds"] == "100000000.00"
    code, _, err = run(
        capsys,
        "--db", db, "project", "create", "--title", "x", "--purchaser", "大武口区民政局",
        "--budget", "1", "--assistance-funds", "1.5E8", "--org", "大武口区民政局",
    )  # fmt: skip
    assert code == 3 and "assistance_funds" in err


@pytest.fixture
def office(tmp_path: Path) -> str:
    """A real gpw database file: a contracted Dawukou project, its deadlines open."""
    path = tmp_path / "office.db"
    wf = Workflow.open(
        f"sqlite:///{path}", clock=lambda: datetime(2031, 1, 1, tzinfo=at("2026-01-01").tzinfo)
    )
    project_in(wf, "contracted")
    wf.close()
    return str(path)


def test_gpw_sandbox_copies_a_file_and_runs_it(
    tmp_path: Path, office: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = Path(office).read_bytes()
    drill = str(tmp_path / "drill.db")
    code, out, _ = run(
        capsys, "--db", office, "sandbox", "--copy", drill, "--seconds-per-day", "2",
        "--start", "2025-10-17T10:00:00+08:00", "--no-worker",
    )  # fmt: skip
    assert code == 0 and "2025-10-17T10:00:00+08:00" in out and "inbox" in out
    assert Path(drill).exists() and Path(office).read_bytes() == before
    # the worker on the copy: two seconds a working day, stopped after four seconds
    code, out, _ = run(capsys, "--db", drill, "sandbox", "--for", "4")
    assert code == 0 and "gpw sandbox stopped at" in out
    stopped = datetime.fromisoformat(out.strip().splitlines()[-1].split()[4])
    assert stopped > datetime.fromisoformat("2025-10-17T10:00:00+08:00")
    wf = Workflow.open(f"sqlite:///{drill}", mode="read")
    try:
        assert wf.sandbox is not None and wf.notices()  # the dispatch's reminder, at least
        assert {n.status for n in wf.notices()} == {"sent"}  # the inbox was the delivery
    finally:
        wf.close()
    assert Path(office).read_bytes() == before


def test_gpw_sandbox_refuses_e_mail_the_original_and_an_existing_copy(
    tmp_path: Path,
    office: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drill = str(tmp_path / "drill.db")
    assert run(capsys, "--db", office, "sandbox", "--copy", drill, "--no-worker")[0] == 0
    code, _, err = run(capsys, "--db", office, "sandbox", "--copy", drill, "--no-worker")
    assert code == 3 and "copy" in err  # a sandbox never overwrites a file
    code, _, err = run(capsys, "--db", office, "sandbox", "--for", "1")
    assert code == 8 and "not a sandbox copy" in err
    monkeypatch.setenv("GPW_CHANNELS", "inbox,email")
    monkeypatch.setenv("GPW_SMTP_HOST", "smtp.example.gov.cn")
    code, _, err = run(capsys, "--db", drill, "sandbox", "--for", "1")
    assert code == 8 and "inbox only" in err
