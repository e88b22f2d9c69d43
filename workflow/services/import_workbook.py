"""Reading a 台账 workbook for ``gpw import`` (issue #11): headers, cells, one plan per row.

Pure: no database. :func:`read_workbook` opens the file (its bytes are hashed, SHA-256, and read
from memory, so the extension does not matter), finds the headers on the first sheet's first row
and parses every cell of every row, collecting every bad cell instead of stopping at the first.
The rules a cell is checked against here are the ones a spreadsheet needs (types, formats,
required values for the row's target state); the policy's rules (R1–R20) are checked by the
events themselves when :mod:`workflow.services.imports` fires them.

Values:

* money (``预算``, ``合同金额``, ``社会救助专项经费``): a number cell, read as the decimal the cell
  shows (the shortest decimal that round-trips the stored double, never float arithmetic; more
  than 15 significant digits is refused as inexact), or text of ASCII digits (``1200000.00``,
  ``1,200,000.00``); at most two places (分), else refused;
* dates: a date cell (no time of day), or text ``YYYY-MM-DD``; a bare number is refused;
* ``服务内容``: ``名称:数量`` separated by ``;``; the full-width ``：`` and ``；`` too;
* ``采购方式`` and ``合同形式``: the Chinese name (``公开招标``, ``购买`` …) or the code
  (``open_tender``, ``purchase`` …); ``目标状态``: ``draft``, ``approved``, ``contracted``,
  ``in_service`` or 草拟, 已批准, 已签约, 服务中;
* ``派遣人员``: ``姓名:学历`` or ``姓名:学历:服务单位`` separated by ``;`` (full-width too).
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from states.enums import EDUCATION_LEVELS, ContractForm, ProcurementMethod, ProjectState
from states.errors import ConfigurationError, InvalidInput, NotFound
from states.ocds import FORMS, METHODS

# -- the columns ---------------------------------------------------------------------------------

TITLE, PURCHASER, BUDGET, ITEMS = "标题", "购买主体", "预算", "服务内容"
METHOD, CONTRACTOR, SIGNED, EFFECTIVE = "采购方式", "承接主体", "签订日期", "生效日期"
PRICE, TERM, FORM, TARGET = "合同金额", "合同期限（月）", "合同形式", "目标状态"
DISPATCHED, STAFF = "派遣日期", "派遣人员"
TRAINED, HOURS = "培训日期", "培训学时"
GOVERNMENT, FINANCE, AUDIT = "本级人民政府", "财政局", "审计局"
FUNDS = "社会救助专项经费"

#: the issue's headers: every workbook has them (a row leaves the ones its target needs not empty)
REQUIRED_HEADERS = (
    TITLE,
    PURCHASER,
    BUDGET,
    ITEMS,
    METHOD,
    CONTRACTOR,
    SIGNED,
    EFFECTIVE,
    PRICE,
    TERM,
    FORM,
    TARGET,
)
#: needed when a row's target is ``in_service``
IN_SERVICE_HEADERS = (DISPATCHED, STAFF)
#: optional: the training before duty (R14, where the policy trains before duty), the
#: supervising bodies (R1, where the policy has no default for the purchaser), the year's
#: assistance funds (R18, where the policy sets a floor)
OPTIONAL_HEADERS = (TRAINED, HOURS, GOVERNMENT, FINANCE, AUDIT, FUNDS)
ALL_HEADERS = (*REQUIRED_HEADERS, *IN_SERVICE_HEADERS, *OPTIONAL_HEADERS)

#: the columns a target state records, beyond the plan's (a value in another column is refused:
#: nothing in a row is silently dropped)
CONTRACT_COLUMNS = (METHOD, CONTRACTOR, SIGNED, EFFECTIVE, PRICE, TERM, FORM)
SERVICE_COLUMNS = (DISPATCHED, STAFF, TRAINED, HOURS)

TARGETS: dict[str, ProjectState] = {
    "draft": ProjectState.DRAFT,
    "草拟": ProjectState.DRAFT,
    "approved": ProjectState.APPROVED,
    "已批准": ProjectState.APPROVED,
    "contracted": ProjectState.CONTRACTED,
    "已签约": ProjectState.CONTRACTED,
    "in_service": ProjectState.IN_SERVICE,
    "服务中": ProjectState.IN_SERVICE,
}
#: 采购方式: the Chinese names of :class:`ProcurementMethod` (as the OCDS mapping states them)
#: and the codes; ``单一来源`` is also said without ``采购``
METHOD_NAMES: dict[str, ProcurementMethod] = {
    **{label.partition(" / ")[0]: m for m, (_, label) in METHODS.items()},
    "单一来源": ProcurementMethod.SINGLE_SOURCE,
    **{m.value: m for m in ProcurementMethod},
}
FORM_NAMES: dict[str, ContractForm] = {
    **{label.partition(" / ")[0]: ContractForm(code) for code, label in FORMS.items()},
    **{f.value: f for f in ContractForm},
}

#: limits: a 台账 is a few thousand rows; these keep a damaged or hostile file from filling memory
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_ROWS = 100_000
#: what a report shows of a long cell
_SHOWN = 200
#: a spreadsheet keeps 15 significant digits exactly
_EXACT_DIGITS = 15

_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PLAIN = re.compile(r"[0-9]+(\.[0-9]+)?")
_GROUPED = re.compile(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?")
_SEPARATORS = re.compile(r"[;；]")
_COLONS = re.compile(r"[:：]")
CENT = Decimal("0.01")


# -- results -------------------------------------------------------------------------------------


def shown(value: Any) -> Any:
    """A cell's value as a report shows it (JSON-able; long text cut)."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    text = str(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One bad cell (or a bad row, or a missing header): where, what, which rule, why."""

    #: the row's number as the spreadsheet shows it (1: the header row)
    row: int
    #: the column's header (None: the row as a whole)
    column: str | None
    value: Any
    rule: str | None
    code: str
    message_zh: str
    message_en: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "value": shown(self.value),
            "rule": self.rule,
            "code": self.code,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }


@dataclass(slots=True)
class RowPlan:
    """One row, parsed: what its events will carry."""

    row: int
    cells: dict[str, Any]
    title: str = ""
    purchaser: str = ""
    budget: Decimal = Decimal(0)
    items: list[dict[str, Any]] = field(default_factory=list)
    target: ProjectState = ProjectState.DRAFT
    method: ProcurementMethod | None = None
    contractor: str | None = None
    signed_on: date | None = None
    effective_on: date | None = None
    price: Decimal | None = None
    term_months: int | None = None
    form: ContractForm | None = None
    dispatched_on: date | None = None
    staff: list[dict[str, str]] = field(default_factory=list)
    trained_on: date | None = None
    training_hours: Decimal | None = None
    supervisors: dict[str, str] | None = None
    assistance_funds: Decimal | None = None


@dataclass(slots=True)
class Workbook:
    """A workbook read: its hash, its rows' plans, the problems found in its cells."""

    path: Path
    sha256: str
    rows: list[RowPlan]
    problems: list[ImportProblem]
    #: headers the import does not read (kept in the file, ignored: 序号, 备注 …)
    ignored_columns: list[str]


class _Bad(Exception):
    """A cell's value refused: the rule and the messages (the caller knows the cell)."""

    def __init__(self, zh: str, en: str, rule: str | None = None) -> None:
        super().__init__(en)
        self.zh, self.en, self.rule = zh, en, rule


# -- reading the file ----------------------------------------------------------------------------


def file_bytes(path: Path) -> bytes:
    """The file's bytes: ``NotFound`` for no file, ``ConfigurationError`` for one too large."""
    if not path.is_file():
        raise NotFound(f"文件不存在：{path}", f"no such file: {path}", field="file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ConfigurationError(
            f"{path} 过大（{size} 字节，上限 {MAX_FILE_BYTES}）：不像一个台账工作簿",
            f"{path} is too large ({size} bytes, at most {MAX_FILE_BYTES}): not a ledger workbook",
            field="file",
        )
    return path.read_bytes()


def _not_a_workbook(path: Path, exc: BaseException) -> ConfigurationError:
    reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
    return ConfigurationError(
        f"{path} 不是可读取的 Excel 工作簿（.xlsx）：{reason}",
        f"{path} is not a readable Excel workbook (.xlsx): {reason}",
        field="file",
    )


def _sheet_rows(path: Path, data: bytes) -> list[tuple[Any, ...]]:
    """The first sheet's rows, as values (formulas: their cached results). A damaged file, or
    one that is not an .xlsx workbook, is a ``ConfigurationError`` (exit 8)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # any failure to open a user's file means it is not a workbook
        raise _not_a_workbook(path, exc) from exc
    try:
        if not book.worksheets:
            raise InvalidInput(f"{path} 没有工作表", f"{path} has no worksheet", field="file")
        rows: list[tuple[Any, ...]] = []
        for values in book.worksheets[0].iter_rows(values_only=True):
            rows.append(tuple(values))
            if len(rows) > MAX_ROWS + 1:
                raise InvalidInput(
                    f"{path} 超过 {MAX_ROWS} 行：请分成几个文件导入",
                    f"{path} has more than {MAX_ROWS} rows: import it in several files",
                    field="file",
                )
        return rows
    except (InvalidInput, ConfigurationError):
        raise
    except Exception as exc:  # a damaged sheet inside a readable zip
        raise _not_a_workbook(path, exc) from exc
    finally:
        book.close()


def _header_key(text: str) -> str:
    """Headers compare without spaces and with full-width forms folded (``（月）`` = ``(月)``)."""
    return "".join(unicodedata.normalize("NFKC", text).split())


_KNOWN = {_header_key(h): h for h in ALL_HEADERS}


def read_workbook(path: str | Path) -> Workbook:
    """Read the workbook at ``path``: every row's plan and every bad cell.

    Raises:
        NotFound: no such file.
        ConfigurationError: not a readable .xlsx workbook (damaged, another format, too large).
        InvalidInput: no sheet, no header row, too many rows.
    """
    path = Path(path)
    data = file_bytes(path)
    sha = hashlib.sha256(data).hexdigest()
    rows = _sheet_rows(path, data)
    problems: list[ImportProblem] = []
    header_row = rows[0] if rows else ()
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(header_row):
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            continue
        name = _KNOWN.get(_header_key(str(cell)))
        if name is None:
            ignored.append(str(cell).strip())
        elif name in columns:
            problems.append(
                ImportProblem(
                    1,
                    name,
                    cell,
                    None,
                    "invalid_input",
                    f"表头「{name}」出现两次",
                    f"the header {name!r} appears twice",
                )
            )
        else:
            columns[name] = index
    for name in REQUIRED_HEADERS:
        if name not in columns:
            problems.append(_missing_header(name))
    plans: list[RowPlan] = []
    if not any(p.row == 1 for p in problems):
        service_rows = False
        for number, values in enumerate(rows[1:], start=2):
            if all(_blank(v) for v in values):
                continue  # an empty row (spreadsheets keep formatted blank rows)
            cells = {name: values[i] if i < len(values) else None for name, i in columns.items()}
            plan, found = parse_row(number, cells, columns)
            problems.extend(found)
            service_rows = service_rows or _targets_service(cells.get(TARGET))
            if plan is not None:
                plans.append(plan)
        if service_rows:
            # R8: an in_service row needs its dispatch: the headers once, at the header row
            problems[:0] = [_missing_header(n) for n in IN_SERVICE_HEADERS if n not in columns]
        if not plans and not problems:
            problems.append(
                ImportProblem(
                    2,
                    None,
                    None,
                    None,
                    "invalid_input",
                    "工作簿第一张表在表头下没有任何数据行",
                    "the first sheet has no data row below its headers",
                )
            )
    return Workbook(path, sha, plans, problems, ignored)


def _targets_service(value: Any) -> bool:
    key = str(value).strip() if value is not None else ""
    return TARGETS.get(key, TARGETS.get(key.lower())) is ProjectState.IN_SERVICE


def _missing_header(name: str) -> ImportProblem:
    return ImportProblem(
        1,
        name,
        None,
        None,
        "invalid_input",
        f"第一张表缺少表头「{name}」",
        f"the first sheet lacks the header {name!r}",
    )


# -- cells ---------------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Bad("须为文本", f"must be text, not {type(value).__name__}")
    return value.strip()


def money(value: Any) -> Decimal:
    """An exact amount in yuan, two places (R1, R6: refused with more)."""
    if isinstance(value, bool):
        raise _Bad("须为金额", "must be an amount of money")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = _from_double(value)
    elif isinstance(value, str):
        raw = value.strip()
        if _GROUPED.fullmatch(raw):
            raw = raw.replace(",", "")
        if not _PLAIN.fullmatch(raw):
            raise _Bad(
                "须为金额：阿拉伯数字与小数点（可用千位逗号），不接受全角数字、货币符号、科学计数法",
                "must be an amount: ASCII digits and one point (thousands commas allowed); no "
                "full-width digits, currency signs or exponent",
            )
        amount = Decimal(raw)
    else:
        raise _Bad("须为金额", f"must be an amount of money, not {type(value).__name__}")
    if amount < 0:
        raise _Bad("金额不能为负", "an amount is not negative")
    if amount != amount.quantize(CENT):
        raise _Bad("金额最多两位小数（精确到分）", "at most two decimal places (fen)")
    return amount.quantize(CENT)


def _from_double(value: float) -> Decimal:
    """The decimal a number cell shows: the shortest decimal that round-trips the stored double
    (``repr``), never float arithmetic; more significant digits than a spreadsheet keeps exactly
    are refused."""
    try:
        amount = Decimal(repr(value))
    except InvalidOperation as exc:  # pragma: no cover - repr of a float always parses
        raise _Bad("须为数字", "must be a number") from exc
    if not amount.is_finite():
        raise _Bad("须为有限数", "must be a finite number")
    if len(amount.normalize().as_tuple().digits) > _EXACT_DIGITS:
        raise _Bad(
            f"数字超过 {_EXACT_DIGITS} 位有效数字，电子表格无法精确保存：请以文本填写",
            f"more than {_EXACT_DIGITS} significant digits, which a spreadsheet does not keep "
            "exactly: write it as text",
        )
    return amount


def day(value: Any) -> date:
    """A date: a date cell without a time of day, or ``YYYY-MM-DD`` text."""
    if isinstance(value, datetime):
        if value.time() != time(0, 0):
            raise _Bad("须为日期（不含时刻）", "must be a date without a time of day")
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        raw = value.strip()
        if not _DATE_TEXT.fullmatch(raw):
            raise _Bad("须为日期，格式 YYYY-MM-DD", "must be a date, YYYY-MM-DD")
        try:
            return date.fromisoformat(raw)
        except ValueError as exc:
            raise _Bad("不是有效日期", "is not a valid date") from exc
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise _Bad(
            "是数字而不是日期：请把单元格设为日期格式，或填写 YYYY-MM-DD",
            "is a number, not a date: format the cell as a date or write YYYY-MM-DD",
        )
    raise _Bad("须为日期", f"must be a date, not {type(value).__name__}")


def whole(value: Any) -> int:
    """A whole number (months)."""
    if isinstance(value, bool):
        raise _Bad("须为整数", "must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        exact = _from_double(value)
        if exact != exact.to_integral_value():
            raise _Bad("须为整数", "must be a whole number")
        return int(exact)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    raise _Bad("须为整数", "must be a whole number")


def hours(value: Any) -> Decimal:
    """Training hours: an exact number, more than 0, at most two places (R14)."""
    amount = money(value)
    if amount <= 0:
        raise _Bad("培训学时须大于 0", "training hours must be more than 0", "R14")
    return amount


def _entries(value: Any, what_zh: str, what_en: str) -> Iterator[list[str]]:
    """``a:b;c:d`` (full-width ``：``/``；`` too) as lists of parts."""
    raw = text(value)
    found = False
    for chunk in _SEPARATORS.split(raw):
        chunk = chunk.strip()
        if not chunk:
            continue
        found = True
        yield [part.strip() for part in _COLONS.split(chunk)]
    if not found:
        raise _Bad(f"没有任何{what_zh}", f"no {what_en}")


def items(value: Any) -> list[dict[str, Any]]:
    """``名称:数量`` separated by ``;`` (R1): each name not empty, each quantity an exact number
    more than 0."""
    out: list[dict[str, Any]] = []
    for parts in _entries(value, "服务项目", "service item"):
        if len(parts) != 2 or not parts[0] or not parts[1]:
            raise _Bad(
                f"服务项目「{'：'.join(parts)}」须写成 名称:数量",
                f"the service item {':'.join(parts)!r} must be written name:quantity",
                "R1",
            )
        name, quantity = parts
        if not _PLAIN.fullmatch(quantity) or Decimal(quantity) <= 0:
            raise _Bad(
                f"服务项目「{name}」的数量「{quantity}」须为大于 0 的阿拉伯数字",
                f"the quantity {quantity!r} of {name!r} must be a number (ASCII digits) above 0",
                "R1",
            )
        out.append({"name": name, "quantity": quantity})
    return out


def staff(value: Any) -> list[dict[str, str]]:
    """``姓名:学历[:服务单位]`` separated by ``;`` (R8, R17)."""
    out: list[dict[str, str]] = []
    for parts in _entries(value, "派遣人员", "staff member"):
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise _Bad(
                f"派遣人员「{'：'.join(parts)}」须写成 姓名:学历 或 姓名:学历:服务单位",
                f"the staff member {':'.join(parts)!r} must be written name:education or "
                "name:education:office",
                "R8",
            )
        if parts[1] not in EDUCATION_LEVELS:
            raise _Bad(
                f"{parts[0]} 的学历「{parts[1]}」须为 {'、'.join(EDUCATION_LEVELS)} 之一",
                f"{parts[0]}'s education {parts[1]!r} must be one of {', '.join(EDUCATION_LEVELS)}",
                "R8",
            )
        member = {"name": parts[0], "education": parts[1]}
        if len(parts) == 3 and parts[2]:
            member["office"] = parts[2]
        out.append(member)
    return out


def _choice(value: Any, names: Mapping[str, Any], what_zh: str, what_en: str, rule: str) -> Any:
    raw = text(value)
    found = names.get(raw) if raw in names else names.get(raw.lower())
    if found is None:
        chinese = [k for k in names if not k.isascii()]
        codes = [k for k in names if k.isascii()]
        raise _Bad(
            f"{what_zh}须为 {'、'.join(chinese)} 之一（或代码 {', '.join(codes)}）",
            f"{what_en} must be one of {', '.join(codes)} (or its Chinese name)",
            rule,
        )
    return found


# -- a row ---------------------------------------------------------------------------------------

#: how each column is parsed, and the rule its value stands under
_PARSERS: dict[str, tuple[Any, str | None]] = {
    TITLE: (text, None),
    PURCHASER: (text, "R1"),
    BUDGET: (money, "R1"),
    ITEMS: (items, "R1"),
    METHOD: (lambda v: _choice(v, METHOD_NAMES, "采购方式", "the method", "R3"), "R3"),
    CONTRACTOR: (text, "R4"),
    SIGNED: (day, "R6"),
    EFFECTIVE: (day, "R6"),
    PRICE: (money, "R6"),
    TERM: (whole, "R6"),
    FORM: (lambda v: _choice(v, FORM_NAMES, "合同形式", "the form", "R6"), "R6"),
    DISPATCHED: (day, "R8"),
    STAFF: (staff, "R8"),
    TRAINED: (day, "R14"),
    HOURS: (hours, "R14"),
    GOVERNMENT: (text, "R1"),
    FINANCE: (text, "R1"),
    AUDIT: (text, "R1"),
    FUNDS: (money, "R18"),
}


def parse_row(
    number: int, cells: dict[str, Any], columns: Mapping[str, int]
) -> tuple[RowPlan | None, list[ImportProblem]]:
    """Parse one row: its plan (None when a cell is bad) and every bad cell."""
    problems: list[ImportProblem] = []

    def bad(column: str | None, zh: str, en: str, rule: str | None = None) -> None:
        value = cells.get(column) if column else None
        problems.append(ImportProblem(number, column, value, rule, "invalid_input", zh, en))

    target: ProjectState | None = None
    raw_target = cells.get(TARGET)
    if _blank(raw_target):
        bad(TARGET, "缺少目标状态", "the target state is missing")
    else:
        key = str(raw_target).strip()
        target = TARGETS.get(key, TARGETS.get(key.lower()))
        if target is None:
            bad(
                TARGET,
                "目标状态须为 draft、approved、contracted、in_service（或 草拟、已批准、已签约、"
                "服务中）",
                "the target state must be draft, approved, contracted or in_service",
            )
    required = [TITLE, PURCHASER, BUDGET, ITEMS]
    allowed = set(required) | {GOVERNMENT, FINANCE, AUDIT, FUNDS}
    if target in (ProjectState.CONTRACTED, ProjectState.IN_SERVICE):
        required += list(CONTRACT_COLUMNS)
        allowed |= set(CONTRACT_COLUMNS) | {TRAINED, HOURS}
    if target is ProjectState.IN_SERVICE:
        required += list(IN_SERVICE_HEADERS)
        allowed |= set(SERVICE_COLUMNS)
    #: a header this row needs is missing: reported once, at the header row, by the caller
    unplannable = any(c not in columns for c in required)
    parsed: dict[str, Any] = {}
    for column in ALL_HEADERS:
        value = cells.get(column)
        if column == TARGET:
            continue
        if _blank(value):
            if column in required and column in columns:
                bad(
                    column,
                    f"缺少必填值（目标状态 {target.value if target else '?'}）",
                    f"a value is required (target {target.value if target else '?'})",
                    _PARSERS[column][1],
                )
            continue
        if target is not None and column not in allowed:
            bad(
                column,
                f"目标状态 {target.value} 不记录「{column}」：请留空，或改目标状态",
                f"target {target.value} does not record {column!r}: leave it empty or change "
                "the target",
            )
            continue
        parser, rule = _PARSERS[column]
        try:
            parsed[column] = parser(value)
        except _Bad as exc:
            bad(column, exc.zh, exc.en, exc.rule or rule)
    bodies = [parsed.get(c) for c in (GOVERNMENT, FINANCE, AUDIT)]
    if any(bodies) and not all(bodies):
        for column, body in zip((GOVERNMENT, FINANCE, AUDIT), bodies, strict=True):
            if not body:
                bad(
                    column,
                    "监督机关须三者都填（本级人民政府、财政局、审计局），或都不填（用政策的默认）",
                    "the supervising bodies are given all three (government, finance, audit) "
                    "or none (the policy's defaults)",
                    "R1",
                )
    if (TRAINED in parsed) != (HOURS in parsed) and target is not None:
        missing = HOURS if TRAINED in parsed else TRAINED
        bad(
            missing,
            "上岗前培训须同时填写培训日期和培训学时",
            "a training before duty needs both its date and its hours",
            "R14",
        )
    if (
        target in (ProjectState.APPROVED, ProjectState.CONTRACTED, ProjectState.IN_SERVICE)
        and BUDGET in parsed
        and parsed[BUDGET] <= 0
    ):
        bad(
            BUDGET, "报批的预算须大于 0", "a plan submitted for approval has a budget above 0", "R1"
        )
    if problems or target is None or unplannable:
        return None, problems
    plan = RowPlan(
        row=number,
        cells=cells,
        title=parsed[TITLE],
        purchaser=parsed[PURCHASER],
        budget=parsed[BUDGET],
        items=parsed[ITEMS],
        target=target,
        method=parsed.get(METHOD),
        contractor=parsed.get(CONTRACTOR),
        signed_on=parsed.get(SIGNED),
        effective_on=parsed.get(EFFECTIVE),
        price=parsed.get(PRICE),
        term_months=parsed.get(TERM),
        form=parsed.get(FORM),
        dispatched_on=parsed.get(DISPATCHED),
        staff=parsed.get(STAFF, []),
        trained_on=parsed.get(TRAINED),
        training_hours=parsed.get(HOURS),
        supervisors=(
            {"government": str(bodies[0]), "finance": str(bodies[1]), "audit": str(bodies[2])}
            if all(bodies)
            else None
        ),
        assistance_funds=parsed.get(FUNDS),
    )
    return plan, problems
