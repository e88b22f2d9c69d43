"""Import of running projects from a 台账 workbook (issue #11): ``wf.import_projects(path)``.

Workbooks are built with openpyxl in each test. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook as Xlsx
from sqlalchemy import func, select
from support import CLERK, QUALIFIED, TZ, contractor

from states.errors import ConfigurationError, GuardRefused, InvalidInput, NotFound
from workflow.tables import audit_t, deadline_t, import_row_t, project_t, release_t

XINGHAI = "星海社会工作服务中心"
TERM = "合同期限（月）"
#: 20 working days after the signing on 2025-09-26 (R8's window is 15: due 2025-10-23)
LATE = "2025-10-30"
HEADERS = [
    "标题",
    "购买主体",
    "预算",
    "服务内容",
    "采购方式",
    "承接主体",
    "签订日期",
    "生效日期",
    "合同金额",
    "合同期限（月）",
    "合同形式",
    "目标状态",
    "派遣日期",
    "派遣人员",
    "培训日期",
    "培训学时",
]
PLAN = {
    "标题": "入户核查员服务",
    "购买主体": "大武口区民政局",
    "预算": 1200000,
    "服务内容": "入户核查:16;回访:2",
}
CONTRACT = {
    "采购方式": "公开招标",
    "承接主体": XINGHAI,
    "签订日期": date(2025, 9, 26),
    "生效日期": "2025-10-01",
    "合同金额": 1000000.5,
    "合同期限（月）": 12,
    "合同形式": "购买",
}
SERVICE = {
    "派遣日期": "2025-10-15",
    "派遣人员": "张三:本科;李四:大专",
    "培训日期": date(2025, 10, 10),
    "培训学时": 8,
}


def row(target: str, **over: Any) -> dict[str, Any]:
    """A row of the workbook reaching ``target`` (draft, approved, contracted, in_service)."""
    values: dict[str, Any] = {**PLAN, "目标状态": target}
    if target in ("contracted", "in_service"):
        values.update(CONTRACT)
    if target == "in_service":
        values.update(SERVICE)
    values.update(over)
    return {k: v for k, v in values.items() if v is not None}


def workbook(path: Path, rows: list[dict[str, Any]], headers: list[str] = HEADERS) -> Path:
    book = Xlsx()
    sheet = book.active
    assert sheet is not None
    sheet.append(headers)
    for values in rows:
        sheet.append([values.get(h) for h in headers])
    book.save(path)
    return path


def count(wf: Any, table: Any, *where: Any) -> int:
    with wf.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar())


def written(wf: Any) -> dict[str, int]:
    """What a project import writes: projects, their audit entries, deadlines, releases, rows."""
    return {
        "projects": count(wf, project_t),
        "entries": count(wf, audit_t, audit_t.c.project_id.is_not(None)),
        "deadlines": count(wf, deadline_t),
        "releases": count(wf, release_t),
        "import rows": count(wf, import_row_t),
    }


NOTHING = {"projects": 0, "entries": 0, "deadlines": 0, "releases": 0, "import rows": 0}


def errors_of(exc: pytest.ExceptionInfo[Any]) -> set[tuple[int, str | None, str | None]]:
    return {(e["row"], e["column"], e["rule"]) for e in exc.value.details["errors"]}


@pytest.fixture
def registered(wf: Any) -> int:
    return contractor(wf, name=XINGHAI)


def test_each_row_reaches_its_target_state_through_the_events(
    wf: Any, registered: int, tmp_path: Path
) -> None:
    path = workbook(
        tmp_path / "台账.xlsx",
        [row("draft"), row("approved"), row("contracted"), row("in_service")],
    )
    report = wf.import_projects(path)
    assert [(r.row, r.state, r.created) for r in report.rows] == [
        (2, "draft", True),
        (3, "approved", True),
        (4, "contracted", True),
        (5, "in_service", True),
    ]
    assert report.created == 4 and not report.already_imported and not report.dry_run
    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    ids = [r.project_id for r in report.rows]
    assert [wf.project(i).state for i in ids] == ["draft", "approved", "contracted", "in_service"]
    served = wf.project(ids[3])
    contract = served.data["contract"]
    # money read exactly from a number cell (1000000.5), dates from a date cell and from text
    assert (contract["price"], contract["signed_on"], contract["effective_on"]) == (
        "1000000.50",
        "2025-09-26",
        "2025-10-01",
    )
    assert (contract["form"], contract["term_months"]) == ("purchase", 12)
    assert served.contractor_id == registered
    assert [s["name"] for s in served.data["staff"]] == ["张三", "李四"]
    assert served.data["items"][1]["name"] == "回访"
    dispatch = next(d for d in served.deadlines if d.key == "dispatch")
    assert (dispatch.status, dispatch.met_on, dispatch.late) == ("met", date(2025, 10, 15), False)
    # the shortest path the guards allow, in order, dated from the row (R15: never backdated)
    trail = wf.history(ids[3])
    assert [e.event for e in trail] == [
        "create_project",
        "submit",
        "review_budget",
        "approve",
        "publish_notice",
        "record_review",
        "award",
        "sign_contract",
        "record_training",
        "dispatch_staff",
    ]
    days = [e.at.astimezone(TZ).date() for e in trail]
    assert days == [date(2025, 9, 26)] * 8 + [date(2025, 10, 10), date(2025, 10, 15)]
    assert [e.at for e in trail] == sorted(e.at for e in trail)
    # a draft or approved row has no dates: its entries are dated at the import
    assert {e.at for e in wf.history(ids[1])} == {wf.clock()}
    assert wf.verify().ok


def test_every_entry_is_marked_imported_by_a_system_actor_of_each_role(
    wf: Any, registered: int, tmp_path: Path
) -> None:
    path = workbook(tmp_path / "a.xlsx", [row("approved"), row("in_service")])
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    report = wf.import_projects(path)
    for imported in report.rows:
        trail = wf.history(imported.project_id)
        assert trail and all(
            e.data["imported"] == {"sha256": sha, "row": imported.row} for e in trail
        )
        assert {e.actor_id for e in trail} == {f"import:{sha[:12]}"}
    roles = {(e.event, e.role, e.org) for e in wf.history(report.rows[0].project_id)}
    assert ("review_budget", "finance", "大武口区财政局") in roles
    assert ("approve", "government", "大武口区人民政府") in roles
    assert ("submit", "purchaser", "大武口区民政局") in roles
    # a clerk's own entries carry no mark, and no payload can carry one (R15)
    view = wf.fire(report.rows[0].project_id, "publish_notice", actor=CLERK,
                   method="open_tender", notice="公告")  # fmt: skip
    assert "imported" not in wf.history(view.id)[-1].data
    with pytest.raises(InvalidInput) as refused:
        wf.fire(view.id, "fail_procurement", actor=CLERK, reason="x",
                imported={"sha256": sha, "row": 2})  # fmt: skip
    assert refused.value.field == "imported"


def test_a_second_import_of_the_same_file_creates_nothing(
    wf: Any, registered: int, tmp_path: Path
) -> None:
    path = workbook(tmp_path / "a.xlsx", [row("draft"), row("contracted")])
    first = wf.import_projects(path)
    after_first = written(wf)
    copy = tmp_path / "copy-of-a.xlsx"  # the same bytes under another name
    copy.write_bytes(path.read_bytes())
    for again in (wf.import_projects(path), wf.import_projects(copy, dry_run=True)):
        assert again.already_imported and again.created == 0
        assert [(r.row, r.project_id, r.state) for r in again.rows] == [
            (r.row, r.project_id, r.state) for r in first.rows
        ]
        assert written(wf) == after_first
    assert after_first["import rows"] == 2


def test_a_dry_run_writes_nothing(wf: Any, registered: int, tmp_path: Path) -> None:
    path = workbook(tmp_path / "a.xlsx", [row("approved"), row("in_service")])
    report = wf.import_projects(path, dry_run=True)
    assert report.dry_run and report.created == 0
    assert [(r.project_id, r.state) for r in report.rows] == [
        (None, "approved"),
        (None, "in_service"),
    ]
    assert written(wf) == NOTHING
    assert wf.import_projects(path).created == 2  # and the file is not taken for imported


BAD_ROWS: list[tuple[dict[str, Any], str, str | None]] = [
    # (the row, the column reported, its rule)
    (row("draft", 预算="一百万"), "预算", "R1"),
    (row("draft", 预算="１２００"), "预算", "R1"),  # full-width digits
    (row("draft", 预算=1200.555), "预算", "R1"),  # a third place
    (row("draft", 预算="12.3E+5"), "预算", "R1"),
    (row("draft", 服务内容="入户核查"), "服务内容", "R1"),  # no quantity
    (row("draft", 服务内容="入户核查:-2"), "服务内容", "R1"),
    (row("draft", 标题=None), "标题", None),
    (row("draft", 目标状态="closed"), "目标状态", None),
    (row("draft", 签订日期="2025-09-26"), "签订日期", None),  # not recorded for a draft
    (row("contracted", 签订日期=45926), "签订日期", "R6"),  # a number, not a date
    (row("contracted", 签订日期="2025-13-01"), "签订日期", "R6"),
    (row("contracted", 签订日期=datetime(2025, 9, 26, 15, 30)), "签订日期", "R6"),
    (row("contracted", 采购方式="比价"), "采购方式", "R3"),
    (row("contracted", 合同形式="赠与"), "合同形式", "R6"),
    (row("contracted", **{TERM: 12.5}), TERM, "R6"),
    (row("contracted", 承接主体=None), "承接主体", "R4"),
    (row("in_service", 派遣人员="王五:中专"), "派遣人员", "R8"),
    (row("in_service", 培训学时=None), "培训学时", "R14"),
    # refused by the events: an unregistered contractor, a price above the budget (R6), a
    # term beyond the cycle (R6), staff below 大专 (R8), no training before duty (R14), a
    # dispatch 20 working days after signing (R8: the window is 15)
    (row("contracted", 承接主体="无名社工"), "承接主体", "R4"),
    (row("contracted", 合同金额=1300000), "合同金额", "R6"),
    (row("contracted", **{TERM: 48}), TERM, "R6"),
    (row("in_service", 派遣人员="张三:本科;王五:高中"), "派遣人员", "R8"),
    (row("in_service", 培训日期=None, 培训学时=None), "培训日期", "R14"),
    (row("in_service", 派遣日期=LATE), "派遣日期", "R8"),
    (row("in_service", 培训日期="2025-09-20"), "培训日期", "R14"),  # before the signing
    (row("contracted", 签订日期="2031-02-01", 生效日期="2031-02-01"), "签订日期", "R15"),
]


def test_every_bad_cell_is_reported_at_once_and_nothing_is_written(
    wf: Any, registered: int, tmp_path: Path
) -> None:
    rows = [row("in_service"), *(bad for bad, _, _ in BAD_ROWS), row("draft")]
    path = workbook(tmp_path / "bad.xlsx", rows)
    for dry_run in (False, True):
        with pytest.raises(InvalidInput) as exc:
            wf.import_projects(path, dry_run=dry_run)
        expected = {(n, col, rule) for n, (_, col, rule) in enumerate(BAD_ROWS, start=3)}
        assert errors_of(exc) == expected
        assert exc.value.details["dry_run"] is dry_run
        assert written(wf) == NOTHING
    errors = exc.value.details["errors"]
    assert [e["row"] for e in errors] == sorted(e["row"] for e in errors)
    assert all(e["message_zh"] and e["message_en"] for e in errors)
    by_row = {e["row"]: e for e in errors}
    assert by_row[3]["value"] == "一百万"
    late = next(e for e in errors if e["value"] == LATE)
    assert (late["column"], late["rule"], late["code"]) == ("派遣日期", "R8", "guard_refused")
    assert "2025-10-23" in late["message_zh"]  # the deadline, 15 working days of 2025-09-26


def test_a_file_refused_only_by_the_rules_is_refused(
    wf: Any, registered: int, tmp_path: Path
) -> None:
    """A dispatch 20 working days after signing (R8) and one without training (R14), in two
    rows: both reported, ``GuardRefused`` (exit 4), nothing written."""
    path = workbook(
        tmp_path / "a.xlsx",
        [
            row("in_service", 派遣日期=LATE),
            row("draft"),
            row("in_service", 培训日期=None, 培训学时=None),
        ],
    )
    with pytest.raises(GuardRefused) as exc:
        wf.import_projects(path)
    assert errors_of(exc) == {(2, "派遣日期", "R8"), (4, "培训日期", "R14")}
    assert written(wf) == NOTHING


def test_a_missing_header_is_reported_at_the_header_row(wf: Any, tmp_path: Path) -> None:
    headers = [h for h in HEADERS if h not in ("合同形式", "派遣人员")]
    path = workbook(tmp_path / "a.xlsx", [row("in_service")], headers)
    with pytest.raises(InvalidInput) as exc:
        wf.import_projects(path)
    assert errors_of(exc) == {(1, "合同形式", None)}
    headers = [h for h in HEADERS if h != "派遣人员"]  # needed by in_service rows only
    path = workbook(tmp_path / "b.xlsx", [row("draft")], headers)
    assert wf.import_projects(path).created == 1
    path = workbook(tmp_path / "c.xlsx", [row("in_service")], headers)
    with pytest.raises(InvalidInput) as exc:
        wf.import_projects(path)
    assert errors_of(exc) == {(1, "派遣人员", None)}


def test_headers_and_separators_may_be_full_width_or_ascii(
    wf: Any, registered: int, tmp_path: Path
) -> None:
    headers = [h.replace("（月）", "(月)") for h in HEADERS] + ["备注"]
    values = row(
        "contracted",
        服务内容="入户核查：16；回访：2；",
        预算="1,200,000.00",
        采购方式="single_source",
        合同形式="entrustment",
        目标状态="已签约",
        合同金额="999999.9",
    )
    values["合同期限(月)"] = values.pop("合同期限（月）")
    values["备注"] = "原台账第 7 页"
    report = wf.import_projects(workbook(tmp_path / "a.xlsx", [values], headers))
    assert report.ignored_columns == ["备注"]
    view = wf.project(report.rows[0].project_id)
    assert [(i["name"], i["quantity"]) for i in view.data["items"]] == [
        ("入户核查", "16"),
        ("回访", "2"),
    ]
    assert view.data["budget"] == "1200000.00"
    assert view.data["procurement_method"] == "single_source"
    assert view.data["contract"]["form"] == "entrustment"
    assert view.data["contract"]["price"] == "999999.90"


def test_what_is_not_a_workbook_is_refused_without_writing(wf: Any, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        wf.import_projects(tmp_path / "missing.xlsx")
    text = tmp_path / "ledger.xlsx"
    text.write_text("标题,购买主体\n", encoding="utf-8")
    damaged = tmp_path / "damaged.xlsx"
    whole = workbook(tmp_path / "whole.xlsx", [row("draft")]).read_bytes()
    damaged.write_bytes(whole[: len(whole) // 2])
    for path in (text, damaged):
        with pytest.raises(ConfigurationError) as exc:
            wf.import_projects(path)
        assert exc.value.field == "file"
    empty = workbook(tmp_path / "empty.xlsx", [])
    with pytest.raises(InvalidInput) as bad:
        wf.import_projects(empty)
    assert errors_of(bad) == {(2, None, None)}
    assert written(wf) == NOTHING


def test_the_workbook_is_read_whatever_its_name(wf: Any, tmp_path: Path) -> None:
    path = workbook(tmp_path / "a.xlsx", [row("draft")])
    renamed = tmp_path / "台账.dat"
    path.rename(renamed)
    assert wf.import_projects(renamed).created == 1


def test_a_purchaser_without_default_bodies_names_them_in_three_columns(
    wf: Any, tmp_path: Path
) -> None:
    wolong = {
        "标题": "社会救助服务",
        "购买主体": "卧龙区民政局",
        "预算": "500000",
        "服务内容": "入户核查:4",
    }
    path = workbook(tmp_path / "a.xlsx", [row("approved", **wolong)])
    with pytest.raises(InvalidInput) as exc:
        wf.import_projects(path, policy="nanyang-2019")
    assert errors_of(exc) == {(2, "购买主体", "R1")}
    headers = [*HEADERS, "本级人民政府", "财政局", "审计局"]
    bodies = {"本级人民政府": "卧龙区人民政府", "财政局": "卧龙区财政局", "审计局": None}
    path = workbook(tmp_path / "b.xlsx", [row("approved", **wolong, **bodies)], headers)
    with pytest.raises(InvalidInput) as exc:
        wf.import_projects(path, policy="nanyang-2019")
    assert errors_of(exc) == {(2, "审计局", "R1")}
    bodies["审计局"] = "卧龙区审计局"
    path = workbook(tmp_path / "c.xlsx", [row("approved", **wolong, **bodies)], headers)
    report = wf.import_projects(path, policy="nanyang-2019")
    view = wf.project(report.rows[0].project_id)
    assert (view.policy, view.state) == ("nanyang-2019", "approved")
    finance = {e.org for e in wf.history(view.id) if e.event == "review_budget"}
    assert finance == {"卧龙区财政局"}


def test_the_budget_floor_applies_to_imported_plans(wf: Any, tmp_path: Path) -> None:
    """R18 (Jilin 1 %): a plan stating no assistance funds, or too little budget, is refused,
    at its cell; the rows before count toward the purchaser's year (as if entered in order)."""
    jilin = {
        "购买主体": "长春市民政局",
        "本级人民政府": "长春市人民政府",
        "财政局": "长春市财政局",
        "审计局": "长春市审计局",
    }
    headers = [*HEADERS, "本级人民政府", "财政局", "审计局", "社会救助专项经费"]
    no_funds = row("approved", **jilin)
    small = row("approved", **jilin, 预算=600000, 社会救助专项经费=100000000)
    enough = row("approved", **jilin, 预算=1200000, 社会救助专项经费=100000000)
    with pytest.raises(GuardRefused) as exc:
        wf.import_projects(
            workbook(tmp_path / "a.xlsx", [no_funds, small, enough], headers), policy="jilin-2017"
        )
    # row 2: no funds; row 3: 600,000 alone is below 1 % of 100,000,000
    assert errors_of(exc) == {(2, "社会救助专项经费", "R18"), (3, "预算", "R18")}
    # after a plan of 1,200,000 of the same purchaser and year, 600,000 passes
    report = wf.import_projects(
        workbook(tmp_path / "b.xlsx", [enough, small], headers), policy="jilin-2017"
    )
    assert [r.state for r in report.rows] == ["approved", "approved"]


def test_a_contractor_registered_twice_under_one_name_is_ambiguous(
    wf: Any, registered: int, tmp_path: Path
) -> None:
    contractor(wf, name=XINGHAI, qualifications=QUALIFIED)
    with pytest.raises(InvalidInput) as exc:
        wf.import_projects(workbook(tmp_path / "a.xlsx", [row("contracted")]))
    assert errors_of(exc) == {(2, "承接主体", "R4")}
    assert "2" in exc.value.details["errors"][0]["message_en"]


def test_a_host_transaction_holds_the_import(wf: Any, registered: int, tmp_path: Path) -> None:
    path = workbook(tmp_path / "a.xlsx", [row("in_service")])
    with wf.engine.connect() as conn, conn.begin() as tx:
        report = wf.import_projects(path, connection=conn)
        pid = report.rows[0].project_id
        assert wf.project(pid, connection=conn).state == "in_service"
        tx.rollback()
    assert written(wf) == NOTHING
    with wf.engine.connect() as conn, conn.begin():
        wf.import_projects(path, connection=conn)
    assert written(wf)["projects"] == 1
    assert wf.import_projects(path).already_imported


def test_money_from_a_number_cell_is_read_exactly(wf: Any, tmp_path: Path) -> None:
    """A third computed in a spreadsheet (0.3333333333333333) is refused, not rounded; a typed
    1234567.89 is 1234567.89 (the decimal the cell shows, never float arithmetic)."""
    path = workbook(
        tmp_path / "a.xlsx",
        [row("draft", 预算=1234567.89), row("draft", 预算=1 / 3)],
    )
    with pytest.raises(InvalidInput) as exc:
        wf.import_projects(path)
    assert errors_of(exc) == {(3, "预算", "R1")}
    report = wf.import_projects(workbook(tmp_path / "b.xlsx", [row("draft", 预算=1234567.89)]))
    assert Decimal(wf.project(report.rows[0].project_id).data["budget"]) == Decimal("1234567.89")


def test_an_import_publishes_its_releases_at_its_end(
    wf: Any, registered: int, tmp_path: Path
) -> None:
    """An import is one long transaction: its releases wait until its end, so the public feed's
    lock (PostgreSQL: held from a release's insert to the commit, to keep the feed's ids in
    commit order) is taken for the commit only, not while thousands of rows run, with every
    other public event in the database queued behind it."""
    path = workbook(tmp_path / "a.xlsx", [row("in_service"), row("approved", 标题="第二个项目")])
    during: list[tuple[int, int]] = []
    feed_lock = (
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 1735423747"
        " AND objid = 1 AND granted"  # workflow.store._FEED_LOCK_CLASS, FEED_RELEASES
    )

    def probe(conn: Any, *args: Any, **kwargs: Any) -> None:
        mine = conn.execute(select(func.count()).select_from(release_t)).scalar_one()
        locked = 0
        if conn.dialect.name == "postgresql":
            with wf.engine.connect() as other:
                locked = other.exec_driver_sql(feed_lock).scalar_one()
        during.append((mine, locked))

    wf._projects.on_written(probe)  # a listener in the events' own transaction
    report = wf.import_projects(path)
    assert len(during) > 5 and set(during) == {(0, 0)}  # nothing published, no lock, meanwhile
    released = wf.disclosure.feed()["releases"]
    pids = [r.project_id for r in report.rows]
    assert {r["ocid"].rsplit("-", 1)[1] for r in released} == {str(p) for p in pids}
    for pid in pids:  # each project's releases in its trail's order
        mine = [r["id"] for r in released if r["ocid"].endswith(f"-{pid}")]
        assert mine == [r["id"] for r in wf.disclose(pid)["releases"]]
