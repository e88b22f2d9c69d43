"""Public disclosure (issue #9) on SQLite and PostgreSQL: OCDS releases published in the
event's own transaction, valid against the shipped schema and libcoveocds, coherent milestones,
compiled records, nothing personal in any public output, backfill, published anchors checked
over a real HTTP server, and ledgers tied to the audit chain."""

from __future__ import annotations

import csv
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from ocds_check import check_package, incoherent, release_validator, schema_errors
from openpyxl import load_workbook
from sqlalchemy import delete, select
from support import (
    CLERK,
    CONTRACTOR,
    DAWUKOU_EVALUATORS,
    EVALUATOR,
    FINANCE,
    GOV,
    at,
    contractor,
    new_project,
    sign_data,
    trained,
)

from states.calendar import WorkingDayCalendar
from states.errors import GuardRefused, InvalidInput, NotFound
from workflow import Workflow
from workflow.cli import main
from workflow.services.disclosure import load_anchor
from workflow.tables import anchor_t, release_t

STAFF = [{"name": "张晓梅", "education": "大专"}, {"name": "李建国", "education": "本科"}]
REVIEWERS = ["王志远", "赵丽华", "孙建平"]
ID_NUMBER = "64020219900307123X"
MOBILE = "13995212345"
LANDLINE = "0952-2012345"
ADDRESS = "人民路12号3栋2单元"
FINDINGS = (
    f"核查员张晓梅（身份证 {ID_NUMBER}，手机 {MOBILE}）未按时入户；住户住在{ADDRESS}；"
    f"复核请电 {LANDLINE}，或找李建国"
)
#: what must never appear in a public output
PRIVATE = [*(s["name"] for s in STAFF), *REVIEWERS, ID_NUMBER, MOBILE, LANDLINE, "12号3栋"]
NGO = "星海社会工作服务中心"

#: the tags of the walk's releases, in order
TAGS = [
    "planning",
    "tender",
    "tenderUpdate",
    "award",
    "contract",
    "implementation",  # training before duty (R14)
    "implementation",  # dispatch
    "implementation",  # pay 1
    "implementation",  # approve subcontract
    "implementation",  # subcontract
    "implementation",  # order rectification
    "implementationUpdate",  # rectification completed
    "implementation",  # midterm
    "implementation",  # pay 2 (late)
    "implementation",  # final
    "implementation",  # pay 3
    "implementation",  # accept
    "contractTermination",  # close
]


def walk(wf: Any, *, to: str = "closed") -> int:
    """A project from 立项 to 结项 whose staff, reviewers and findings hold personal data."""
    cid = contractor(wf)
    other = contractor(wf, name="宁夏阳光社工服务社")
    pid = new_project(wf)

    def fire(event: str, actor: Any, day: str, **data: Any) -> None:
        wf.fire(pid, event, actor=actor, at=at(day), **data)

    fire("submit", CLERK, "2025-08-01")
    fire("review_budget", FINANCE, "2025-08-04", approved=True, note=f"经办人电话 {MOBILE}")
    fire("approve", GOV, "2025-08-05")
    fire("publish_notice", CLERK, "2025-08-06", method="open_tender", notice="公开招标公告第1号")
    fire(
        "record_review",
        CLERK,
        "2025-09-10",
        reviewers=REVIEWERS,
        criteria={"quality": 70, "price": 30},
        scores={str(cid): 90, str(other): 85},
    )
    fire("award", CLERK, "2025-09-15", contractor_id=cid)
    fire("sign_contract", CLERK, "2025-09-26", **sign_data())
    fire("record_training", CLERK, "2025-10-20", **trained("2025-10-20"))
    fire("dispatch_staff", CLERK, "2025-10-20", on="2025-10-20", staff=STAFF)
    fire("pay", FINANCE, "2025-10-21", tranche=1, amount="300000.00", on="2025-10-21")
    fire(
        "request_subcontract",
        CONTRACTOR,
        "2025-11-03",
        part="心理疏导",
        to="宁夏心理咨询中心",
        share="0.2",
    )
    fire("approve_subcontract", CLERK, "2025-11-04", request_id=1)
    fire("subcontract", CONTRACTOR, "2025-11-05", request_id=1)
    fire("order_rectification", CLERK, "2026-01-05", due="2026-01-20", findings=FINDINGS)
    if to == "rectifying":
        return pid
    fire("complete_rectification", CLERK, "2026-01-15", on="2026-01-15")
    fire(
        "evaluate",
        EVALUATOR,
        "2026-03-10",
        kind="midterm",
        score=85,
        satisfaction=90,
        on="2026-03-10",
        evaluators=DAWUKOU_EVALUATORS,
    )
    fire("pay", FINANCE, "2026-04-10", tranche=2, amount="300000.00", on="2026-04-10")
    fire(
        "evaluate",
        EVALUATOR,
        "2026-09-01",
        kind="final",
        score=88,
        satisfaction=92,
        on="2026-09-01",
        evaluators=DAWUKOU_EVALUATORS,
    )
    fire("pay", FINANCE, "2026-09-08", tranche=3, amount="400000.00", on="2026-09-08")
    fire("accept", CLERK, "2026-09-25", on="2026-09-25")
    fire("close", CLERK, "2026-09-28")
    return pid


@pytest.fixture(autouse=True)
def every_package_is_valid(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test on ``wf``: every release it published, in one package, passes every
    check (schema, coherence, libcoveocds)."""
    wf = request.getfixturevalue("wf") if "wf" in request.fixturenames else None
    yield
    if wf is not None:
        check_package(wf.disclosure.packages())
        check_package(wf.disclosure.packages(ocid_prefix="ocds-zzz999"))


def texts(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


# -- releases -------------------------------------------------------------------------------------


def test_each_public_event_publishes_one_valid_release(wf: Any) -> None:
    pid = walk(wf)
    package = wf.disclose(pid)
    check_package(package)
    releases = package["releases"]
    assert [r["tag"] for r in releases] == [[t] for t in TAGS]
    seqs = [int(r["id"].rsplit("-", 1)[1]) for r in releases]
    history = {e.seq: e for e in wf.history(pid)}
    # each release is dated at its audit entry, and only public events published one
    for release, seq in zip(releases, seqs, strict=True):
        assert release["ocid"] == f"ocds-gpw000-{pid}"
        assert release["date"] == history[seq].at.astimezone(at("2025-01-01").tzinfo).isoformat()
    assert {history[s].event for s in seqs}.isdisjoint(
        {"create_project", "submit", "review_budget", "request_subcontract"}
    )
    last = releases[-1]
    assert last["tender"]["procurementMethod"] == "open"
    assert releases[2]["tender"]["numberOfTenderers"] == 2  # the review names both
    contract = last["contracts"][0]
    assert contract["status"] == "terminated" and contract["value"]["amount"] == 1000000
    paid = {t["id"]: t["value"]["amount"] for t in contract["implementation"]["transactions"]}
    assert sorted(paid.values()) == [300000, 300000, 400000]
    roles = {p["name"]: p["roles"] for p in last["parties"]}
    assert sorted(roles[NGO]) == ["payee", "supplier", "tenderer"]
    assert roles["大武口区民政局"] == ["buyer", "procuringEntity"]
    assert {p["name"]: p["roles"] for p in releases[2]["parties"]}["宁夏阳光社工服务社"] == [
        "tenderer"
    ]
    milestones = {m["id"].split("-", 3)[-1]: m for m in contract["implementation"]["milestones"]}
    assert milestones["payment_2"]["status"] == "met"
    assert "逾期" in milestones["payment_2"]["description"]  # paid after its deadline
    assert milestones["evaluation-result-2"]["description"].startswith("得分 88.00")


def test_milestones_are_coherent_in_every_release(wf: Any) -> None:
    pid = walk(wf, to="rectifying")
    releases = wf.disclose(pid)["releases"]
    statuses = set()
    for release in releases:
        assert incoherent(release) == []
        for contract in release.get("contracts", []):
            for m in contract.get("implementation", {}).get("milestones", []):
                statuses.add(m["status"])
                assert ("dateMet" in m) == (m["status"] == "met")
    assert {"met", "scheduled"} <= statuses
    # the checker itself finds an incoherent milestone
    broken = json.loads(json.dumps(releases[-1]))
    broken["contracts"][0]["implementation"]["milestones"][0].pop("dateMet")
    assert incoherent(broken) != []


def test_compiled_records_merge_the_releases(wf: Any) -> None:
    pid = walk(wf)
    records = wf.disclosure.records([pid])
    (record,) = records["records"]
    compiled = record["compiledRelease"]
    assert compiled["tag"] == ["compiled"]
    assert list(release_validator().iter_errors(compiled)) == []
    assert record["ocid"] == compiled["ocid"] == f"ocds-gpw000-{pid}"
    # the latest value of each field: the tender first planned, then complete
    assert compiled["tender"]["status"] == "complete"
    assert compiled["awards"][0]["date"].startswith("2025-09-15")  # from the award's release
    assert len(record["releases"]) == len(TAGS)


def test_nothing_personal_appears_in_any_public_output(wf: Any) -> None:
    pid = walk(wf)
    outputs = [
        wf.disclose(pid),
        wf.disclosure.packages(),
        wf.disclosure.records(),
        wf.disclosure.feed(limit=1000),
        wf.disclosure.public_project(pid),
        wf.disclosure.redact_text(FINDINGS, project_id=pid),
    ]
    for output in outputs:
        text = texts(output)
        for secret in PRIVATE:
            assert secret not in text, (secret, text[:300])
    # what the public is owed stays: the contractor, amounts, method, scores and results
    public = texts(outputs[0])
    for shown in (NGO, "1000000", "open", "得分 85.00", "通过 / passed", "未按时入户"):
        assert shown in public
    page = outputs[4]
    assert page["staff_count"] == 2 and page["paid_total"] == "1000000.00"
    assert all("name" not in s for s in page["staff"])
    # the redaction itself: patterns and known names replaced, text around them kept
    masked = wf.disclosure.redact_text(FINDINGS, names=["张晓梅"])
    assert "李建国" in masked  # a name the call was not told of
    assert "〔身份证号已隐去〕" in masked and "〔电话已隐去〕" in masked and "＊＊" in masked


def test_a_refused_event_and_a_rolled_back_host_transaction_publish_nothing(wf: Any) -> None:
    pid = new_project(wf)
    wf.fire(pid, "submit", actor=CLERK, at=at("2025-08-01"))
    wf.fire(pid, "review_budget", actor=FINANCE, at=at("2025-08-04"), approved=True)
    with wf.engine.connect() as conn:
        tx = conn.begin()
        wf.fire(pid, "approve", actor=GOV, at=at("2025-08-05"), connection=conn)
        inside = wf.disclose(pid, connection=conn)["releases"]
        assert [r["tag"] for r in inside] == [["planning"]]  # seen inside only
        tx.rollback()
    assert wf.disclose(pid)["releases"] == []
    wf.fire(pid, "approve", actor=GOV, at=at("2025-08-06"))
    wf.fire(
        pid,
        "publish_notice",
        actor=CLERK,
        at=at("2025-08-07"),
        method="single_source",
        notice="单一来源公示",
    )
    with pytest.raises(GuardRefused):  # R4: no such registered contractor
        wf.fire(
            pid,
            "record_review",
            actor=CLERK,
            at=at("2025-08-08"),
            reviewers=REVIEWERS,
            criteria={"quality": 70, "price": 30},
            scores={"999": 90},
        )
    releases = wf.disclose(pid)["releases"]
    assert [r["tag"] for r in releases] == [["planning"], ["tender"]]
    assert releases[1]["tender"]["procurementMethod"] == "direct"
    assert releases[1]["tender"]["procurementMethodDetails"].startswith("单一来源")


def test_backfill_publishes_projects_made_before_disclosure(wf: Any) -> None:
    pid = walk(wf)
    draft = new_project(wf, title="草拟中的项目")
    with wf.engine.begin() as conn:  # as a database from before issue #9: no releases
        conn.execute(delete(release_t))
    assert wf.disclose(pid)["releases"] == []
    assert wf.disclosure.backfill() == [pid]  # the draft has nothing public
    assert wf.disclosure.backfill() == []  # once
    package = wf.disclose(pid)
    check_package(package)
    (release,) = package["releases"]
    assert release["tag"] == list(dict.fromkeys(TAGS))
    assert release["awards"][0]["date"].startswith("2025-09-15")  # from the trail
    assert release["tender"]["tenderPeriod"]["startDate"].startswith("2025-08-06")
    assert wf.disclose(draft)["releases"] == []


def test_the_ocid_prefix_is_configurable(db_url: str, clock: Any) -> None:
    wf = Workflow.open(db_url, clock=clock, ocid_prefix="ocds-abc123")
    try:
        pid = walk(wf, to="rectifying")
        release = wf.disclose(pid)["releases"][0]
        assert release["ocid"] == f"ocds-abc123-{pid}"
        assert release["id"].startswith(f"ocds-abc123-{pid}-")
        shown = wf.disclose(pid, ocid_prefix="ocds-xyz999")["releases"][0]
        assert shown["ocid"] == f"ocds-xyz999-{pid}"
        check_package(wf.disclose(pid, ocid_prefix="ocds-xyz999"))
        with pytest.raises(InvalidInput):
            wf.disclose(pid, ocid_prefix="bad prefix")
    finally:
        wf.close()


def test_the_feed_pages_in_publication_order(wf: Any) -> None:
    pid = walk(wf, to="rectifying")
    first = wf.disclosure.feed(limit=3)
    assert len(first["releases"]) == 3 and first["next"] is not None
    rest = wf.disclosure.feed(after_id=first["next"], limit=1000)
    ids = [r["id"] for r in first["releases"] + rest["releases"]]
    assert ids == [r["id"] for r in wf.disclose(pid)["releases"]]
    assert rest["next"] is None and first["etag"] == rest["etag"]
    assert first["last_modified"] is not None


def test_a_release_that_commits_late_is_not_passed_by_a_harvester(
    pg_server: Any, clock: Any
) -> None:
    """PostgreSQL hands out a release's id at its insert, not at its commit: a release that took
    id n and committed after n + 1 would sit behind a harvester that had already paged past
    n + 1, never to be seen. The feed lock makes the ids' order the commits' order: a second
    publisher waits until the first commits (SQLite: one writer at a time, by BEGIN IMMEDIATE)."""
    wf = Workflow.open(pg_server.url(pg_server.create_database()), clock=clock)
    try:
        pids = [new_project(wf, title=f"项目{i}") for i in range(2)]
        for pid in pids:
            wf.fire(pid, "submit", actor=CLERK, at=at("2025-08-01"))
            wf.fire(pid, "review_budget", actor=FINANCE, at=at("2025-08-04"), approved=True)
        late, early = pids
        done: list[Any] = []
        with wf.engine.connect() as conn:
            tx = conn.begin()
            wf.fire(late, "approve", actor=GOV, at=at("2025-08-05"), connection=conn)
            writer = threading.Thread(
                target=lambda: done.append(
                    wf.fire(early, "approve", actor=GOV, at=at("2025-08-05"))
                )
            )
            writer.start()
            waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            for _ in range(3000):  # until the second publisher waits for the first (or ended)
                with wf.engine.connect() as probe:
                    if probe.exec_driver_sql(waiting).scalar() or not writer.is_alive():
                        break
                threading.Event().wait(0.01)
            assert writer.is_alive() and not done  # it waits for the first publisher
            assert wf.disclosure.feed()["releases"] == []  # a harvester sees neither yet
            tx.commit()
        writer.join()
        releases = wf.disclosure.feed()["releases"]
        assert [r["ocid"].rsplit("-", 1)[1] for r in releases] == [str(late), str(early)]
        # and a harvester that had read the first page, the late one's, finds the other after it
        first = wf.disclosure.feed(limit=1)
        assert [r["id"] for r in wf.disclosure.feed(after_id=first["next"])["releases"]] == [
            releases[1]["id"]
        ]
    finally:
        wf.close()


# -- anchors --------------------------------------------------------------------------------------


@contextmanager
def serving(files: dict[str, bytes]) -> Iterator[int]:
    """A real HTTP server on 127.0.0.1 answering GET with ``files`` (404 otherwise)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_published_anchors_are_checked_from_a_url(
    wf: Any, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    pid = walk(wf, to="rectifying")
    published = wf.disclosure.publish_anchor(at("2026-01-06"))
    assert wf.disclosure.publish_anchor_if_due(at("2026-01-06", 18)) is None  # one a day
    assert wf.disclosure.publish_anchor_if_due(at("2026-01-07", 9)) is not None
    feed = wf.disclosure.anchors()
    assert [a["id"] for a in feed] == [published["id"] + 1, published["id"]]
    body = json.dumps({"anchors": [published]}, ensure_ascii=False).encode()
    with serving({"/public/anchors": body}) as port:
        url = f"http://127.0.0.1:{port}/public/anchors"
        assert load_anchor(url)["digest"] == published["digest"]
        code, out, _ = run(capsys, "--db", db_url, "verify", "--anchor", url)
        assert code == 0, out
        # history rewritten after publication: the anchor no longer matches
        with wf.engine.begin() as conn:
            from workflow.tables import audit_t

            last = conn.execute(
                select(audit_t.c.id)
                .where(audit_t.c.stream == f"project:{pid}")
                .order_by(audit_t.c.seq.desc())
                .limit(1)
            ).scalar_one()
            conn.execute(audit_t.delete().where(audit_t.c.id == last))
        code, out, _ = run(capsys, "--db", db_url, "verify", "--anchor", url)
        assert code == 7
        code, _, err = run(capsys, "--db", db_url, "verify", "--anchor", url + "/missing")
        assert code == 3 and "HTTP 404" in err
    code, _, err = run(capsys, "--db", db_url, "verify", "--anchor", url)  # server gone
    assert code == 3 and url in err


def test_gpw_anchor_publish(db_url: str, clock: Any, capsys: pytest.CaptureFixture[str]) -> None:
    wf = Workflow.open(db_url, clock=clock)
    walk(wf, to="rectifying")
    wf.close()
    code, out, _ = run(capsys, "--db", db_url, "--json", "anchor", "--publish")
    assert code == 0
    wf = Workflow.open(db_url, clock=clock)
    try:
        with wf.engine.connect() as conn:
            rows = list(conn.execute(select(anchor_t.c.digest)))
        assert [r.digest for r in rows] == [json.loads(out)["digest"]]
    finally:
        wf.close()


# -- ledgers --------------------------------------------------------------------------------------


def test_the_ledger_ties_every_row_to_a_verified_entry(wf: Any, tmp_path: Path) -> None:
    pid = walk(wf)
    ledger = wf.ledger([pid], date_from="2025-07-01", date_to="2026-12-31")
    trail = {e.hash for e in wf.history(pid)}
    assert wf.verify().ok
    assert ledger.hashes() and ledger.hashes() <= trail
    path = tmp_path / "ledger.xlsx"
    ledger.write_xlsx(path)
    book = load_workbook(path)
    titles = [
        "计划与审批",
        "采购",
        "合同",
        "人员派遣",
        "资金拨付",
        "绩效评价",
        "整改",
        "分包",
        "通知",
        "财政拨付（R7、R20）",
    ]
    assert book.sheetnames == titles
    found: set[str] = set()
    for ws in book.worksheets:
        headers = [c.value for c in ws[1]]
        assert ws.freeze_panes == "A2"
        hash_col = next(i for i, h in enumerate(headers) if str(h).startswith("审计哈希"))
        for row in ws.iter_rows(min_row=2):
            value = row[hash_col].value
            if value:
                found.add(value)
            for cell in row:
                if str(headers[cell.column - 1]).endswith("（元）") and cell.value is not None:
                    assert cell.number_format == "#,##0.00"
    assert found == ledger.hashes()
    staff = book["人员派遣"]
    assert [r[14].value for r in staff.iter_rows(min_row=2)] == ["张晓梅", "李建国"]
    assert staff["A2"].number_format == "yyyy-mm-dd"
    assert staff["B2"].number_format == "yyyy-mm-dd hh:mm:ss"  # Asia/Shanghai time
    payments = [r for r in book["资金拨付"].iter_rows(min_row=2, values_only=True)]
    assert [p[8] for p in payments] == [300000, 300000, 400000]


def test_the_finance_sheet_counts_days_late(wf: Any) -> None:
    pid = walk(wf)
    sheet = wf.ledger([pid]).sheet("finance")
    rows = {r[4]: r for r in sheet.rows}  # by tranche
    late = rows[2]
    due, paid_on = late[6], late[0]
    assert isinstance(due, date) and paid_on == date(2026, 4, 10) and due < paid_on
    assert late[8] == (paid_on - due).days
    assert late[7] == WorkingDayCalendar.official().working_days_between(due, paid_on) > 0
    assert late[12] == "已付（逾期）" and rows[1][7] == 0 and rows[1][12] == "已付"
    assert late[9] == "否"  # not an SME (R20)


def test_the_ledger_keeps_to_its_period_and_projects(wf: Any) -> None:
    pid = walk(wf)
    other = new_project(wf, title="另一个项目")
    whole = wf.ledger()
    assert {r[2] for r in whole.sheet("plans").rows} == {pid, other}
    autumn = wf.ledger([pid], date_from=date(2025, 10, 1), date_to=date(2025, 10, 31))
    assert [r[0] for r in autumn.sheet("payments").rows] == [date(2025, 10, 21)]
    assert autumn.sheet("plans").rows == []
    with pytest.raises(InvalidInput):
        wf.ledger([pid], date_from="2026-01-01", date_to="2025-01-01")
    with pytest.raises(InvalidInput):
        wf.ledger([pid], date_from="yesterday")


def test_gpw_ledger_and_disclose_write_files(
    db_url: str, clock: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wf = Workflow.open(db_url, clock=clock)
    pid = walk(wf)
    wf.close()
    out = tmp_path / "ledger.zip"
    code, text, _ = run(
        capsys,
        "--db",
        db_url,
        "ledger",
        str(pid),
        "--from",
        "2025-01-01",
        "--to",
        "2026-12-31",
        "--format",
        "csv",
        "--out",
        str(out),
    )
    assert code == 0, text
    with zipfile.ZipFile(out) as archive:
        names = sorted(archive.namelist())
        payments = archive.read("payments.csv").decode("utf-8")
    assert "finance.csv" in names and "staff.csv" in names and payments.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(payments.lstrip("\ufeff"))))
    assert rows[0][0] == "日期" and len(rows) == 4
    assert run(capsys, "--db", db_url, "ledger", "--format", "pdf", "--out", str(out))[0] == 3
    assert run(capsys, "--db", db_url, "ledger", "999", "--out", str(out))[0] == 5
    released = tmp_path / "releases.json"
    code, text, _ = run(capsys, "--db", db_url, "disclose", str(pid), "--out", str(released))
    assert code == 0, text
    check_package(json.loads(released.read_text(encoding="utf-8")))
    code, text, _ = run(
        capsys,
        "--db",
        db_url,
        "--json",
        "disclose",
        "--records",
        "--backfill",
        "--out",
        str(released),
    )
    assert code == 0 and json.loads(text)["backfilled"] == []
    records = json.loads(released.read_text(encoding="utf-8"))
    assert records["records"][0]["compiledRelease"]["ocid"].endswith(f"-{pid}")
    assert run(capsys, "--db", db_url, "disclose", "999")[0] == 5


def test_disclosure_amounts_are_exact(wf: Any) -> None:
    pid = walk(wf, to="rectifying")
    package = wf.disclose(pid)
    assert schema_errors(package) == []
    amounts = [
        t["value"]["amount"]
        for c in package["releases"][-1]["contracts"]
        for t in c["implementation"]["transactions"]
    ]
    assert [Decimal(str(a)) for a in amounts] == [Decimal("300000")]


def test_one_record_by_ocid_and_the_public_project_list(wf: Any) -> None:
    pid = walk(wf)
    draft = new_project(wf, title="草拟中的项目")
    found = wf.disclosure.record(f"ocds-gpw000-{pid}")
    (record,) = found["records"]
    assert record["ocid"] == f"ocds-gpw000-{pid}" and record["compiledRelease"]["tag"] == [
        "compiled"
    ]
    for missing in (f"ocds-gpw000-{draft}", "ocds-other-1", "ocds-gpw000-x", "nonsense"):
        with pytest.raises(NotFound):
            wf.disclosure.record(missing)
    listed = wf.disclosure.public_projects()
    assert [p["id"] for p in listed["items"]] == [pid]  # a draft is not public
    (shown,) = listed["items"]
    assert shown["contractor"] == NGO and shown["price"] == "1000000.00"
    assert shown["paid_total"] == "1000000.00" and shown["late"] is True
    assert listed["next"] is None
    assert texts(listed).count("张晓梅") == 0


def test_the_worker_publishes_one_anchor_a_day(wf: Any) -> None:
    from workflow.scheduler import Worker

    walk(wf, to="rectifying")
    worker = Worker(wf)
    worker._tick()
    worker._tick()  # the same day by the workflow's clock: nothing more
    (published,) = wf.disclosure.anchors()
    assert published["heads"] == wf.anchor()["heads"]
    assert wf.verify(anchor=published).ok
