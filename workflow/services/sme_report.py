"""The annual report of overdue payments to small and medium enterprises (R20).

保障中小企业款项支付条例 (国务院令第728号, revised by 第802号, in force 2025-06-01) 第十八条:
机关、事业单位 publish by 31 March the number and amount of the contracts under which they paid
small and medium enterprises late in the previous year. :meth:`SmeReports.report` builds that
report for year ``Y`` from the projects' contracts, payments, disputes and deadlines:

**Rows.** One row for each part of a tranche (the tranche; or, under a dispute, its undisputed
part and the part the dispute found due; :mod:`states.payments`) owed to a contractor that was a
small or medium enterprise at signing (条例 第三条) and late on some day of ``Y``: its due day
lies before the report's day and it was paid after its due day, on a day of ``Y``, or was still
unpaid on the report's day. The report's day (``as_of``) is 31 December of ``Y``, or today
while ``Y`` is still running; a payment made after it counts as unpaid, so the report of a past
year reads the same whenever it is made. Columns: purchaser, project, contract (signed on,
price), contractor, tranche and part, amount, due, paid on, calendar days late (to the day paid,
or to ``as_of``), the daily rate and the interest (条例 第十七条: the contract's rate, else
0.05 % a day; for the whole time late, to the day paid or to ``as_of``), the tranche's disputed
amount, and the status (``paid_late`` or ``unpaid``). Contracts ended by a new procurement (R12)
count with the payments they recorded.

**Totals per purchaser.** Contracts with a late payment; the regulation's figures: contracts with
a payment overdue and unpaid on ``as_of`` (合同数量) and that amount (金额); the amount paid late;
the interest.

Written as CSV (UTF-8 with BOM, Chinese headers: the rows, a 小计 line after each purchaser's and
a 合计 line at the end), XLSX (a sheet of rows, a sheet of totals; money ``#,##0.00``, dates as
dates) or JSON.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from states import deadlines as dl
from states import payments as pm
from states.errors import InvalidInput
from states.model import Contract, Payment, PaymentDispute, Project, Settlement
from states.policy import Policy
from workflow.db import Database
from workflow.services.policies import PolicyRegistry
from workflow.store import disclosure as store
from workflow.store import projects as project_store

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
#: the years a report may be asked for
FIRST_YEAR, LAST_YEAR = 2000, 2100

#: (JSON key, Chinese header) of a row, in order
ROW_COLUMNS: tuple[tuple[str, str], ...] = (
    ("purchaser", "购买主体"),
    ("project_id", "项目编号"),
    ("title", "项目名称"),
    ("signed_on", "合同签订日期"),
    ("price", "合同金额（元）"),
    ("contractor", "承接主体（中小企业）"),
    ("tranche", "期次"),
    ("part", "款项"),
    ("amount", "金额（元）"),
    ("due", "应付截止日"),
    ("paid_on", "实际支付日"),
    ("days_late", "逾期天数（自然日）"),
    ("rate", "逾期利息日利率"),
    ("interest", "逾期利息（元）"),
    ("disputed", "争议金额（元）"),
    ("status", "状态"),
)
#: (JSON key, Chinese header) of a purchaser's totals
TOTAL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("purchaser", "购买主体"),
    ("contracts", "有逾期支付的合同数"),
    ("unpaid_contracts", "逾期未支付的合同数"),
    ("unpaid_amount", "逾期未支付金额（元）"),
    ("paid_late_amount", "逾期后已支付金额（元）"),
    ("lines", "逾期款项笔数"),
    ("interest", "逾期利息（元）"),
)
PART_ZH = {
    "tranche": "整期款",
    "undisputed": "无争议部分",
    "resolved": "争议解决后应付部分",
}
STATUS_ZH = {"paid_late": "逾期后已支付", "unpaid": "逾期未支付"}


@dataclass(frozen=True, slots=True)
class SmeRow:
    """One part of a tranche paid late, or overdue and unpaid, in the report's year."""

    purchaser: str
    project_id: int
    title: str
    signed_on: date
    price: Decimal
    contractor: str
    tranche: int
    #: ``tranche``, ``undisputed`` or ``resolved`` (:mod:`states.payments`)
    part: str
    amount: Decimal
    due: date
    #: None: unpaid on the report's day
    paid_on: date | None
    days_late: int
    rate: Decimal
    interest: Decimal
    #: the tranche's disputed amount, if it was disputed
    disputed: Decimal | None
    #: ``paid_late`` or ``unpaid``
    status: str

    def to_dict(self) -> dict[str, Any]:
        return {key: _plain(getattr(self, key)) for key, _ in ROW_COLUMNS}


@dataclass(frozen=True, slots=True)
class SmeTotal:
    """One purchaser's figures (条例 第十八条: 合同数量、金额)."""

    purchaser: str
    contracts: int
    unpaid_contracts: int
    unpaid_amount: Decimal
    paid_late_amount: Decimal
    lines: int
    interest: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {key: _plain(getattr(self, key)) for key, _ in TOTAL_COLUMNS}


@dataclass(frozen=True, slots=True)
class SmeReport:
    """The report of year ``year`` as of ``as_of``: rows and totals per purchaser."""

    year: int
    as_of: date
    rows: tuple[SmeRow, ...]
    totals: tuple[SmeTotal, ...]

    @property
    def total(self) -> SmeTotal:
        """Every purchaser's figures together."""
        return _total("合计", self.rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "as_of": self.as_of.isoformat(),
            "due_by": date(self.year + 1, 3, 31).isoformat(),
            "rule": "R20",
            "rows": [r.to_dict() for r in self.rows],
            "totals": [t.to_dict() for t in self.totals],
            "total": self.total.to_dict(),
        }

    def json_text(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"

    def csv_text(self) -> str:
        """The rows, a 小计 line after each purchaser's rows and a 合计 line (UTF-8 text; a
        file gets a byte-order mark, which spreadsheet programs need to read Chinese)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["类别", *(zh for _, zh in ROW_COLUMNS)])
        by_purchaser = {t.purchaser: t for t in self.totals}
        for i, row in enumerate(self.rows):
            writer.writerow(["明细", *(_text(row, key) for key, _ in ROW_COLUMNS)])
            last = i + 1 == len(self.rows) or self.rows[i + 1].purchaser != row.purchaser
            if last:
                writer.writerow(_summary_line("小计", by_purchaser[row.purchaser]))
        writer.writerow(_summary_line("合计", self.total))
        return buffer.getvalue()

    def write_csv(self, path: str | Path) -> None:
        Path(path).write_text("\ufeff" + self.csv_text(), encoding="utf-8", newline="")

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(self.json_text(), encoding="utf-8")

    def write_xlsx(self, path: str | Path) -> None:
        """Two sheets: 逾期支付明细 (the rows) and 按购买主体汇总 (the totals and 合计); Chinese
        headers (bold, frozen), money ``#,##0.00``, dates as dates."""
        from openpyxl import Workbook
        from openpyxl.styles import Font

        book = Workbook()
        book.remove(book.active)
        bold = Font(bold=True)
        sheets = (
            (f"{self.year}年逾期支付明细", ROW_COLUMNS, list(self.rows)),
            ("按购买主体汇总", TOTAL_COLUMNS, [*self.totals, self.total]),
        )
        for title, columns, records in sheets:
            ws = book.create_sheet(title)
            ws.append([zh for _, zh in columns])
            for cell in ws[1]:
                cell.font = bold
            for record in records:
                ws.append([_cell(record, key) for key, _ in columns])
            for cells in ws.iter_rows(min_row=2):
                for cell in cells:
                    header = columns[cell.column - 1][1]
                    if isinstance(cell.value, Decimal) and header.endswith("（元）"):
                        cell.number_format = MONEY_FORMAT
                    elif isinstance(cell.value, date):
                        cell.number_format = DATE_FORMAT
            ws.freeze_panes = "A2"
            for i, (_, zh) in enumerate(columns, start=1):
                ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = max(
                    10, 2 * len(zh) + 4
                )
        book.save(str(path))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _text(record: Any, key: str) -> str:
    value = getattr(record, key)
    if key == "part":
        return PART_ZH.get(str(value), str(value))
    if key == "status":
        return STATUS_ZH.get(str(value), str(value))
    plain = _plain(value)
    return "" if plain is None else str(plain)


def _cell(record: Any, key: str) -> Any:
    value = getattr(record, key)
    if key == "part":
        return PART_ZH.get(value, value)
    if key == "status":
        return STATUS_ZH.get(value, value)
    return value


def _summary_line(kind: str, total: SmeTotal) -> list[str]:
    """A 小计 or 合计 line under the rows' headers: the amounts in their columns."""
    line = [kind] + [""] * len(ROW_COLUMNS)
    keys = [key for key, _ in ROW_COLUMNS]
    line[1 + keys.index("purchaser")] = total.purchaser
    line[1 + keys.index("title")] = (
        f"有逾期支付的合同 {total.contracts} 个，其中逾期未支付 {total.unpaid_contracts} 个"
        f"（{total.unpaid_amount:.2f} 元）；逾期后已支付 {total.paid_late_amount:.2f} 元"
    )
    line[1 + keys.index("amount")] = f"{total.unpaid_amount + total.paid_late_amount:.2f}"
    line[1 + keys.index("interest")] = f"{total.interest:.2f}"
    return line


def _total(purchaser: str, rows: Iterable[SmeRow]) -> SmeTotal:
    rows = list(rows)
    contracts = {(r.project_id, r.signed_on) for r in rows}
    unpaid = [r for r in rows if r.status == "unpaid"]
    return SmeTotal(
        purchaser=purchaser,
        contracts=len(contracts),
        unpaid_contracts=len({(r.project_id, r.signed_on) for r in unpaid}),
        unpaid_amount=sum((r.amount for r in unpaid), Decimal(0)),
        paid_late_amount=sum((r.amount for r in rows if r.status == "paid_late"), Decimal(0)),
        lines=len(rows),
        interest=sum((r.interest for r in rows), Decimal(0)),
    )


def check_year(year: object) -> int:
    if not isinstance(year, int) or isinstance(year, bool) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(
            f"year 须为 {FIRST_YEAR}–{LAST_YEAR} 之间的年份：{year!r}",
            f"year must be a year from {FIRST_YEAR} to {LAST_YEAR}: {year!r}",
            field="year",
            rule="R20",
        )
    return year


def rows_of(project: Project, policy: Policy, year: int, as_of: date) -> list[SmeRow]:
    """The report's rows for one project: its live contract and those ended by ``reprocure``."""
    out: list[SmeRow] = []
    contracts: list[
        tuple[Contract, str, list[Payment], list[Settlement], list[PaymentDispute], bool]
    ] = [
        (c.contract, c.contractor_name or "", c.payments, c.settlements, c.disputes, False)
        for c in project.prior_contracts
        if c.contract is not None
    ]
    if project.contract is not None:
        contracts.append(
            (
                project.contract,
                project.contractor_name or "",
                project.payments,
                project.settlements,
                project.disputes,
                True,
            )
        )
    start = date(year, 1, 1)
    for contract, contractor, payments, settlements, disputes, live in contracts:
        if not contract.sme:
            continue
        rate = pm.rate_of(contract)
        accounts = pm.accounts(
            contract,
            policy,
            payments=payments,
            settlements=settlements,
            disputes=disputes,
            deadlines=project.deadlines if live else (),
        )
        for account in accounts:
            dispute = account.dispute
            for part in account.parts:
                if part.due is None or part.due >= as_of:
                    continue
                paid_on = part.paid_on if part.paid_on and part.paid_on <= as_of else None
                if paid_on is None and not (part.owed or part.paid):
                    continue  # never owed by an open deadline (cancelled, settled)
                end = paid_on or as_of
                days = pm.days_late(part.due, end)
                if days == 0 or end < start:
                    continue  # on time, or late only before the year
                out.append(
                    SmeRow(
                        purchaser=project.purchaser,
                        project_id=project.id or 0,
                        title=project.title,
                        signed_on=contract.signed_on,
                        price=contract.price,
                        contractor=contractor,
                        tranche=part.tranche,
                        part=part.kind,
                        amount=part.amount,
                        due=part.due,
                        paid_on=paid_on,
                        days_late=days,
                        rate=rate,
                        interest=pm.interest(part.amount, rate, days),
                        disputed=dispute.amount if dispute is not None else None,
                        status="paid_late" if paid_on is not None else "unpaid",
                    )
                )
    return out


def build(year: int, as_of: date, rows: Sequence[SmeRow]) -> SmeReport:
    ordered = sorted(
        rows, key=lambda r: (r.purchaser, r.project_id, r.signed_on, r.tranche, r.due, r.part)
    )
    purchasers: dict[str, list[SmeRow]] = {}
    for r in ordered:
        purchasers.setdefault(r.purchaser, []).append(r)
    return SmeReport(
        year=year,
        as_of=as_of,
        rows=tuple(ordered),
        totals=tuple(_total(name, group) for name, group in purchasers.items()),
    )


class SmeReports:
    """Builds the annual report from the projects (a read: nothing is written)."""

    def __init__(self, db: Database, policies: PolicyRegistry) -> None:
        self._db = db
        self._policies = policies

    def report(
        self,
        year: int,
        *,
        purchaser: str | None = None,
        now: datetime | None = None,
        connection: Connection | None = None,
    ) -> SmeReport:
        """The report of ``year`` (as of its 31 December, or today while it runs); ``purchaser``:
        only that purchaser's projects.

        Raises:
            InvalidInput: ``year`` is not a year, or lies after today's.
        """
        year = check_year(year)
        today = dl.business_date(self._db.at(now))
        if year > today.year:
            raise InvalidInput(
                f"{year} 年尚未开始（今天是 {today}）",
                f"{year} has not begun (today is {today})",
                field="year",
                rule="R20",
            )
        as_of = min(today, date(year, 12, 31))
        rows: list[SmeRow] = []
        with self._db.read(connection) as conn:
            for r in store.project_rows(conn):
                if purchaser is not None and r.purchaser != purchaser:
                    continue
                project = project_store.to_project(r)
                if project.contract is None and not project.prior_contracts:
                    continue
                policy = self._policies.named(project.policy)
                rows.extend(rows_of(project, policy, year, as_of))
        return build(year, as_of, rows)
