"""Ledgers (台账, R16): what an auditor inspects, one sheet per kind, every line tied to the
audit chain.

Each row comes from one audit entry of a project's chain (or, for notices, one notice sent) and
carries its date, the actor, the actor's organisation, the amounts, the rule the event satisfied
and the entry's stream, seq and hash, so ``gpw verify`` vouches for every line. Sheets: 计划与审批,
采购, 合同, 人员派遣, 资金拨付, 绩效评价, 整改, 分包, 通知, and the finance bureau's 财政拨付: every
payment of the period with its tranche, deadline, days late (working and calendar) and the R20
status of SME contractors, plus each payment deadline of the period still unpaid.

The ledger is for inspection, not publication: it names the people who acted and the staff
dispatched (auditors check them); the public outputs are :mod:`workflow.services.disclosure`'s.
Written as XLSX (``openpyxl``: Chinese headers, ``#,##0.00`` for money, dates as dates, frozen
header rows) or as CSV, one file per sheet in one ZIP (UTF-8 with a byte-order mark, which
spreadsheet programs need to read Chinese).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from states import deadlines as dl
from states import payments as pm
from states.enums import DeadlineStatus
from states.errors import InvalidInput, WorkflowError
from states.model import Contract, Payment, Project
from states.policy import Policy
from workflow.db import Database
from workflow.services.calendar import CalendarService
from workflow.services.policies import PolicyRegistry
from workflow.store import contractors as contractor_store
from workflow.store import disclosure as store
from workflow.store import projects as project_store
from workflow.tables import notice_t

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"

#: event → the rules it satisfied (its guards' rules)
RULES: dict[str, str] = {
    "create_project": "R1",
    "revise_plan": "R1",
    "submit": "R1",
    "review_budget": "R1",
    "approve": "R1,R2",
    "reject": "R1",
    "publish_notice": "R3",
    "record_review": "R4,R5",
    "award": "R4,R5,R12",
    "fail_procurement": "R3",
    "sign_contract": "R6",
    "dispatch_staff": "R8",
    "pay": "R7",
    "evaluate": "R10,R11",
    "order_rectification": "R11",
    "complete_rectification": "R11",
    "request_subcontract": "R9",
    "approve_subcontract": "R9",
    "reject_subcontract": "R9",
    "subcontract": "R9",
    "remove_contractor": "R11,R12",
    "settle": "R12,R20",
    "dispute_payment": "R20",
    "resolve_dispute": "R20",
    "reprocure": "R12",
    "terminate": "R12",
    "accept": "R13",
    "close": "R7,R13",
    "correct_deadline": "R15",
    "recompute_deadlines": "R15",
    "suspend_deadline": "R15",
    "resume_deadline": "R15",
    "extend_deadline": "R15",
}
EVENT_ZH: dict[str, str] = {
    "create_project": "立项",
    "revise_plan": "修改计划",
    "submit": "报批",
    "review_budget": "预算审核",
    "approve": "批准",
    "reject": "退回",
    "publish_notice": "发布采购公告",
    "record_review": "评审",
    "award": "确定承接主体",
    "fail_procurement": "采购失败",
    "sign_contract": "签订合同",
    "dispatch_staff": "派遣人员",
    "pay": "拨付资金",
    "evaluate": "绩效评价",
    "order_rectification": "责令整改",
    "complete_rectification": "整改完成",
    "request_subcontract": "申请分包",
    "approve_subcontract": "批准分包",
    "reject_subcontract": "不批准分包",
    "subcontract": "实施分包",
    "remove_contractor": "清退承接主体",
    "settle": "结算",
    "dispute_payment": "付款争议",
    "resolve_dispute": "解决付款争议",
    "reprocure": "重新采购",
    "terminate": "终止",
    "accept": "验收",
    "close": "结项",
    "correct_deadline": "更正期限",
    "recompute_deadlines": "重算期限",
    "suspend_deadline": "中止计时",
    "resume_deadline": "恢复计时",
    "extend_deadline": "延长期限",
}
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "plans": (
        "计划与审批",
        ("create_project", "revise_plan", "submit", "review_budget", "approve", "reject"),
    ),
    "procurement": (
        "采购",
        ("publish_notice", "record_review", "award", "fail_procurement", "reprocure"),
    ),
    "contracts": (
        "合同",
        (
            "sign_contract",
            "correct_deadline",
            "recompute_deadlines",
            "suspend_deadline",
            "resume_deadline",
            "extend_deadline",
            "remove_contractor",
            "terminate",
            "accept",
            "close",
        ),
    ),
    "staff": ("人员派遣", ("dispatch_staff",)),
    "payments": ("资金拨付", ("pay", "settle", "dispute_payment", "resolve_dispute")),
    "evaluations": ("绩效评价", ("evaluate",)),
    "rectifications": ("整改", ("order_rectification", "complete_rectification")),
    "subcontracts": (
        "分包",
        ("request_subcontract", "approve_subcontract", "reject_subcontract", "subcontract"),
    ),
}
COMMON = (
    "日期",
    "时间",
    "项目编号",
    "项目名称",
    "事件",
    "操作人",
    "角色",
    "单位",
    "金额（元）",
    "依据规则",
    "说明",
    "审计链",
    "序号",
    "审计哈希",
)


@dataclass(slots=True)
class Sheet:
    """One kind of ledger line: its key, Chinese title, headers and rows (plain values: str,
    int, Decimal for money, date for dates)."""

    key: str
    title: str
    headers: tuple[str, ...]
    rows: list[list[Any]] = field(default_factory=list)
    #: the column holding each row's audit hash (to tie it to the chain)
    hash_column: int | None = None


@dataclass(slots=True)
class Ledger:
    """The ledger of some projects over a period (``date_from``..``date_to``, inclusive)."""

    sheets: list[Sheet]
    date_from: date | None
    date_to: date | None

    def sheet(self, key: str) -> Sheet:
        for s in self.sheets:
            if s.key == key:
                return s
        raise KeyError(key)

    def hashes(self) -> set[str]:
        """Every audit hash the ledger's rows cite."""
        return {
            str(row[s.hash_column])
            for s in self.sheets
            if s.hash_column is not None
            for row in s.rows
            if row[s.hash_column]
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "sheets": {
                s.key: {
                    "title": s.title,
                    "headers": list(s.headers),
                    "rows": [[_plain(v) for v in row] for row in s.rows],
                }
                for s in self.sheets
            },
        }

    def write_xlsx(self, path: str | Path) -> None:
        """One worksheet per sheet: Chinese headers (bold, frozen), money as ``#,##0.00``,
        dates as dates."""
        from openpyxl import Workbook
        from openpyxl.styles import Font

        book = Workbook()
        book.remove(book.active)
        bold = Font(bold=True)
        for s in self.sheets:
            ws = book.create_sheet(s.title)
            ws.append(list(s.headers))
            for cell in ws[1]:
                cell.font = bold
            for row in s.rows:
                ws.append([_cell(v) for v in row])
            for row_cells in ws.iter_rows(min_row=2):
                for cell in row_cells:
                    if (
                        isinstance(cell.value, Decimal | float | int)
                        and not isinstance(cell.value, bool)
                        and s.headers[cell.column - 1].endswith("（元）")
                    ):
                        cell.number_format = MONEY_FORMAT
                    elif isinstance(cell.value, datetime):
                        cell.number_format = DATETIME_FORMAT
                    elif isinstance(cell.value, date):
                        cell.number_format = DATE_FORMAT
            ws.freeze_panes = "A2"
            for i, header in enumerate(s.headers, start=1):
                width = max(10, min(60, 2 * len(header) + 4))
                ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = width
        book.save(str(path))

    def write_csv_zip(self, path: str | Path) -> None:
        """One CSV per sheet (``<key>.csv``, UTF-8 with BOM) in one ZIP file."""
        with zipfile.ZipFile(str(path), "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for s in self.sheets:
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                writer.writerow(s.headers)
                writer.writerows([[_text(v) for v in row] for row in s.rows])
                archive.writestr(f"{s.key}.csv", "\ufeff" + buffer.getvalue())


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _text(value: Any) -> str:
    plain = _plain(value)
    return "" if plain is None else str(plain)


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(dl.SHANGHAI).replace(tzinfo=None)
    return value


def _money(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value))


class LedgerService:
    """Builds ledgers from the audit trail (and the notices sent)."""

    def __init__(
        self, db: Database, calendar: CalendarService, policies: PolicyRegistry | None = None
    ) -> None:
        self._db = db
        self._calendar = calendar
        self._policies = policies

    def _policy(self, name: str) -> Policy | None:
        """The project's policy (R7 tranche amounts, R20), from the workflow's registry."""
        if self._policies is None:
            return None
        try:
            return self._policies.named(name)
        except WorkflowError:
            return None

    def ledger(
        self,
        ids: Iterable[int] | None = None,
        *,
        date_from: date | str | None = None,
        date_to: date | str | None = None,
        connection: Connection | None = None,
    ) -> Ledger:
        """The ledger of projects ``ids`` (every project: ``None``) for entries whose business
        date falls in ``date_from``..``date_to`` (inclusive; open where ``None``)."""
        start, end = _parse_day(date_from, "date_from"), _parse_day(date_to, "date_to")
        if start is not None and end is not None and end < start:
            raise InvalidInput(
                f"结束日期 {end} 早于开始日期 {start}",
                f"date_to {end} is before date_from {start}",
                field="date_to",
            )
        wanted = None if ids is None else sorted({_check_id(i) for i in ids})
        with self._db.read(connection) as conn:
            projects = {
                int(r.id): project_store.to_project(r) for r in store.project_rows(conn, wanted)
            }
            if wanted is not None:
                missing = [i for i in wanted if i not in projects]
                if missing:
                    project_store.load(conn, missing[0])  # ProjectNotFound, naming it
            rows = store.entries(conn, projects)
            names = {
                cid: c.name
                for cid, c in contractor_store.load_many(
                    conn,
                    {p.contractor_id for p in projects.values() if p.contractor_id}
                    | {
                        c.contractor_id
                        for p in projects.values()
                        for c in p.prior_contracts
                        if c.contractor_id
                    },
                ).items()
            }
            notices = list(
                conn.execute(
                    select(notice_t)
                    .where(notice_t.c.project_id.in_(sorted(projects)))
                    .where(notice_t.c.status == "sent")
                    .order_by(notice_t.c.sent_at, notice_t.c.id)
                )
            )
            calendar = self._calendar.current(conn)
        today = dl.business_date(self._db.now())
        sheets = {
            key: Sheet(key, title, COMMON + _extra(key), hash_column=COMMON.index("审计哈希"))
            for key, (title, _) in KINDS.items()
        }
        kind_of = {event: key for key, (_, events) in KINDS.items() for event in events}
        by_project: dict[int, list[Any]] = {}
        for r in rows:
            by_project.setdefault(int(r.project_id), []).append(r)
        finance = Sheet(
            "finance",
            "财政拨付（R7、R20）",
            (
                "付款日期",
                "项目编号",
                "项目名称",
                "承接主体",
                "期次",
                "金额（元）",
                "应付截止日",
                "逾期工作日",
                "逾期自然日",
                "中小企业（R20）",
                "R20 付款期限（天）",
                "R20 状态",
                "状态",
                "操作人",
                "单位",
                "依据规则",
                "审计链",
                "序号",
                "审计哈希",
                "逾期利息日利率（R20）",
                "逾期利息（元）",
            ),
            hash_column=18,
        )
        for pid, entries in by_project.items():
            project = projects[pid]
            round_no = 0
            for r in entries:
                if r.event == "reprocure":
                    round_no += 1
                day = dl.business_date(r.at)
                if (start is not None and day < start) or (end is not None and day > end):
                    continue
                key = kind_of.get(r.event)
                if key is None:
                    continue
                contract, live = _contract_of(project, round_no)
                for amount, note, *extra in _rows(key, r, project, names, contract):
                    line = _common(r, project, day, amount)
                    line[COMMON.index("说明")] = note
                    sheets[key].rows.append(line + extra)
                if r.event == "pay":
                    finance.rows.append(
                        _finance_row(r, project, day, contract, live, names, calendar)
                    )
        for pid, project in projects.items():
            finance.rows.extend(
                _unpaid(
                    project,
                    start,
                    end,
                    names,
                    by_project.get(pid, []),
                    today,
                    self._policy(project.policy),
                )
            )
        finance.rows.sort(key=lambda row: (row[0] or date.max, row[1]))
        notice_sheet = Sheet(
            "notices",
            "通知",
            (
                "发送时间",
                "项目编号",
                "项目名称",
                "期限",
                "阶段",
                "收件单位与角色",
                "主题",
                "依据规则",
                "审计链",
                "序号",
                "审计哈希（产生该期限的事件）",
            ),
            hash_column=10,
        )
        for n in notices:
            sent = n.sent_at.astimezone(dl.SHANGHAI) if n.sent_at else None
            if sent is not None and (
                (start is not None and sent.date() < start)
                or (end is not None and sent.date() > end)
            ):
                continue
            project = projects[int(n.project_id)]
            deadline = project.deadline(n.deadline_key)
            opener = _opener(by_project.get(int(n.project_id), []), deadline, n.created_at)
            notice_sheet.rows.append(
                [
                    sent,
                    int(n.project_id),
                    project.title,
                    n.deadline_key,
                    n.stage,
                    "；".join(f"{x.get('org', '')} {x.get('role', '')}" for x in n.recipients),
                    n.subject,
                    deadline.rule if deadline is not None else "",
                    opener.stream if opener is not None else "",
                    int(opener.seq) if opener is not None else None,
                    opener.hash if opener is not None else "",
                ]
            )
        return Ledger(
            sheets=[*sheets.values(), notice_sheet, finance], date_from=start, date_to=end
        )


def _parse_day(value: date | str | None, name: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInput(
            f"{name} 须为 ISO 日期（YYYY-MM-DD）：{value}",
            f"{name} must be an ISO date (YYYY-MM-DD): {value}",
            field=name,
        ) from exc


def _check_id(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidInput("项目编号须为正整数", "project ids are positive integers", field="ids")
    return value


def _contract_of(project: Project, round_no: int) -> tuple[Contract | None, bool]:
    """The contract of procurement round ``round_no`` (0: the first), and whether it is live."""
    if round_no < len(project.prior_contracts):
        return project.prior_contracts[round_no].contract, False
    return project.contract, True


def _common(r: Any, project: Project, day: date, amount: Any) -> list[Any]:
    return [
        day,
        r.at.astimezone(dl.SHANGHAI),
        int(r.project_id),
        project.title,
        EVENT_ZH.get(r.event, r.event),
        r.actor_id,
        r.role,
        r.org,
        _money(amount),
        RULES.get(r.event, ""),
        "",
        r.stream,
        int(r.seq),
        r.hash,
    ]


def _extra(key: str) -> tuple[str, ...]:
    return {
        "staff": ("姓名", "学历", "派遣日期"),
        "payments": ("期次", "付款日期", "是否逾期"),
        "evaluations": ("评价类型", "得分", "满意度", "是否通过", "评价主体", "评价日期"),
        "rectifications": ("整改期限", "整改事项", "完成日期"),
        "subcontracts": ("申请编号", "分包内容", "分包对象", "份额"),
        "procurement": ("采购方式", "承接主体"),
        "contracts": ("合同价（元）", "生效日期", "服务期（月）", "合同形式"),
    }.get(key, ())


_METHODS_ZH = {
    "open_tender": "公开招标",
    "invited_tender": "邀请招标",
    "competitive_negotiation": "竞争性谈判",
    "competitive_consultation": "竞争性磋商",
    "single_source": "单一来源采购",
}


def _rows(
    key: str,
    r: Any,
    project: Project,
    names: Mapping[int, str],
    contract: Contract | None,
) -> list[list[Any]]:
    """The rows one entry gives in its sheet: ``[amount, note, *extra columns]`` each (the note
    goes into the common columns' 说明)."""
    d: Mapping[str, Any] = r.data or {}
    rows: list[list[Any]]
    if key == "plans":
        note = ""
        if r.event == "review_budget":
            note = ("审核通过" if d.get("approved") else "审核未通过") + (
                f"：{d['note']}" if d.get("note") else ""
            )
        elif d.get("reason"):
            note = str(d["reason"])
        rows = [[d.get("budget"), note]]
    elif key == "procurement":
        who = ""
        if r.event == "award":
            cid = d.get("contractor_id")
            who = names.get(int(cid), "") if cid is not None else ""
        note = str(d.get("reason") or d.get("notice") or "")
        if r.event == "record_review":
            note = f"评审专家：{'、'.join(d.get('reviewers', []))}；评分：" + "，".join(
                f"{names.get(int(k), k) if str(k).isdigit() else k} {v}"
                for k, v in d.get("scores", {}).items()
            )
        rows = [[None, note, _METHODS_ZH.get(str(d.get("method", "")), ""), who]]
    elif key == "contracts":
        note = str(d.get("reason") or "")
        if r.event in ("correct_deadline", "resume_deadline", "extend_deadline"):
            note = f"{d.get('key', '')}：{d.get('old_due', '')} → {d.get('new_due', '')}；{note}"
        elif r.event == "suspend_deadline":
            note = (
                f"{d.get('key', '')}：自 {d.get('on', '')} 中止计时，"
                f"尚余 {d.get('remaining', '')} 个工作日；{note}"
            )
        rows = [
            [
                d.get("price") if r.event == "sign_contract" else d.get("paid_total"),
                note,
                _money(d.get("price")),
                _day(d.get("effective_on")),
                d.get("term_months"),
                d.get("form", ""),
            ]
        ]
    elif key == "staff":
        on = _day(d.get("on"))
        rows = [
            [None, "", s.get("name", ""), s.get("education", ""), on] for s in d.get("staff", [])
        ]
    elif key == "payments":
        late = d.get("late")
        rows = [
            [
                d.get("amount", d.get("found_due")),
                str(d.get("reason") or ""),
                d.get("tranche"),
                _day(d.get("on")),
                "是" if late else ("否" if late is not None else ""),
            ]
        ]
    elif key == "evaluations":
        rows = [
            [
                None,
                f"第 {d.get('period')} 个评价周期" if d.get("period") else "",
                d.get("kind", ""),
                _money(d.get("score")),
                _money(d.get("satisfaction")),
                "是" if d.get("passed") else "否",
                "、".join(d.get("evaluators", [])),
                _day(d.get("on")),
            ]
        ]
    elif key == "rectifications":
        rows = [[None, "", _day(d.get("due")), str(d.get("findings", "")), _day(d.get("on"))]]
    else:  # subcontracts
        rows = [
            [
                None,
                str(d.get("reason") or ""),
                d.get("request_id"),
                d.get("part", ""),
                d.get("to", ""),
                d.get("share", ""),
            ]
        ]
    return rows


def _finance_row(
    r: Any,
    project: Project,
    day: date,
    contract: Contract | None,
    live: bool,
    names: Mapping[int, str],
    calendar: Any,
) -> list[Any]:
    d: Mapping[str, Any] = r.data or {}
    tranche = d.get("tranche")
    paid_on = _day(d.get("on"))
    deadline = project.deadline(f"payment_{tranche}") if live else None
    due = deadline.due if deadline is not None and deadline.met_on == paid_on else None
    late_work = late_cal = None
    if due is not None and paid_on is not None:
        late_cal = max((paid_on - due).days, 0)
        late_work = max(calendar.working_days_between(due, paid_on), 0)
    # R20: the parts the payment paid, each late from the day after its own due day
    payment = _payment_of(project, contract, live, tranche, r.at)
    dated = [part for part in payment.parts if part.due is not None] if payment else []
    if payment is not None and payment.parts:  # the due days it was paid against
        first = min(dated, key=lambda part: part.due or date.max) if dated else None
        due = first.due if first is not None else None  # None: paid while its clock stood
        deadline = project.deadline(first.key) if live and first is not None else None
        late_work = late_cal = None
        if paid_on is not None and due is not None:
            late_cal = max((paid_on - due).days, 0)
            late_work = max(calendar.working_days_between(due, paid_on), 0)
    sme = bool(contract and contract.sme)
    cap = contract.sme_payment_days if contract is not None and sme else None
    r20 = ""
    if sme and cap is not None and deadline is not None and paid_on is not None and due:
        r20 = (
            "合规 / within"
            if (paid_on - deadline.anchor_on).days <= cap
            else "超期 / beyond the SME term"
        )
    who = project.contractor_name if live else None
    if who is None and contract is not None:
        for prior in project.prior_contracts:
            if prior.contract is contract:
                who = prior.contractor_name
    rate = pm.rate_of(contract) if contract is not None and sme else None
    interest = None
    if rate is not None and paid_on is not None:
        if dated:
            interest = sum(
                (
                    pm.interest(part.amount, rate, pm.days_late(part.due, paid_on))
                    for part in dated
                    if part.due is not None
                ),
                Decimal(0),
            )
        elif due is not None:
            interest = pm.interest(_money(d.get("amount")) or Decimal(0), rate, late_cal or 0)
    return [
        paid_on,
        int(r.project_id),
        project.title,
        who or "",
        tranche,
        _money(d.get("amount")),
        due,
        late_work,
        late_cal,
        "是" if sme else "否",
        cap,
        r20,
        "已付（逾期）" if d.get("late") else "已付",
        r.actor_id,
        r.org,
        "R7,R20" if sme else "R7",
        r.stream,
        int(r.seq),
        r.hash,
        rate,
        interest,
    ]


def _payment_of(
    project: Project, contract: Contract | None, live: bool, tranche: Any, at: datetime
) -> Payment | None:
    """The payment a ``pay`` entry recorded (its tranche, at its time)."""
    payments = project.payments if live else []
    if not live:
        for prior in project.prior_contracts:
            if prior.contract is contract:
                payments = prior.payments
    return next((p for p in payments if p.tranche == tranche and p.at == at), None)


def _unpaid(
    project: Project,
    start: date | None,
    end: date | None,
    names: Mapping[int, str],
    entries: Sequence[Any],
    today: date,
    policy: Policy | None,
) -> list[list[Any]]:
    """Payment deadlines due in the period and still open: the finance bureau's arrears, with
    the amount each is for and, for a small or medium enterprise, the interest so far (to the
    period's end or today, whichever is earlier; R20)."""
    out: list[list[Any]] = []
    contract = project.contract
    parts: dict[str, pm.Part] = {}
    if contract is not None and policy is not None:
        for account in pm.accounts(
            contract,
            policy,
            payments=project.payments,
            settlements=project.settlements,
            disputes=project.disputes,
            deadlines=project.deadlines,
        ):
            parts.update((part.key, part) for part in account.parts)
    sme = bool(contract and contract.sme)
    rate = pm.rate_of(contract) if contract is not None and sme else None
    until = today if end is None else min(end, today)
    for d in project.deadlines:
        if not d.kind.startswith("payment_") or d.status is not DeadlineStatus.OPEN:
            continue
        if (start is not None and d.due < start) or (end is not None and d.due > end):
            continue
        opener = _opener(entries, d, None)
        part = parts.get(d.key)
        amount = part.amount if part is not None else None
        interest = None
        # 中止计时: a payment whose clock is stopped is not late meanwhile (no interest)
        if rate is not None and amount is not None and d.suspended_on is None:
            interest = pm.interest(amount, rate, pm.days_late(d.due, until))
        out.append(
            [
                None,
                project.id,
                project.title,
                project.contractor_name or "",
                int(d.kind.rpartition("_")[2]),
                amount,
                d.due,
                None,
                None,
                "是" if sme else "否",
                contract.sme_payment_days if contract is not None and sme else None,
                "",
                "未付"
                + ("（暂定期限）" if d.provisional else "")
                + (f"（自 {d.suspended_on} 中止计时）" if d.suspended_on else ""),
                "",
                "",
                d.rule,
                opener.stream if opener is not None else "",
                int(opener.seq) if opener is not None else None,
                opener.hash if opener is not None else "",
                rate,
                interest,
            ]
        )
    return out


def _opener(entries: Sequence[Any], deadline: Any, before: datetime | None) -> Any:
    """The latest entry of the event that opened ``deadline`` (its anchor event), at or before
    ``before``: the chain entry a notice or an arrear follows from."""
    if deadline is None:
        return None
    wanted = {deadline.anchor_event}
    if deadline.anchor_event.endswith("_passed"):
        wanted = {"evaluate"}
    elif deadline.anchor_event == "contract_effective":
        wanted = {"sign_contract"}
    found = None
    for e in entries:
        if e.event in wanted and (before is None or e.at <= before):
            found = e
    return found
