"""R20 on a real database (SQLite and PostgreSQL): disputes and partial payments through the
facade, late interest on the project page and in the finance ledger, and the annual report of
late payments to small and medium enterprises (保障中小企业款项支付条例 第十五、十七、十八条), its
rows and totals worked by hand.

The world (every due day by hand on the official calendar; the SME cap is 30 calendar days):

- P1 大武口区民政局, SME 甲, in effect Mon 2026-01-05: payment_1 due 01-26 (15 working days;
  the cap, 02-04, is later). 50,000 disputed on 01-10; the undisputed 250,000 paid 01-30 (4
  days late: 500.00); the dispute resolved Tue 02-10, 30,000 found due by 03-09 (15 working
  days across the Spring Festival, make-up Saturdays 02-14 and 02-28 counted); paid 03-20 (11
  days: 165.00); 20,000 waived.
- P2 大武口区民政局, not an SME, paid 02-27 late: in no report.
- P3 星海镇人民政府, SME 乙, in effect Tue 2026-12-01: due 12-22; paid 2027-01-08.
- P4 大武口区民政局, SME 甲, in effect Mon 2025-11-03: due 11-24; paid 2025-12-10 (16 days).
- P5 大武口区民政局, SME 甲, in effect Mon 2025-12-01: due 12-22; paid 2026-01-15 (24 days,
  across the year boundary).
- P6 大武口区民政局, SME 甲, in effect Tue 2026-01-20: due 02-10, paid on 02-10: on time.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from support import CLERK, CONTRACTOR, FINANCE, ITEMS, at, contractor, lifecycle, sign_data

from states.errors import Forbidden, GuardRefused, InvalidInput
from states.model import Actor
from workflow.cli import main
from workflow.services.scope import Scope

DAWUKOU = "大武口区民政局"
XINGHAI = "星海镇人民政府"
XINGHAI_CLERK = Actor(id="xh", role="purchaser", org=XINGHAI)
REPORT_DAY = at("2027-03-01")


def signed(
    wf: Any, cid: int, effective: str, *, clerk: Actor = CLERK, title: str = "入户核查", **over: Any
) -> int:
    """A project of ``clerk``'s organisation awarded to ``cid`` and signed, in effect on
    ``effective`` (1,000,000.00; Dawukou's 30/30/40)."""
    pid = wf.create_project(
        actor=clerk,
        at=at("2025-07-30"),
        title=title,
        purchaser=clerk.org,
        budget="1200000.00",
        items=ITEMS,
    )
    for _, event, actor, when, data in lifecycle(cid):
        wf.fire(pid, event, actor=clerk if actor is CLERK else actor, at=when, **data)
        if event == "award":
            break
    wf.fire(
        pid,
        "sign_contract",
        actor=clerk,
        at=at(effective),
        **sign_data(signed_on=effective, effective_on=effective, **over),
    )
    return pid


def pay(wf: Any, pid: int, amount: str, on: str, tranche: int = 1) -> Any:
    return wf.fire(pid, "pay", actor=FINANCE, at=at(on), tranche=tranche, amount=amount, on=on)


def dispute(wf: Any, pid: int, on: str, amount: str) -> Any:
    return wf.fire(
        pid,
        "dispute_payment",
        actor=CLERK,
        at=at(on),
        tranche=1,
        amount=amount,
        reason="三户入户核查记录不完整",
    )


def resolve(wf: Any, pid: int, on: str, found: str) -> Any:
    return wf.fire(
        pid,
        "resolve_dispute",
        actor=CLERK,
        at=at(on),
        dispute=1,
        found_due=found,
        on=on,
        reason="双方核对服务记录后确认",
    )


def sme(wf: Any, name: str) -> int:
    return contractor(wf, name=name, org_type="enterprise", sme=True)


def world(wf: Any) -> dict[str, int]:
    jia, yi = sme(wf, "小微社工甲"), sme(wf, "小微社工乙")
    big = contractor(wf, name="大型服务机构", org_type="enterprise")
    ids = {
        "P1": signed(wf, jia, "2026-01-05", title="P1"),
        "P2": signed(wf, big, "2026-01-05", title="P2"),
        "P3": signed(wf, yi, "2026-12-01", clerk=XINGHAI_CLERK, title="P3"),
        "P4": signed(wf, jia, "2025-11-03", title="P4"),
        "P5": signed(wf, jia, "2025-12-01", title="P5"),
        "P6": signed(wf, jia, "2026-01-20", title="P6"),
    }
    p1 = ids["P1"]
    dispute(wf, p1, "2026-01-10", "50000.00")
    pay(wf, p1, "250000.00", "2026-01-30")
    resolve(wf, p1, "2026-02-10", "30000.00")
    pay(wf, p1, "30000.00", "2026-03-20")
    pay(wf, ids["P2"], "300000.00", "2026-02-27")
    pay(wf, ids["P3"], "300000.00", "2027-01-08")
    pay(wf, ids["P4"], "300000.00", "2025-12-10")
    pay(wf, ids["P5"], "300000.00", "2026-01-15")
    pay(wf, ids["P6"], "300000.00", "2026-02-10")
    return ids


# -- disputes and partial payments ----------------------------------------------------------------


def test_R20_a_dispute_splits_a_tranche_and_pay_takes_its_parts(wf: Any) -> None:
    pid = signed(wf, sme(wf, "小微社工甲"), "2026-01-05")
    view = dispute(wf, pid, "2026-01-10", "50000.00")
    assert view.data["disputes"][0]["status"] == "open"
    # refused, and nothing written: the disputed part before its resolution; more than the
    # tranche; a second dispute; a contractor disputing
    before = wf.project(pid)
    with pytest.raises(GuardRefused) as err:
        pay(wf, pid, "300000.00", "2026-01-12")
    assert err.value.rule == "R20"
    with pytest.raises(GuardRefused) as err:
        dispute(wf, pid, "2026-01-12", "1.00")
    assert err.value.rule == "R20"
    with pytest.raises(Forbidden):
        wf.fire(
            pid,
            "dispute_payment",
            actor=CONTRACTOR,
            at=at("2026-01-12"),
            tranche=1,
            amount="1.00",
            reason="x",
        )
    assert wf.project(pid).to_dict() == before.to_dict()
    view = pay(wf, pid, "250000.00", "2026-01-30")
    with pytest.raises(GuardRefused) as err:
        pay(wf, pid, "50000.00", "2026-01-31")
    assert err.value.rule == "R20"
    with pytest.raises(GuardRefused) as err:
        resolve(wf, pid, "2026-02-10", "50000.01")
    assert err.value.rule == "R20"
    view = resolve(wf, pid, "2026-02-10", "30000.00")
    rest = view.deadline("payment_1#disputed")
    assert rest is not None and rest.due == date(2026, 3, 9) and rest.kind == "payment_1"
    assert [d.key for d in wf.project(pid).open_deadlines if d.kind == "payment_1"] == [
        "payment_1#disputed"
    ]
    view = pay(wf, pid, "30000.00", "2026-03-20")
    assert [(p.tranche, p.amount, p.on, p.late) for p in view.payments] == [
        (1, Decimal("250000.00"), date(2026, 1, 30), True),
        (1, Decimal("30000.00"), date(2026, 3, 20), True),
    ]
    with pytest.raises(GuardRefused) as err:  # the 20,000 found not owed is never paid
        pay(wf, pid, "20000.00", "2026-03-21")
    assert err.value.rule == "R7"
    events = [e.event for e in wf.history(pid)][-5:]
    assert events == ["sign_contract", "dispute_payment", "pay", "resolve_dispute", "pay"]
    assert wf.verify().ok


def test_R20_a_dispute_stays_off_the_public_outputs(wf: Any) -> None:
    pid = signed(wf, sme(wf, "小微社工甲"), "2026-01-05")
    dispute(wf, pid, "2026-01-10", "50000.00")
    shown = wf.disclosure.public_project(pid)
    assert "disputes" not in shown and "三户" not in json.dumps(shown, ensure_ascii=False)
    tags = [r["tag"] for r in wf.disclose(pid)["releases"]]
    assert tags[-1] == ["contract"]  # the dispute published nothing
    resolve(wf, pid, "2026-01-12", "50000.00")
    last = wf.disclose(pid)["releases"][-1]
    assert last["tag"] == ["implementationUpdate"]
    assert "双方核对" not in json.dumps(last, ensure_ascii=False)  # the reason is not published
    assert "disputes" not in wf.disclosure.public_project(pid)


def test_R20_the_project_page_shows_the_dispute_and_the_interest(wf: Any) -> None:
    pid = signed(wf, sme(wf, "小微社工甲"), "2026-01-05")
    dispute(wf, pid, "2026-01-10", "50000.00")
    pay(wf, pid, "250000.00", "2026-01-30")
    page = wf.details.project_detail(pid, Scope.all(), now=at("2026-01-31"))
    first = page.payments.tranches[0]
    assert first.status == "disputed" and first.dispute is not None
    assert (first.dispute["amount"], first.dispute["status"]) == (Decimal("50000.00"), "open")
    assert first.paid_amount == Decimal("250000.00")
    # 4 days late (01-27..01-30): 250,000 × 0.0005 × 4 = 500.00
    assert (first.days_late, first.interest) == (4, Decimal("500.00"))
    assert page.payments.sme and page.payments.late_interest_rate_per_day == Decimal("0.0005")
    resolve(wf, pid, "2026-02-10", "30000.00")
    page = wf.details.project_detail(pid, Scope.all(), now=at("2026-03-15"))
    first = page.payments.tranches[0]
    # the part found due is 6 days late on 03-15 and unpaid: 30,000 × 0.0005 × 6 = 90.00
    assert first.status == "overdue" and first.days_late == 6
    assert [(p["key"], p["interest"]) for p in first.parts] == [
        ("payment_1", Decimal("500.00")),
        ("payment_1#disputed", Decimal("90.00")),
    ]
    assert first.interest == Decimal("590.00") and page.payments.interest == Decimal("590.00")
    pay(wf, pid, "30000.00", "2026-03-20")
    page = wf.details.project_detail(pid, Scope.all(), now=at("2026-12-01"))
    first = page.payments.tranches[0]
    assert first.status == "paid" and first.paid_amount == Decimal("280000.00")
    assert first.interest == Decimal("665.00") and first.dispute["waived"] == Decimal("20000.00")
    assert page.to_dict()["payments"]["interest"] == "665.00"


def test_R20_no_interest_is_shown_for_a_contractor_that_is_not_an_sme(wf: Any) -> None:
    pid = signed(wf, contractor(wf, name="大型服务机构"), "2026-01-05")
    pay(wf, pid, "300000.00", "2026-02-27")
    page = wf.details.project_detail(pid, Scope.all(), now=at("2026-03-01"))
    first = page.payments.tranches[0]
    assert first.late and first.interest is None and page.payments.interest is None


def test_R20_the_finance_ledger_has_the_interest_of_each_payment(wf: Any) -> None:
    ids = world(wf)
    sheet = wf.ledger([ids["P1"], ids["P2"]]).sheet("finance")
    headers = list(sheet.headers)
    assert headers[-2:] == ["逾期利息日利率（R20）", "逾期利息（元）"]
    rows = {(r[1], r[5]): r for r in sheet.rows}
    undisputed = rows[(ids["P1"], Decimal("250000.00"))]
    # due 01-26, paid 01-30: 4 calendar days, 4 working days (01-27..01-30), 500.00
    assert (undisputed[6], undisputed[7], undisputed[8]) == (date(2026, 1, 26), 4, 4)
    assert (undisputed[-2], undisputed[-1]) == (Decimal("0.0005"), Decimal("500.00"))
    rest = rows[(ids["P1"], Decimal("30000.00"))]
    # the part found due: due 03-09, paid 03-20: 11 days, 9 working days (03-10..13, 16..20)
    assert (rest[6], rest[7], rest[8], rest[-1]) == (date(2026, 3, 9), 9, 11, Decimal("165.00"))
    big = rows[(ids["P2"], Decimal("300000.00"))]
    assert big[9] == "否" and (big[-2], big[-1]) == (None, None)
    # the dispute and its resolution are in the payments sheet
    notes = [(r[4], r[8]) for r in wf.ledger([ids["P1"]]).sheet("payments").rows]
    assert notes == [
        ("付款争议", Decimal("50000.00")),
        ("拨付资金", Decimal("250000.00")),
        ("解决付款争议", Decimal("30000.00")),
        ("拨付资金", Decimal("30000.00")),
    ]


def test_R20_an_unpaid_sme_tranche_in_the_finance_ledger_bears_interest_so_far(wf: Any) -> None:
    pid = signed(wf, sme(wf, "小微社工乙"), "2026-12-01", clerk=XINGHAI_CLERK)
    (row,) = wf.ledger([pid], date_to=date(2026, 12, 31)).sheet("finance").rows
    # due 12-22, unpaid at the period's end 12-31: 9 days, 300,000 × 0.0005 × 9 = 1,350.00
    assert (row[5], row[6], row[12]) == (Decimal("300000.00"), date(2026, 12, 22), "未付")
    assert row[-1] == Decimal("1350.00")


# -- the annual report (条例 第十八条) -------------------------------------------------------------


def test_R20_the_2026_report_row_by_row(wf: Any) -> None:
    ids = world(wf)
    report = wf.report_sme_payments(2026, now=REPORT_DAY)
    assert (report.year, report.as_of) == (2026, date(2026, 12, 31))
    got = [
        (
            r.purchaser,
            r.project_id,
            r.contractor,
            r.part,
            r.amount,
            r.due,
            r.paid_on,
            r.days_late,
            r.interest,
            r.disputed,
            r.status,
        )
        for r in report.rows
    ]
    d = Decimal
    assert got == [
        (DAWUKOU, ids["P1"], "小微社工甲", "undisputed", d("250000.00"), date(2026, 1, 26),
         date(2026, 1, 30), 4, d("500.00"), d("50000.00"), "paid_late"),
        (DAWUKOU, ids["P1"], "小微社工甲", "resolved", d("30000.00"), date(2026, 3, 9),
         date(2026, 3, 20), 11, d("165.00"), d("50000.00"), "paid_late"),
        # late since 2025-12-22, paid in 2026: 24 days (12-23..01-15), 3,600.00
        (DAWUKOU, ids["P5"], "小微社工甲", "tranche", d("300000.00"), date(2025, 12, 22),
         date(2026, 1, 15), 24, d("3600.00"), None, "paid_late"),
        # paid 2027-01-08: unpaid at the year's end, 9 days (12-23..12-31), 1,350.00
        (XINGHAI, ids["P3"], "小微社工乙", "tranche", d("300000.00"), date(2026, 12, 22),
         None, 9, d("1350.00"), None, "unpaid"),
    ]  # fmt: skip
    assert [t.to_dict() for t in report.totals] == [
        {
            "purchaser": DAWUKOU,
            "contracts": 2,
            "unpaid_contracts": 0,
            "unpaid_amount": "0",
            "paid_late_amount": "580000.00",
            "lines": 3,
            "interest": "4265.00",
        },
        {
            "purchaser": XINGHAI,
            "contracts": 1,
            "unpaid_contracts": 1,
            "unpaid_amount": "300000.00",
            "paid_late_amount": "0",
            "lines": 1,
            "interest": "1350.00",
        },
    ]
    total = report.total
    assert (total.contracts, total.unpaid_contracts, total.lines) == (3, 1, 4)
    assert (total.unpaid_amount, total.interest) == (Decimal("300000.00"), Decimal("5615.00"))
    assert report.to_dict()["due_by"] == "2027-03-31"
    only = wf.report_sme_payments(2026, purchaser=XINGHAI, now=REPORT_DAY)
    assert [r.project_id for r in only.rows] == [ids["P3"]]


def test_R20_each_years_report_keeps_to_its_year(wf: Any) -> None:
    ids = world(wf)
    y2025 = wf.report_sme_payments(2025, now=REPORT_DAY)
    # P4 paid 16 days late (11-25..12-10: 2,400.00); P5 unpaid on 12-31 (9 days: 1,350.00)
    assert [(r.project_id, r.status, r.days_late, r.interest) for r in y2025.rows] == [
        (ids["P4"], "paid_late", 16, Decimal("2400.00")),
        (ids["P5"], "unpaid", 9, Decimal("1350.00")),
    ]
    # 2027, as of the report's day: P3 paid 2027-01-08, 17 days late
    y2027 = wf.report_sme_payments(2027, now=REPORT_DAY)
    assert y2027.as_of == date(2027, 3, 1)
    assert [(r.project_id, r.days_late, r.interest) for r in y2027.rows] == [
        (ids["P3"], 17, Decimal("2550.00"))
    ]
    # the same 2026 report whenever it is made after the year (payments after it count unpaid)
    later = wf.report_sme_payments(2026, now=at("2030-01-01"))
    assert later.to_dict() == wf.report_sme_payments(2026, now=REPORT_DAY).to_dict()
    with pytest.raises(InvalidInput) as err:
        wf.report_sme_payments(2028, now=REPORT_DAY)
    assert (err.value.field, err.value.rule) == ("year", "R20")
    for bad in (1999, "2026", True, 2101):
        with pytest.raises(InvalidInput):
            wf.report_sme_payments(bad, now=REPORT_DAY)


def test_gpw_report_sme_payments_writes_csv_xlsx_and_json(
    wf: Any,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world(wf)
    monkeypatch.setenv("GPW_NOW", REPORT_DAY.isoformat())

    def run(*args: str) -> tuple[int, str]:
        code = main(["--db", db_url, "report", "sme-payments", *args])
        return code, capsys.readouterr().out

    code, text = run("--year", "2026")
    assert code == 0, text
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:3] == ["类别", "购买主体", "项目编号"]
    kinds = [line[0] for line in lines[1:]]
    assert kinds == ["明细", "明细", "明细", "小计", "明细", "小计", "合计"]
    assert lines[4][1] == DAWUKOU and lines[-1][14] == "5615.00"  # 逾期利息（元）
    assert lines[2][8] == "争议解决后应付部分" and lines[5][16] == "逾期未支付"
    out = tmp_path / "sme.xlsx"
    code, text = run("--year", "2026", "--format", "xlsx", "--out", str(out))
    assert code == 0, text
    book = load_workbook(out)
    assert book.sheetnames == ["2026年逾期支付明细", "按购买主体汇总"]
    detail = book.worksheets[0]
    assert detail.freeze_panes == "A2" and detail["J2"].number_format == "yyyy-mm-dd"
    assert detail["I2"].value == 250000 and detail["I2"].number_format == "#,##0.00"
    summary = [[c.value for c in row] for row in book.worksheets[1].iter_rows(min_row=2)]
    assert [row[0] for row in summary] == [DAWUKOU, XINGHAI, "合计"]
    code, text = run("--year", "2026", "--format", "json")
    assert code == 0 and json.loads(text)["total"]["interest"] == "5615.00"
    written = tmp_path / "sme.csv"
    assert run("--year", "2026", "--out", str(written))[0] == 0
    assert written.read_bytes().startswith("\ufeff".encode())
    assert run("--year", "2026", "--format", "pdf")[0] == 3
    assert run("--year", "2026", "--format", "xlsx")[0] == 3  # xlsx needs --out
    assert run("--year", "2028")[0] == 3  # not begun
    assert run("--year", "2026", "--out", str(tmp_path / "no" / "such" / "dir.csv"))[0] == 3
