"""``gpw``: the command line. Thin: parse, call the facade, print. Only this module reads GPW_*.

Exit codes:

* 0 done;
* 1 an unexpected internal error (a bug: the message names it; no traceback is printed);
* 2 usage (an unknown command or option, a value of the wrong type);
* 3 invalid input (a field, a JSON text, a number out of range, an unknown filter value);
* 4 refused (illegal transition, forbidden, a guard R1–R20);
* 5 not found (a project, notice, contractor, person, a database file or its folder, a file);
* 6 conflict (concurrent update);
* 7 the audit trail does not verify;
* 8 bad configuration or database: channels, SMTP, templates, a missing database driver, a file
  that is not a gpw database (foreign, empty, damaged, not SQLite; left byte-for-byte unchanged),
  a read-only file for a write command, ``gpw demo`` on a database it did not make, a file that
  is not a readable .xlsx workbook (``gpw import``);
* 9 ``gpw health``: unhealthy (a dead or undeliverable notice, a dead subscription delivery,
  tick or relay not run within its threshold, a due stage waiting longer than its threshold).

Read commands (``project show|list|history``, ``events``, ``verify``, ``notices list|show``,
``inbox``, ``directory list``, ``subscription list|deliveries``, ``contractor show``,
``calendar show|check``, ``health``) open the
database read-only and never create or alter one. Numbers on the command line (``key=value``,
``--data``, ``--items-json``) are read as decimals, never floats. ``--json`` may come before or
after the subcommand.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import typer

from states.enums import QUALIFICATIONS, ProjectState
from states.errors import (
    ConcurrentUpdate,
    ConfigurationError,
    Forbidden,
    GuardRefused,
    IllegalTransition,
    InvalidInput,
    NotFound,
    Unauthenticated,
    WorkflowError,
)
from states.model import Actor
from states.policy import BUILTIN_POLICIES, Policy, load_policy

EXIT_INTERNAL, EXIT_USAGE = 1, 2
EXIT_INVALID, EXIT_REFUSED, EXIT_NOT_FOUND, EXIT_CONFLICT, EXIT_UNVERIFIED = 3, 4, 5, 6, 7
EXIT_CONFIG, EXIT_UNHEALTHY = 8, 9

#: the largest id SQLite and PostgreSQL store (a larger one would overflow the driver)
MAX_ID = 2**63 - 1
#: the default number of rows a list command shows
DEFAULT_LIMIT = 100
#: top-level commands whose ``_wf()`` opens the database read-only by default (the others write;
#: group commands say which they need)
READ_COMMANDS = frozenset({"verify", "events", "health", "inbox", "ledger"})
LOCAL_TZ = ZoneInfo("Asia/Shanghai")
NONE_TEXT = "无 / none"

app = typer.Typer(
    name="gpw",
    help="gpw：政府购买社会救助服务工作流 / Government Purchase Workflow",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
project_app = typer.Typer(help="项目 / projects", no_args_is_help=True)
calendar_app = typer.Typer(help="工作日历 / working-day calendar", no_args_is_help=True)
policy_app = typer.Typer(help="地区政策 / regional policies", no_args_is_help=True)
contractor_app = typer.Typer(help="承接主体 / contractors", no_args_is_help=True)
app.add_typer(project_app, name="project")
app.add_typer(calendar_app, name="calendar")
app.add_typer(policy_app, name="policy")
app.add_typer(contractor_app, name="contractor")


class _State:
    db: str = "sqlite:///gpw.db"
    json: bool = False
    policy: str = "dawukou-2019"
    notices: str | None = None
    command: str | None = None


STATE = _State()


def _url(db: str) -> str:
    if not db.strip():
        raise ConfigurationError(
            "--db 为空：请给出 SQLite 文件或数据库 URL",
            "--db is empty: give an SQLite file or a database URL",
            field="db",
        )
    return db if "://" in db else f"sqlite:///{db}"


@app.callback()
def _options(
    ctx: typer.Context,
    db: Annotated[
        str,
        typer.Option(
            help="数据库 URL 或 SQLite 文件 / database URL or SQLite file",
            envvar=["GPW_DATABASE_URL", "GPW_DB"],
        ),
    ] = "gpw.db",
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
    policy: Annotated[
        str, typer.Option(help="新项目的默认政策 / default policy", envvar="GPW_POLICY")
    ] = "dawukou-2019",
    notices: Annotated[
        str | None,
        typer.Option(
            help="通知渠道配置（TOML）/ notice channels file; else GPW_CHANNELS, GPW_SMTP_*",
            envvar="GPW_NOTICES",
        ),
    ] = None,
) -> None:
    STATE.db = _url(db)
    STATE.json = STATE.json or as_json
    STATE.policy = policy
    STATE.notices = notices
    STATE.command = ctx.invoked_subcommand


def _wf(mode: Literal["read", "write"] | None = None) -> Any:
    """The workflow on ``--db``. ``read``: an existing gpw database, opened read-only (a missing
    file exits 5, another kind of file 8, unchanged); ``write``: may create a new file. Without
    ``mode``: read for the commands in READ_COMMANDS, write otherwise."""
    from notifications.channels import NoticeConfig
    from workflow.facade import Workflow

    if mode is None:
        mode = "read" if STATE.command in READ_COMMANDS else "write"
    # only the CLI reads the environment (everything else is injected)
    config = (
        NoticeConfig.from_file(STATE.notices)
        if STATE.notices
        else NoticeConfig.from_env(os.environ)
    )
    extra: dict[str, Any] = {"pool": _env_pool(os.environ)}
    clock = _env_clock(os.environ.get("GPW_NOW"), os.environ.get("GPW_NOW_SINCE"))
    if clock is not None:
        extra["clock"] = clock
    # disclosure (issue #9): the registered ocid prefix, a host's redaction rules
    if os.environ.get("GPW_OCID_PREFIX"):
        extra["ocid_prefix"] = os.environ["GPW_OCID_PREFIX"]
    if os.environ.get("GPW_REDACTION"):
        extra["redaction"] = os.environ["GPW_REDACTION"]
    # subscriptions (issue #11): the URI naming this instance, the CloudEvents' source
    if os.environ.get("GPW_INSTANCE"):
        extra["instance"] = os.environ["GPW_INSTANCE"]
    opened = Workflow.open(
        STATE.db,
        policy=STATE.policy,
        notices=config,
        channels=config.build_channels(echo=typer.echo),
        mode=mode,
        **extra,
    )
    _OPENED.append(opened)  # closed when the command ends (main), leaving no connection open
    return opened


#: the workflows this run opened
_OPENED: list[Any] = []


#: environment variable → PoolSettings field (docs/deployment.md)
_POOL_ENV = {
    "GPW_DB_POOL_SIZE": ("size", int),
    "GPW_DB_MAX_OVERFLOW": ("max_overflow", int),
    "GPW_DB_POOL_TIMEOUT": ("timeout", float),
    "GPW_DB_CONNECT_TIMEOUT": ("connect_timeout", int),
    "GPW_DB_STATEMENT_TIMEOUT": ("statement_timeout", float),
}


def _env_pool(env: Mapping[str, str]) -> Any:
    """A server database's pool from GPW_DB_* variables (unset: gpw's defaults)."""
    from workflow.persistence import PoolSettings

    values: dict[str, Any] = {}
    for name, (field, kind) in _POOL_ENV.items():
        raw = env.get(name)
        if raw is None or raw == "":
            continue
        try:
            value = kind(raw)
        except ValueError as exc:
            raise ConfigurationError(
                f"{name} 须为数字：{raw}", f"{name} must be a number: {raw}", field=name
            ) from exc
        if value < 0:
            raise ConfigurationError(
                f"{name} 不能为负：{raw}", f"{name} may not be negative: {raw}", field=name
            )
        values[field] = value
    return PoolSettings(**values)


def _env_clock(value: str | None, since: str | None = None) -> Any:
    """``GPW_NOW`` (an aware ISO datetime): the process's clock reads that instant at the real time
    ``GPW_NOW_SINCE`` (Unix seconds; default: when the process starts) and runs on in real time.
    Several processes given the same pair share one clock. For drills and tests that must not
    depend on today's date; never set in production."""
    if not value:
        return None
    import time
    from datetime import timedelta

    try:
        start = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ConfigurationError(
            f"GPW_NOW 不是 ISO 时间：{value}",
            f"GPW_NOW is not an ISO datetime: {value}",
            field="GPW_NOW",
        ) from exc
    if start.tzinfo is None:
        raise ConfigurationError(
            "GPW_NOW 须带时区", "GPW_NOW must carry a timezone", field="GPW_NOW"
        )
    try:
        began = float(since) if since else time.time()
    except ValueError as exc:
        raise ConfigurationError(
            f"GPW_NOW_SINCE 须为 Unix 秒数：{since}",
            f"GPW_NOW_SINCE must be Unix seconds: {since}",
            field="GPW_NOW_SINCE",
        ) from exc

    def clock() -> datetime:
        return start + timedelta(seconds=time.time() - began)

    return clock


def _shown_db() -> str:
    from workflow.persistence import safe_url

    return safe_url(STATE.db)


def _check_id(value: int | None, field: str) -> None:
    """Ids are 1 … 2**63−1: a larger one would overflow the database driver."""
    if value is not None and not 1 <= value <= MAX_ID:
        raise InvalidInput(
            f"{field} 超出范围（1 至 {MAX_ID}）：{value}",
            f"{field} is out of range (1 to {MAX_ID}): {value}",
            field=field,
        )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _json_text(text: str, field: str) -> Any:
    """Parse a JSON option; numbers with a point are Decimal (never float); NaN is refused."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except ValueError as exc:
        raise InvalidInput(
            f"{field} 不是有效的 JSON：{exc}",
            f"{field} is not valid JSON: {exc}",
            field=field.lstrip("-").replace("-", "_"),
        ) from exc


def _limit(limit: int) -> int:
    if not 1 <= limit <= 100_000:
        raise InvalidInput(
            f"--limit 须在 1 至 100000 之间：{limit}",
            f"--limit must be between 1 and 100000: {limit}",
            field="limit",
        )
    return limit


def _listing(rows: Sequence[Any], limit: int, lines: Sequence[str], empty: str) -> None:
    """Print a list cut at ``limit`` (the caller fetched ``limit + 1`` rows to tell):
    JSON ``{"items", "truncated", "limit"}``; text with a line saying it was cut."""
    truncated = len(rows) > limit
    shown = [r.to_dict() if hasattr(r, "to_dict") else r for r in rows[:limit]]
    text = "\n".join(lines[:limit]) or empty
    if truncated:
        text += (
            f"\n（仅显示前 {limit} 条，还有更多；可用 --limit 调整）"
            f" / (showing the first {limit}; there are more: use --limit)"
        )
    _out({"items": shown, "truncated": truncated, "limit": limit}, text)


LimitOpt = Annotated[
    int, typer.Option(help=f"最多显示条数 / at most this many rows (default {DEFAULT_LIMIT})")
]


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _out(value: Any, text: str | None = None) -> None:
    if STATE.json or text is None:
        typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=_jsonable))
    else:
        typer.echo(text)


def _actor(actor: str, role: str, org: str) -> Actor:
    return Actor(id=actor, role=role, org=org)


ActorOpt = Annotated[str, typer.Option("--actor", help="操作人 / who acts", envvar="GPW_ACTOR")]
RoleOpt = Annotated[str, typer.Option("--role", help="角色 / role", envvar="GPW_ROLE")]
OrgOpt = Annotated[str, typer.Option("--org", help="所属单位 / organisation", envvar="GPW_ORG")]
AtOpt = Annotated[
    str | None, typer.Option("--at", help="记录时间（带时区 ISO）/ aware ISO datetime")
]


def _parse_at(at: str | None) -> datetime | None:
    if at is None:
        return None
    try:
        return datetime.fromisoformat(at)
    except ValueError as exc:
        raise InvalidInput(
            f"--at 不是 ISO 时间：{at}", f"--at is not an ISO datetime: {at}", field="at"
        ) from exc


@app.command()
def init() -> None:
    """建库或升级 / create the database, or bring an older one to this release's schema."""
    _upgrade_schema("已初始化 / initialised")


db_app = typer.Typer(help="数据库结构 / the database schema (Alembic)", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _revision_text(revision: str | None) -> str:
    return revision or "无 / none"


def _upgrade_schema(done: str) -> None:
    """Upgrade ``--db`` (created if it is a new file; never a foreign, damaged or read-only one)
    and say from which revision to which."""
    from workflow import schema
    from workflow.persistence import check_database

    check_database(STATE.db, "write")
    result = schema.upgrade(STATE.db)
    before, after = _revision_text(result.before), result.after
    text = (
        f"{done}: {_shown_db()}\n数据库结构 / schema: {before} → {after}"
        if result.changed
        else f"{done}: {_shown_db()}\n数据库结构已是最新 / schema already current: {after}"
    )
    _out({"db": _shown_db(), "ok": True, **result.to_dict()}, text)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """升级数据库结构 / bring an empty or older database to this release's schema."""
    _upgrade_schema("已升级 / upgraded")


@db_app.command("current")
def db_current() -> None:
    """数据库结构版本 / the database's schema revision and this release's (reads only)."""
    from workflow import schema
    from workflow.persistence import check_database, make_engine

    check_database(STATE.db, "read")
    engine = make_engine(STATE.db, read_only=True)
    try:
        with engine.connect() as conn:
            current = schema.current_revision(conn)
    finally:
        engine.dispose()
    head = schema.head_revision()
    if current == head:
        state = "已是最新 / up to date"
    elif current is not None and current not in schema.known_revisions():
        state = "比本程序新：请升级 gpw / newer than this release: upgrade gpw"
    else:
        state = "过旧：请运行 gpw db upgrade / older: run gpw db upgrade"
    _out(
        {"db": _shown_db(), "current": current, "head": head, "up_to_date": current == head},
        f"{_shown_db()}\n当前 / current: {_revision_text(current)}\n"
        f"本程序 / this release: {head}\n{state}",
    )


# -- projects -----------------------------------------------------------------------------------


def _item(spec: str) -> dict[str, Any]:
    name, _, qty = spec.partition(":")
    return {"name": name, "quantity": qty or "1"}


@project_app.command("create")
def project_create(
    title: Annotated[str, typer.Option(help="项目名称 / title")],
    purchaser: Annotated[str, typer.Option(help="购买主体 / purchaser")],
    budget: Annotated[str, typer.Option(help="预算（元）/ budget, yuan")],
    item: Annotated[
        list[str] | None, typer.Option(help="服务项目 名称:数量 / name:quantity")
    ] = None,
    items_json: Annotated[
        str | None, typer.Option(help="服务项目 JSON 列表 / items as JSON")
    ] = None,
    actor: ActorOpt = "cli",
    role: RoleOpt = "purchaser",
    org: OrgOpt = "",
    at: AtOpt = None,
    assistance_funds: Annotated[
        str | None,
        typer.Option(help="本年度社会救助专项经费（元，R18）/ the year's assistance funds, yuan"),
    ] = None,
) -> None:
    """立项 / draft a purchase plan (R1)."""
    items = _json_text(items_json, "--items-json") if items_json else [_item(s) for s in item or []]
    wf = _wf("write")
    pid = wf.create_project(
        actor=_actor(actor, role, org),
        title=title,
        purchaser=purchaser,
        budget=budget,
        items=items,
        at=_parse_at(at),
        assistance_funds=assistance_funds,
    )
    _out({"id": pid}, f"项目 / project {pid}")


def _project_text(view: Any) -> str:
    lines = [f"#{view.id} {view.title}  [{view.state}]  v{view.version}  {view.purchaser}"]
    for d in view.deadlines:
        flag = " 暂定/provisional" if d.provisional else ""
        met = f" 已完成/met {d.met_on}" + (" 逾期/late" if d.late else "") if d.met_on else ""
        lines.append(f"  期限 {d.key:<14} {d.due}{flag}  {d.status}{met}  ({d.rule}, {d.owner})")
    for p in view.payments:
        lines.append(
            f"  拨付 tranche {p.tranche}: {p.amount} 元 on {p.on}"
            + (" 逾期/late" if p.late else "")
        )
    return "\n".join(lines)


@project_app.command("show")
def project_show(project_id: int) -> None:
    """项目详情 / show a project: state, version, deadlines, payments."""
    _check_id(project_id, "project_id")
    view = _wf("read").project(project_id)
    _out(view.to_dict(), _project_text(view))


@project_app.command("list")
def project_list(
    state: Annotated[str | None, typer.Option(help="按状态筛选 / filter by state")] = None,
    limit: LimitOpt = DEFAULT_LIMIT,
) -> None:
    """项目列表 / list projects, newest first."""
    allowed = [s.value for s in ProjectState]
    if state is not None and state not in allowed:
        raise InvalidInput(
            f"--state 取值未知：{state!r}（可用：{', '.join(allowed)}）",
            f"--state: unknown state {state!r}; allowed: {', '.join(allowed)}",
            field="state",
        )
    rows = _wf("read").projects(state=state, limit=_limit(limit) + 1)
    _listing(
        rows,
        limit,
        [f"#{r['id']} [{r['state']}] v{r['version']} {r['title']}" for r in rows],
        "（无项目 / no projects）",
    )


@project_app.command("history")
def project_history(project_id: int) -> None:
    """留痕 / a project's audit trail."""
    _check_id(project_id, "project_id")
    entries = _wf("read").history(project_id)
    _out(
        [e.to_dict() for e in entries],
        "\n".join(
            f"{e.seq:>3} {e.at.isoformat()} {e.role}:{e.actor_id} {e.event} "
            f"{e.from_state}→{e.to_state}"
            for e in entries
        ),
    )


def event_fields(event: str) -> list[dict[str, Any]]:
    """An event's data fields (shared with the web: ``workflow.services.events``)."""
    from workflow.services.events import event_fields as fields_of

    return fields_of(event)


def _fields_text(event: str, fields: list[dict[str, Any]]) -> str:
    if not fields:
        return f"{event}: （无字段 / no fields）"
    lines = [f"{event}:"]
    for f in fields:
        need = "必填 / required" if f["required"] else "可选 / optional"
        allowed = f"  取值 / allowed: {', '.join(map(str, f['allowed']))}" if f["allowed"] else ""
        lines.append(f"  {f['name']:<18} {f['type']:<22} {need}{allowed}")
    return "\n".join(lines)


@app.command()
def events(
    project_id: int,
    actor: ActorOpt = "cli",
    role: RoleOpt = "purchaser",
    org: OrgOpt = "",
    fields: Annotated[
        bool,
        typer.Option(
            "--fields", help="列出每个操作的字段、类型与取值 / each event's fields and types"
        ),
    ] = False,
) -> None:
    """可执行的操作 / events this role may fire now (--fields: with their data fields)."""
    _check_id(project_id, "project_id")
    names = _wf("read").available_events(project_id, _actor(actor, role, org))
    if not fields:
        _out(names, " ".join(names) or NONE_TEXT)
        return
    described = [{"event": name, "fields": event_fields(name)} for name in names]
    _out(
        described,
        "\n".join(_fields_text(d["event"], d["fields"]) for d in described) or NONE_TEXT,
    )


def _coerce(value: str) -> Any:
    """A ``key=value`` value: JSON if it parses (numbers with a point as Decimal, never float),
    else the text itself."""
    try:
        return json.loads(value, parse_float=Decimal, parse_constant=_refuse_constant)
    except ValueError:
        return value


#: ``fire``'s own parameters: never event data (each names the option to use instead)
_RESERVED_KEYS = {
    "actor": "--actor",
    "at": "--at",
    "expected_version": "--expected-version",
    "project_id": "PROJECT_ID",
    "event": "EVENT",
}


def _check_key(key: str, source: str) -> None:
    if not key:
        raise InvalidInput(
            f"{source}：字段名为空", f"{source}: a field name is empty", field="fields"
        )
    if key in _RESERVED_KEYS:
        use = _RESERVED_KEYS[key]
        raise InvalidInput(
            f"{source}：{key} 不是事件数据，请用 {use}",
            f"{source}: {key} is not event data; use {use}",
            field=key,
        )


@app.command()
def fire(
    project_id: int,
    event: str,
    fields: Annotated[
        list[str] | None, typer.Argument(help="字段 key=value（值可为 JSON）")
    ] = None,
    data: Annotated[str | None, typer.Option(help="事件数据 JSON / event data as JSON")] = None,
    expected_version: Annotated[
        int | None, typer.Option(help="期望版本 / expected version")
    ] = None,
    actor: ActorOpt = "cli",
    role: RoleOpt = "purchaser",
    org: OrgOpt = "",
    at: AtOpt = None,
) -> None:
    """执行操作 / fire an event: gpw fire 1 pay tranche=1 amount=30000.00 on=2026-05-06

    Values are JSON when they parse (numbers are exact decimals), else text; --data takes the
    whole event data as one JSON object. See each event's fields: gpw events ID --fields."""
    _check_id(project_id, "project_id")
    _check_id(expected_version, "expected_version")
    payload: dict[str, Any] = {}
    if data:
        parsed = _json_text(data, "--data")
        if not isinstance(parsed, dict):
            raise InvalidInput(
                "--data 须为 JSON 对象（{...}）",
                "--data must be a JSON object ({...})",
                field="data",
            )
        for key in parsed:
            _check_key(str(key), "--data")
        payload.update(parsed)
    for spec in fields or []:
        key, sep, value = spec.partition("=")
        if not sep:
            raise InvalidInput(
                f"参数须为 key=value：{spec}", f"expected key=value: {spec}", field=spec
            )
        _check_key(key.strip(), "key=value")
        payload[key.strip()] = _coerce(value)
    view = _wf("write").fire(
        project_id,
        event,
        actor=_actor(actor, role, org),
        at=_parse_at(at),
        expected_version=expected_version,
        **payload,
    )
    _out(view.to_dict(), _project_text(view))


@app.command()
def verify(
    anchor_file: Annotated[
        str | None,
        typer.Option(
            "--anchor",
            help="锚点文件或网址（gpw anchor 保存或公开发布的）：核验日志仍延续它 / an anchor "
            "file or URL (saved by gpw anchor, or published): check that the log still extends it",
        ),
    ] = None,
) -> None:
    """核验留痕 / verify every audit chain, the project and deadline rows it vouches for, and
    (--anchor) that the log still extends a saved anchor (R15)."""
    from workflow.services.disclosure import load_anchor

    saved: Any = None
    if anchor_file is not None:
        saved = load_anchor(anchor_file)  # a file, or fetched from an http(s) URL
    wf = _wf("read")
    try:
        report = wf.verify(anchor=saved)
    except InvalidInput as exc:
        raise InvalidInput(
            f"锚点文件 {anchor_file}：{exc.message_zh}",
            f"anchor file {anchor_file}: {exc.message_en}",
            field=exc.field,
            rule=exc.rule,
        ) from exc
    finally:
        wf.close()
    lines = [
        f"篡改 / ALTERED: {len(report.problems)} 处 / problem(s), 首处 / first {report.first_bad}"
    ]
    lines += [
        f"  [{p['kind']}] {p['stream'] or 'anchor'} #{p['seq'] if p['seq'] is not None else '-'}"
        f"{' ' + p['key'] if p.get('key') else ''}: {p['reason']}"
        for p in report.problems
    ]
    _out(
        report.to_dict(),
        f"OK: {report.entries} 条 / entries, {report.streams} 链 / chains"
        + (f"；已核对锚点 / anchor checked: {anchor_file}" if anchor_file is not None else "")
        if report.ok
        else "\n".join(lines),
    )
    if not report.ok:
        raise typer.Exit(EXIT_UNVERIFIED)


@app.command()
def anchor(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="写入此文件（否则打印）/ write it to this file (else print)"),
    ] = None,
    publish: Annotated[
        bool,
        typer.Option(
            "--publish",
            help="同时发布到公开锚点表（公开接口提供）/ also publish it in the public feed's table",
        ),
    ] = False,
) -> None:
    """留痕锚点 / the head of every audit stream and one digest over them: keep it outside the
    database, then gpw verify --anchor FILE|URL finds a chain cut back and its head rewritten.
    --publish also publishes it (the worker publishes one a day by itself)."""
    wf = _wf("write" if publish else "read")
    try:
        saved = wf.disclosure.publish_anchor() if publish else wf.anchor()
    finally:
        wf.close()
    text = json.dumps(saved, ensure_ascii=False, indent=2)
    if out is None:
        typer.echo(text)
        return
    try:
        out.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(
            f"无法写入锚点文件 {out}：{exc}",
            f"cannot write the anchor file {out}: {exc}",
            field="out",
            rule="R15",
        ) from exc
    streams, digest = len(saved["heads"]), saved["digest"]
    _out(
        {"file": str(out), "streams": streams, "digest": digest},
        f"锚点已保存 / anchor saved: {out}（{streams} 链 / streams, digest {digest[:16]}…）",
    )


# -- disclosure and ledgers (issue #9) ----------------------------------------------------------


@app.command()
def disclose(
    ids: Annotated[
        list[int] | None, typer.Argument(help="项目编号（缺省：全部）/ project ids (default: all)")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="写入此文件（否则打印）/ write to this file (else print)"),
    ] = None,
    records: Annotated[
        bool,
        typer.Option("--records", help="输出汇编记录（ocdsmerge）/ compiled records instead"),
    ] = False,
    backfill: Annotated[
        bool,
        typer.Option(
            "--backfill",
            help="先为尚无发布的项目补发一条当前状态的发布 / first publish one release for each "
            "project that has none (made before disclosure)",
        ),
    ] = False,
) -> None:
    """公开发布（OCDS 1.1.5）/ write the release packages (or --records, the compiled records)
    of projects; --backfill publishes the projects made before disclosure first."""
    for i in ids or []:
        _check_id(i, "id")
    wf = _wf("write" if backfill else "read")
    try:
        filled = wf.disclosure.backfill() if backfill else []
        wanted = ids or None
        if wanted is not None:
            for i in wanted:
                wf.project(i)  # ProjectNotFound (exit 5), naming it
        value = wf.disclosure.records(wanted) if records else wf.disclosure.packages(wanted)
    finally:
        wf.close()
    count = len(value["records"] if records else value["releases"])
    what = "条汇编记录 / records" if records else "条发布 / releases"
    summary = {"count": count, "backfilled": filled, "file": str(out) if out else None}
    if out is None:
        typer.echo(json.dumps(value, ensure_ascii=False, indent=2))
        return
    try:
        out.write_text(json.dumps(value, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(
            f"无法写入 {out}：{exc.strerror or exc}",
            f"cannot write {out}: {exc.strerror or exc}",
            field="out",
        ) from exc
    _out(
        summary,
        f"已写入 / written: {out}（{count} {what}"
        + (f"；补发 / backfilled {len(filled)} 个项目 / projects" if filled else "")
        + "）",
    )


@app.command()
def ledger(
    ids: Annotated[
        list[int] | None, typer.Argument(help="项目编号（缺省：全部）/ project ids (default: all)")
    ] = None,
    date_from: Annotated[
        str | None, typer.Option("--from", help="起始日期 / from (YYYY-MM-DD, inclusive)")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="截止日期 / to (YYYY-MM-DD, inclusive)")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", help="xlsx（一表一类）或 csv（一类一文件，打包为 zip）")
    ] = "xlsx",
    out: Annotated[Path | None, typer.Option("--out", help="输出文件 / output file")] = None,
) -> None:
    """台账（R16）/ the ledger for auditors: one sheet per kind (plans, procurement, contracts,
    staff, payments, evaluations, rectifications, subcontracts, notices, finance), every row
    with its audit hash. --format xlsx, or csv: one CSV per sheet in a ZIP."""
    if fmt not in ("xlsx", "csv"):
        raise InvalidInput(
            f"--format 须为 xlsx 或 csv：{fmt}", f"--format is xlsx or csv: {fmt}", field="format"
        )
    if out is None:
        raise InvalidInput("需要 --out 文件", "--out FILE is required", field="out")
    for i in ids or []:
        _check_id(i, "id")
    wf = _wf("read")
    try:
        made = wf.ledger(ids or None, date_from=date_from, date_to=date_to)
    finally:
        wf.close()
    try:
        if fmt == "xlsx":
            made.write_xlsx(out)
        else:
            made.write_csv_zip(out)
    except OSError as exc:
        raise InvalidInput(
            f"无法写入 {out}：{exc.strerror or exc}",
            f"cannot write {out}: {exc.strerror or exc}",
            field="out",
        ) from exc
    counts = {s.key: len(s.rows) for s in made.sheets}
    _out(
        {"file": str(out), "format": fmt, "rows": counts},
        f"台账已写入 / ledger written: {out}（"
        + "，".join(f"{s.title} {len(s.rows)}" for s in made.sheets)
        + "）",
    )


def _import_text(report: Any) -> str:
    lines = ["行 / row\t项目 / project\t状态 / state\t标题 / title"]
    for r in report.rows:
        pid = "—" if r.project_id is None else str(r.project_id)
        lines.append(f"{r.row}\t{pid}\t{r.state}\t{r.title}")
    name, sha = Path(report.file).name, report.sha256[:12]
    if report.already_imported:
        lines.append(
            f"{name}（sha256 {sha}…）已导入过：未新建项目 / was imported before: nothing created"
        )
    elif report.dry_run:
        lines.append(
            f"试运行：{len(report.rows)} 行均可导入，未写入 / dry run: all {len(report.rows)} "
            f"rows would import; nothing written ({name}, sha256 {sha}…)"
        )
    else:
        lines.append(
            f"已导入 {report.created} 个项目 / {report.created} projects imported from {name} "
            f"(sha256 {sha}…)"
        )
    if report.ignored_columns:
        lines.append("未读取的列 / columns not read: " + "、".join(report.ignored_columns))
    return "\n".join(lines)


def _import_errors_text(errors: Sequence[Mapping[str, Any]]) -> str:
    lines = ["行 / row\t列 / column\t值 / value\t规则 / rule\t说明 / message"]
    for e in errors:
        value = "" if e["value"] is None else str(e["value"])
        lines.append(
            f"{e['row']}\t{e['column'] or '—'}\t{value}\t{e['rule'] or '—'}\t"
            f"{e['message_zh']} / {e['message_en']}"
        )
    return "\n".join(lines)


@app.command("import")
def import_projects(
    file: Annotated[Path, typer.Argument(help="台账工作簿（.xlsx）/ the ledger workbook (.xlsx)")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="只检查，不写入 / check every row, write nothing")
    ] = False,
) -> None:
    """导入在办项目（台账迁移）/ import running projects from a ledger workbook: one project a
    row of the first sheet, brought to its 目标状态 by the same events and guards (README
    "Importing running projects"). A file with any bad cell imports nothing and lists every
    one; a file imported before creates nothing."""
    if not file.is_file():  # before the database is opened (or created)
        raise NotFound(f"文件不存在：{file}", f"no such file: {file}", field="file")
    wf = _wf("write")
    try:
        report = wf.import_projects(file, dry_run=dry_run)
    except WorkflowError as exc:
        if not STATE.json and exc.details.get("errors"):
            typer.echo(_import_errors_text(exc.details["errors"]), err=True)
        raise
    _out(report.to_dict(), _import_text(report))


report_app = typer.Typer(help="报表 / reports", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("sme-payments")
def report_sme_payments(
    year: Annotated[int, typer.Option("--year", help="年度 / the year reported on")],
    fmt: Annotated[
        str, typer.Option("--format", help="csv（缺省）、xlsx 或 json / csv (default), xlsx, json")
    ] = "csv",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="写入此文件（否则打印；xlsx 须给出）/ write here (else print)"),
    ] = None,
    purchaser: Annotated[
        str | None, typer.Option(help="只含此购买主体 / only this purchaser's projects")
    ] = None,
) -> None:
    """中小企业逾期支付年度报告（R20，条例 第十八条：每年 3 月 31 日前公开上一年度）/ the annual
    report of late payments to small and medium enterprises: each part paid late or overdue and
    unpaid in the year, its days late and interest, and each purchaser's totals."""
    if fmt not in ("csv", "xlsx", "json"):
        raise InvalidInput(
            f"--format 须为 csv、xlsx 或 json：{fmt}",
            f"--format is csv, xlsx or json: {fmt}",
            field="format",
        )
    if fmt == "xlsx" and out is None:
        raise InvalidInput("xlsx 需要 --out 文件", "xlsx needs --out FILE", field="out")
    wf = _wf("read")
    try:
        made = wf.report_sme_payments(year, purchaser=purchaser)
    finally:
        wf.close()
    if out is None:
        typer.echo(made.json_text() if fmt == "json" else made.csv_text(), nl=False)
        return
    try:
        {"csv": made.write_csv, "xlsx": made.write_xlsx, "json": made.write_json}[fmt](out)
    except OSError as exc:
        raise InvalidInput(
            f"无法写入 {out}：{exc.strerror or exc}",
            f"cannot write {out}: {exc.strerror or exc}",
            field="out",
        ) from exc
    total = made.total
    _out(
        {
            "file": str(out),
            "format": fmt,
            "year": made.year,
            "as_of": made.as_of.isoformat(),
            "rows": len(made.rows),
            "total": total.to_dict(),
        },
        f"报告已写入 / report written: {out}（{made.year} 年，截至 {made.as_of}；"
        f"{len(made.rows)} 笔逾期款项，逾期未支付合同 {total.unpaid_contracts} 个、"
        f"{total.unpaid_amount:.2f} 元，逾期利息 {total.interest:.2f} 元）",
    )


# -- contractors --------------------------------------------------------------------------------


@contractor_app.command("register")
def contractor_register(
    name: Annotated[str, typer.Option(help="名称 / name")],
    org_type: Annotated[
        str, typer.Option(help="social_organization|public_institution|enterprise")
    ],
    sme: Annotated[bool, typer.Option(help="中小企业 / small or medium enterprise (R20)")] = False,
    qualified: Annotated[
        list[str] | None, typer.Option(help="满足的条件 / conditions met (R4)")
    ] = None,
    all_qualified: Annotated[bool, typer.Option(help="满足全部九项条件 / all nine")] = False,
    actor: ActorOpt = "cli",
    role: RoleOpt = "purchaser",
    org: OrgOpt = "",
    at: AtOpt = None,
) -> None:
    """登记承接主体 / register a contractor (R4)."""
    met = set(QUALIFICATIONS) if all_qualified else set(qualified or [])
    quals = {q: q in met for q in QUALIFICATIONS}
    unknown = met - set(QUALIFICATIONS)
    quals.update({q: True for q in unknown})
    cid = _wf("write").register_contractor(
        actor=_actor(actor, role, org),
        name=name,
        org_type=org_type,
        sme=sme,
        qualifications=quals,
        at=_parse_at(at),
    )
    _out({"id": cid}, f"承接主体 / contractor {cid}")


@contractor_app.command("show")
def contractor_show(contractor_id: int) -> None:
    """承接主体与信用记录 / a contractor and its credit record."""
    _check_id(contractor_id, "contractor_id")
    view = _wf("read").contractor(contractor_id)
    _out(view.to_dict(), json.dumps(view.to_dict(), ensure_ascii=False, indent=2))


@contractor_app.command("ban")
def contractor_ban(
    contractor_id: int,
    until: Annotated[str, typer.Option(help="禁入截止日 / banned until (YYYY-MM-DD)")],
    reason: Annotated[str, typer.Option(help="原因 / reason")],
    actor: ActorOpt = "cli",
    role: RoleOpt = "purchaser",
    org: OrgOpt = "",
    at: AtOpt = None,
) -> None:
    """记录禁入 / ban a contractor (R12)."""
    _check_id(contractor_id, "contractor_id")
    try:
        day = date.fromisoformat(until)
    except ValueError as exc:
        raise InvalidInput(
            f"until 须为日期：{until}", f"until is not a date: {until}", field="until"
        ) from exc
    view = _wf("write").ban_contractor(
        contractor_id, actor=_actor(actor, role, org), until=day, reason=reason, at=_parse_at(at)
    )
    _out(view.to_dict(), f"已禁入至 / banned until {day}")


# -- calendar -----------------------------------------------------------------------------------


@calendar_app.command("show")
def calendar_show(year: int) -> None:
    """一年的放假与调休 / a year's days off and make-up working days."""
    wf = _wf("read")
    sched = wf.calendar.schedule(year)
    info = sched.to_dict() | {"provisional": sched.provisional}
    flag = "（暂定：尚无国务院办公厅通知 / provisional: no official notice yet）"
    _out(
        info,
        "\n".join(
            [
                f"{year} {sched.source}{flag if sched.provisional else ''} {sched.notice}",
                "放假 / days off: " + " ".join(sorted(d.isoformat() for d in sched.holidays)),
                "调休上班 / make-up working days: "
                + " ".join(sorted(d.isoformat() for d in sched.workdays)),
            ]
        ),
    )


def _calendar_file(file: Path) -> Path:
    if not file.is_file():
        raise NotFound(f"日历文件不存在：{file}", f"no calendar file at {file}", field="file")
    return file


@calendar_app.command("add-year")
def calendar_add_year(
    file: Path,
    replace: Annotated[bool, typer.Option(help="更正已有年份 / correct an existing year")] = False,
    actor: ActorOpt = "cli",
    role: RoleOpt = "admin",
    org: OrgOpt = "",
    at: AtOpt = None,
) -> None:
    """加载一年的工作日安排 / load a year's schedule; provisional deadlines are recomputed."""
    _calendar_file(file)
    changes = _wf("write").calendar.add_year(
        file, actor=_actor(actor, role, org), at=_parse_at(at), replace=replace
    )
    _out(
        {"recomputed": changes},
        f"已加载 / loaded {file}; 重算期限 / deadlines recomputed: {len(changes)}",
    )


@calendar_app.command("check")
def calendar_check(
    file: Annotated[
        Path | None, typer.Argument(help="待检查的年份文件 / a year file to check")
    ] = None,
) -> None:
    """检查日历覆盖范围，或校验一个年份文件 / show coverage, or validate a year file."""
    if file is not None:
        from workflow.services.calendar import read_schedule_file

        sched = read_schedule_file(_calendar_file(file))
        _out(
            sched.to_dict(),
            f"OK: {sched.year}，放假 {len(sched.holidays)} 天，调休上班 {len(sched.workdays)} 天",
        )
        return
    years = _wf("read").calendar.known_years()
    last = max(years)
    info = {"first": min(years), "last": last, "provisional_from": last + 1}
    _out(
        info,
        f"官方数据 / official: {min(years)}–{last}; {last + 1} 起为暂定 / provisional "
        f"from {last + 1} (国务院办公厅通知发布后用 calendar add-year 加载)",
    )


# -- policies -----------------------------------------------------------------------------------


def _policy_text(policy: Policy) -> str:
    lines = [
        f"{policy.name}: {policy.title_zh} / {policy.title_en}",
        f"  来源 / source: {policy.source}",
    ]
    from states.policy import provenance_kind

    labels = {
        "seed": "政策原文 / seed",
        "law": "法规 / law",
        "default": "gpw 默认 / default",
        "inherited": "继承 / inherited",
    }
    own = {"name", "title_zh", "title_en", "source", "inherited_fields", "inherits", "provenance"}
    for key, value in policy.model_dump(mode="json").items():
        if key in own:
            continue
        where = policy.source_of(key)
        label = labels.get(provenance_kind(where), "?")
        lines.append(f"  {key}: {json.dumps(value, ensure_ascii=False)}")
        lines.append(f"      ← {label}: {where}")
    return "\n".join(lines)


@app.command()
def staffing(
    policy: Annotated[
        str | None, typer.Option("--policy", help="政策名或文件 / policy name or file")
    ] = None,
    post: Annotated[
        str | None,
        typer.Option(help="岗位类别 / kind of post: county, town, care_home, child_welfare, …"),
    ] = None,
    population: Annotated[int | None, typer.Option(help="人口数 / population")] = None,
    recipients: Annotated[int | None, typer.Option(help="救助对象数 / recipients")] = None,
    self_care: Annotated[
        int | None, typer.Option("--self-care", help="全自理供养人员 / self-care residents")
    ] = None,
    semi_care: Annotated[
        int | None, typer.Option("--semi-care", help="半自理供养人员 / semi-care residents")
    ] = None,
    full_care: Annotated[
        int | None, typer.Option("--full-care", help="全护理供养人员 / full-care residents")
    ] = None,
    children: Annotated[int | None, typer.Option(help="儿童数 / children")] = None,
    beds: Annotated[int | None, typer.Option(help="实际开放床位 / open beds")] = None,
    count: Annotated[
        list[str] | None, typer.Option(help="其他计数 名称=数 / another count NAME=N")
    ] = None,
) -> None:
    """R17 人员配备测算：第一行为所需人数 / the staff a post needs (first line: the number)."""
    from states.staffing import required_staff

    counts: dict[str, object] = {
        "population": population,
        "recipients": recipients,
        "self_care": self_care,
        "semi_care": semi_care,
        "full_care": full_care,
        "children": children,
        "open_beds": beds,
    }
    for entry in count or []:
        name, sep, value = entry.partition("=")
        if not sep or not value.strip().isdigit():
            raise InvalidInput(
                f"--count 须为 名称=整数：{entry}", f"--count is NAME=N: {entry}", field="count"
            )
        counts[name.strip()] = int(value)
    result = required_staff(load_policy(policy or STATE.policy), post, counts)
    _out(
        result.to_dict(),
        f"{result.required}\n{result.explain_zh}\n{result.explain_en}\n"
        f"依据 / source: {result.source}",
    )


@app.command()
def sandbox(
    copy: Annotated[
        str | None,
        typer.Option(
            "--copy",
            help="把 --db 复制为沙盒：新 SQLite 文件，或同一 PostgreSQL 服务器上的新库名 / copy "
            "--db to a new SQLite file or a new database on the same PostgreSQL server",
        ),
    ] = None,
    seconds_per_day: Annotated[
        float,
        typer.Option(
            "--seconds-per-day", help="每个工作日的真实秒数 / real seconds per working day"
        ),
    ] = 60.0,
    start: Annotated[
        str | None, typer.Option(help="沙盒时钟起点（带时区 ISO）/ the sandbox clock's start")
    ] = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="只复制，不运行调度 / copy only")
    ] = False,
    run_for: Annotated[
        float | None, typer.Option("--for", help="运行若干秒后退出 / stop after this many seconds")
    ] = None,
) -> None:
    """培训沙盒：复制数据库，加速时钟运行调度，只投递站内收件箱 / a training sandbox: a copy of
    the database on an accelerated clock (one working day per N seconds), notices to the inbox
    only; without --copy, runs the worker on an existing sandbox copy (--db)."""
    import signal
    import threading

    from workflow.persistence import safe_url
    from workflow.scheduler import Worker
    from workflow.services import sandbox as sandboxes

    target = STATE.db
    if copy is not None:
        dest = copy if "://" in copy else _url(copy)
        if "://" not in copy and STATE.db.startswith(("postgresql", "postgres")):
            dest = sandboxes.pg_url_for(STATE.db, copy)
        began = _parse_at(start)
        if began is None:
            clock = _env_clock(os.environ.get("GPW_NOW"), os.environ.get("GPW_NOW_SINCE"))
            began = clock() if clock is not None else datetime.now(LOCAL_TZ)
        made = sandboxes.copy_database(
            STATE.db, dest, start=began, seconds_per_working_day=seconds_per_day
        )
        target = dest
        _out(
            {"copy": safe_url(dest), **sandboxes.describe(made)},
            f"沙盒副本 / sandbox copy: {safe_url(dest)}（源 / from {made.source}）\n"
            f"时钟 / clock: {made.start.isoformat()} 起，每 {made.seconds_per_working_day:g} 秒一个"
            f"工作日 / one working day per {made.seconds_per_working_day:g} s；通知只进站内收件箱 "
            "/ notices to the inbox only",
        )
        if no_worker:
            return
    STATE.db = target
    wf = _wf("write")
    if wf.sandbox is None:
        raise ConfigurationError(
            "该数据库不是沙盒副本：请用 gpw sandbox --copy 复制",
            "this database is not a sandbox copy: make one with gpw sandbox --copy",
            field="db",
        )
    pace = wf.sandbox.seconds_per_working_day
    step = max(0.5, min(60.0, pace / 48))  # half an hour of a working day, at the most a minute
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    runner = Worker(wf, tick_seconds=step, relay_seconds=step)
    runner.start()
    typer.echo(
        f"gpw sandbox: {_shown_db()}; 现在 / now {wf.clock().isoformat()}；Ctrl-C 停止 / to stop"
    )
    try:
        stop.wait(run_for)
    finally:
        runner.stop()
        typer.echo(
            f"gpw sandbox stopped at {wf.clock().isoformat()} after {runner.passes} pass(es)"
        )


@policy_app.command("show")
def policy_show(
    name: Annotated[str | None, typer.Argument(help="政策名或文件 / name or file")] = None,
) -> None:
    """显示政策参数，标出继承值 / show a policy, marking inherited values."""
    names = [name] if name else list(BUILTIN_POLICIES)
    policies = [load_policy(n) for n in names]
    _out(
        [p.model_dump(mode="json") for p in policies],
        "\n\n".join(_policy_text(p) for p in policies),
    )


@policy_app.command("validate")
def policy_validate(file: Path) -> None:
    """校验政策文件 / validate a policy file."""
    policy = load_policy(file)
    _out(policy.model_dump(mode="json"), f"OK: {policy.name}")


# -- deadlines and notices ----------------------------------------------------------------------

notices_app = typer.Typer(help="通知 / notices", no_args_is_help=True)
directory_app = typer.Typer(help="通讯录 / directory", no_args_is_help=True)
app.add_typer(notices_app, name="notices")
app.add_typer(directory_app, name="directory")


def _notice_line(n: Any) -> str:
    return (
        f"#{n.id} [{n.status}] {n.key} project {n.project_id} {n.deadline_kind}/{n.stage}"
        f" attempts={n.attempts}  {n.subject}"
    )


@app.command()
def tick(at: AtOpt = None) -> None:
    """写出到期的通知（一次）/ write every notice now due into the outbox, once (for cron)."""
    created = _wf("write").tick(_parse_at(at))
    _out(
        [n.to_dict() for n in created],
        "\n".join(_notice_line(n) for n in created) or "（无到期通知 / nothing due）",
    )


LeaseOpt = Annotated[
    int, typer.Option(help="租约秒数：进程中断后多久可由他人接手 / how long a claim is held")
]


@app.command()
def relay(at: AtOpt = None, lease_seconds: LeaseOpt = 300) -> None:
    """投递待发通知（一次）/ deliver pending notices, once (for cron)."""
    if lease_seconds < 1:
        raise InvalidInput(
            f"--lease-seconds 须为正数：{lease_seconds}",
            f"--lease-seconds must be positive: {lease_seconds}",
            field="lease_seconds",
        )
    wf = _wf("write")
    report = wf.relay(_parse_at(at), lease_seconds=lease_seconds)
    # the subscriptions' CloudEvents too (issue #11)
    events = wf.subscriptions.deliver(_parse_at(at), lease_seconds=lease_seconds)
    _out(
        {**report.to_dict(), "subscriptions": events.to_dict()},
        f"已发送 sent {report.sent}，失败 failed {report.failed}，放弃 dead {report.dead}，"
        f"无人可送达 undeliverable {report.undeliverable}，"
        f"等待群机器人 deferred {report.deferred}\n"
        f"订阅事件 / subscription events: 已送达 sent {events.sent}，失败 failed "
        f"{events.failed}，放弃 dead {events.dead}",
    )


@app.command()
def worker(
    tick_seconds: Annotated[float, typer.Option(help="tick 间隔秒数")] = 60.0,
    relay_seconds: Annotated[float, typer.Option(help="relay 间隔秒数")] = 15.0,
    run_for: Annotated[
        float | None, typer.Option("--for", help="运行若干秒后退出 / stop after this many seconds")
    ] = None,
    lease_seconds: LeaseOpt = 300,
) -> None:
    """调度进程：按间隔 tick 与 relay / the scheduler loop, for production."""
    import signal
    import threading

    from workflow.scheduler import Worker

    for name, value in (("tick_seconds", tick_seconds), ("relay_seconds", relay_seconds)):
        if not value > 0:
            raise InvalidInput(
                f"--{name.replace('_', '-')} 须为正数：{value}",
                f"--{name.replace('_', '-')} must be positive: {value}",
                field=name,
            )
    wf = _wf("write")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    runner = Worker(
        wf, tick_seconds=tick_seconds, relay_seconds=relay_seconds, lease_seconds=lease_seconds
    )
    runner.start()
    typer.echo(
        f"gpw worker: {_shown_db()}; tick 每 {tick_seconds:g} 秒, relay 每 "
        f"{relay_seconds:g} 秒；Ctrl-C 停止 / to stop"
    )
    try:
        stop.wait(run_for)
    finally:
        runner.stop()
        typer.echo(f"gpw worker stopped after {runner.passes} pass(es)")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="监听地址 / the address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 / the port")] = 8000,
    with_worker: Annotated[
        bool,
        typer.Option(
            "--with-worker",
            help="同一进程中也运行调度（tick 与 relay）/ also run the scheduler in this process",
        ),
    ] = False,
    https_only: Annotated[
        bool,
        typer.Option(
            "--https-only",
            help="经 HTTPS 提供时：Cookie 标记 Secure / served over HTTPS: cookies are Secure",
        ),
    ] = False,
    tick_seconds: Annotated[float, typer.Option(help="tick 间隔秒数（--with-worker）")] = 60.0,
    relay_seconds: Annotated[float, typer.Option(help="relay 间隔秒数（--with-worker）")] = 15.0,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="库中尚无项目时先写入演示数据，并列出演示登录 / seed the demo projects and users "
            "into a database that has no project yet, and list the demo logins",
        ),
    ] = False,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            help="信任其 X-Forwarded-For 的反向代理地址（逗号分隔）；默认不信任 / the reverse "
            "proxies whose X-Forwarded-For is believed (comma-separated); none by default",
        ),
    ] = None,
) -> None:
    """网页与 JSON API / the dashboard and the JSON API (/api/v1), with uvicorn.

    The session cookies are signed with GPW_SECRET_KEY (at least 32 characters), else with a
    key made once and kept in the database (shared by every gpw serve on it). --with-worker
    also runs the scheduler (as gpw worker does), started and stopped with the app."""
    import signal
    import socket

    import uvicorn

    from workflow.scheduler import Worker
    from workflow.web import create_app

    if not 1 <= port <= 65535:
        raise InvalidInput(
            f"--port 须在 1 至 65535 之间：{port}",
            f"--port must be between 1 and 65535: {port}",
            field="port",
        )
    for name, value in (("tick_seconds", tick_seconds), ("relay_seconds", relay_seconds)):
        if not value > 0:
            raise InvalidInput(
                f"--{name.replace('_', '-')} 须为正数：{value}",
                f"--{name.replace('_', '-')} must be positive: {value}",
                field=name,
            )
    wf = _wf("write")
    if demo:
        from workflow.demo import echo_logins, seed_if_empty

        if seed_if_empty(wf, echo=typer.echo):  # the demo lists its logins itself
            typer.echo("演示数据已写入 / demo data seeded")
        else:
            typer.echo("库中已有项目，未写入演示数据 / the database has projects: not seeded")
            echo_logins(typer.echo)
    runner = (
        Worker(wf, tick_seconds=tick_seconds, relay_seconds=relay_seconds) if with_worker else None
    )
    application = create_app(
        wf,
        secret_key=os.environ.get("GPW_SECRET_KEY") or None,  # read here only, never shown
        https_only=https_only,
        worker=runner,
    )
    # bound here, so an address in use or not ours is one message and exit 8, not a traceback
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except ValueError as exc:  # a host that is no name at all (NUL, not IDNA)
        listener.close()
        raise InvalidInput(
            f"--host 无效：{host!r}", f"--host is invalid: {host!r}", field="host"
        ) from exc
    except OSError as exc:  # in use, not this machine's, unknown name
        listener.close()
        raise ConfigurationError(
            f"无法监听 {host}:{port}：{exc.strerror or exc}",
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            field="port",
        ) from exc
    shown = f"[{host}]" if ":" in host else host
    typer.echo(
        f"gpw serve: http://{shown}:{port}/ （JSON API: http://{shown}:{port}/api/v1/）"
        f" {_shown_db()}"
        + ("；调度 / worker: on" if with_worker else "")
        + "；Ctrl-C 停止 / to stop"
    )
    # uvicorn stops gracefully on SIGINT/SIGTERM, then re-raises the signal to the handlers it
    # found: these, so the command ends normally (exit 0) rather than by the signal
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    # the client's address is the connection's, unless a proxy the operator names forwards it:
    # a header anyone can send must not choose the address logins are throttled and logged by
    server = uvicorn.Server(
        uvicorn.Config(
            application,
            lifespan="on",
            log_level="info",
            server_header=False,
            proxy_headers=forwarded_allow_ips is not None,
            forwarded_allow_ips=forwarded_allow_ips,
        )
    )
    try:
        server.run(sockets=[listener])
    finally:
        listener.close()
    if not server.started:
        raise ConfigurationError(
            "网页服务未能启动（见上方日志）", "the web app did not start (see the log above)"
        )
    typer.echo("gpw serve stopped")


def _local(iso: str | None) -> str:
    """An ISO instant as Asia/Shanghai local time ("2026-11-24 16:05:00 +08:00"), or 无 / none."""
    if not iso:
        return NONE_TEXT
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if when.tzinfo is None:
        return iso
    local = when.astimezone(LOCAL_TZ)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:]}"


def _seconds(value: float | None) -> str:
    if value is None:
        return NONE_TEXT
    return f"{value:g} s" if value < 3600 else f"{value:g} s（{value / 3600:.1f} h）"


@app.command()
def health(
    at: AtOpt = None,
    max_tick_age: Annotated[
        float, typer.Option(help="tick 最长未运行秒数 / max seconds since the last tick")
    ] = 600.0,
    max_relay_age: Annotated[
        float, typer.Option(help="relay 最长未运行秒数 / max seconds since the last relay")
    ] = 600.0,
    max_due_wait: Annotated[
        float,
        typer.Option(help="到期阶段最长等待秒数 / max seconds a due stage may wait"),
    ] = 900.0,
) -> None:
    """运行状况 / health: exit 9 when a notice or a subscription's delivery is dead, a notice
    undeliverable, tick or relay has not run within its threshold, or a due stage has waited
    longer than its threshold."""
    info = _wf("read").health(
        _parse_at(at),
        max_tick_age=max_tick_age,
        max_relay_age=max_relay_age,
        max_due_wait=max_due_wait,
    )
    n = info["notices"]
    lines = [
        "状态 / status: " + ("正常 / ok" if info["ok"] else "异常 / UNHEALTHY"),
        f"现在 / now: {_local(info['now'])}",
        f"最早待处理期限等待 / oldest due stage waiting: "
        f"{_seconds(info['oldest_due_stage_waiting_seconds'])}",
        f"通知 / notices: pending {n['pending']}, failed {n['failed']}, sent {n['sent']}, "
        f"dead {n['dead']}, undeliverable {n['undeliverable']}",
        f"最早未送达 / oldest undelivered: {_seconds(info['oldest_undelivered_seconds'])}",
        "订阅事件 / subscription deliveries: "
        + ", ".join(f"{k} {v}" for k, v in info.get("subscriptions", {}).items()),
        f"上次 tick / last tick: {_local(info['last_tick'])}",
        f"上次 relay / last relay: {_local(info['last_relay'])}",
    ]
    if info["problems"]:
        lines.append("问题 / problems:")
        lines += [f"  - {p['message_zh']} / {p['message_en']}" for p in info["problems"]]
    _out(info, "\n".join(lines))
    if not info["ok"]:
        raise typer.Exit(EXIT_UNHEALTHY)


@notices_app.command("list")
def notices_list(
    status: Annotated[
        str | None, typer.Option(help="pending|sent|failed|dead|undeliverable")
    ] = None,
    project: Annotated[int | None, typer.Option(help="项目编号 / project id")] = None,
    limit: LimitOpt = DEFAULT_LIMIT,
) -> None:
    """通知记录 / the notice log, oldest first."""
    from workflow.services.notices import NOTICE_STATUSES

    if status is not None and status not in NOTICE_STATUSES:
        raise InvalidInput(
            f"--status 取值未知：{status!r}（可用：{', '.join(NOTICE_STATUSES)}）",
            f"--status: unknown status {status!r}; allowed: {', '.join(NOTICE_STATUSES)}",
            field="status",
        )
    _check_id(project, "project")
    rows = _wf("read").notices(status=status, project_id=project, limit=_limit(limit) + 1)
    _listing(rows, limit, [_notice_line(n) for n in rows], "（无通知 / no notices）")


@notices_app.command("show")
def notices_show(notice_id: int) -> None:
    """一条通知及其投递记录 / a notice with its deliveries."""
    _check_id(notice_id, "notice_id")
    wf = _wf("read")
    notice = wf.notice(notice_id)
    deliveries = wf.deliveries(notice_id)
    _out(
        notice.to_dict() | {"deliveries": deliveries},
        _notice_line(notice)
        + "\n\n"
        + notice.body
        + "\n\n"
        + "\n".join(
            f"  {d['channel']} {d['address']} [{d['status']}] {d['last_error'] or ''}"
            for d in deliveries
        ),
    )


@notices_app.command("resend")
def notices_resend(
    notice_id: int,
    actor: ActorOpt = "cli",
    role: RoleOpt = "admin",
    org: OrgOpt = "",
    at: AtOpt = None,
) -> None:
    """重发 / send a notice again (audited)."""
    _check_id(notice_id, "notice_id")
    notice = _wf("write").resend(notice_id, actor=_actor(actor, role, org), at=_parse_at(at))
    _out(notice.to_dict(), f"已排队重发 / queued again: {_notice_line(notice)}")


@app.command()
def inbox(
    org: Annotated[str, typer.Option(help="单位 / organisation")],
    role: Annotated[str, typer.Option(help="角色 / role")],
    limit: LimitOpt = DEFAULT_LIMIT,
) -> None:
    """收件箱 / notices addressed to an organisation and role, newest first."""
    rows = _wf("read").inbox(org=org, role=role, limit=_limit(limit) + 1)
    _listing(rows, limit, [_notice_line(n) for n in rows], "（收件箱为空 / inbox empty）")


@directory_app.command("add")
def directory_add(
    org: Annotated[str, typer.Option(help="单位 / organisation")],
    role: Annotated[str, typer.Option(help="角色 / role (purchaser, leader, finance, head, …)")],
    name: Annotated[str, typer.Option(help="姓名 / name")],
    email: Annotated[str | None, typer.Option(help="邮箱 / e-mail")] = None,
    webhook: Annotated[str | None, typer.Option(help="webhook URL")] = None,
) -> None:
    """添加联系人 / add a person."""
    person = _wf("write").directory.add(org=org, role=role, name=name, email=email, webhook=webhook)
    _out({"id": person.id}, f"联系人 / person {person.id}: {org} {role} {name}")


@directory_app.command("list")
def directory_list(
    org: Annotated[str | None, typer.Option(help="单位 / organisation")] = None,
    limit: LimitOpt = DEFAULT_LIMIT,
) -> None:
    """通讯录 / list people."""
    people = _wf("read").directory.people(org=org, limit=_limit(limit) + 1)
    _listing(
        [dataclasses.asdict(p) for p in people],
        limit,
        [f"{p.id} {p.org} {p.role} {p.name} {p.email or ''} {p.webhook or ''}" for p in people],
        "（空 / empty）",
    )


@directory_app.command("remove")
def directory_remove(person_id: int) -> None:
    """停用联系人 / remove a person."""
    _check_id(person_id, "person_id")
    _wf("write").directory.remove(person_id)
    _out({"removed": person_id}, f"已停用 / removed {person_id}")


def _robot_line(r: Any) -> str:
    """A robot as listings show it: the URL's token masked, a secret as ****."""
    shown = r.to_dict()
    signed = f" 加签 / secret {shown['secret']}" if shown["secret"] else ""
    return f"{r.id} {r.org} {r.kind} {shown['url']}{signed}"


@directory_app.command("add-robot")
def directory_add_robot(
    org: Annotated[str, typer.Option(help="所属单位 / organisation")],
    kind: Annotated[
        str, typer.Option(help="dingtalk（钉钉）或 wecom（企业微信）/ dingtalk or wecom")
    ],
    url: Annotated[str, typer.Option(help="机器人的 Webhook 地址 / the robot's webhook URL")],
    secret: Annotated[
        str | None, typer.Option(help="钉钉加签密钥（SEC…）/ DingTalk's signing secret")
    ] = None,
    secret_stdin: Annotated[
        bool,
        typer.Option(
            "--secret-stdin",
            help="从标准输入读取加签密钥（不留在命令历史中）/ the secret from standard input",
        ),
    ] = False,
) -> None:
    """添加群机器人 / add a group robot (DingTalk, WeCom): notices to the organisation reach it."""
    if secret_stdin:
        if secret is not None:
            raise InvalidInput(
                "--secret 与 --secret-stdin 只能给出一个",
                "give --secret or --secret-stdin, not both",
                field="secret",
            )
        secret = _password_from_stdin()
    robot = _wf("write").directory.add_robot(org=org, kind=kind, url=url, secret=secret)
    _out(robot.to_dict(), f"群机器人 / robot {_robot_line(robot)}")


@directory_app.command("robots")
def directory_robots(
    org: Annotated[str | None, typer.Option(help="单位 / organisation")] = None,
    limit: LimitOpt = DEFAULT_LIMIT,
) -> None:
    """群机器人 / list group robots (URL tokens masked, secrets shown as ****)."""
    robots = _wf("read").directory.robots(org=org, limit=_limit(limit) + 1)
    _listing(
        [r.to_dict() for r in robots],
        limit,
        [_robot_line(r) for r in robots],
        "（无群机器人 / no robots）",
    )


@directory_app.command("remove-robot")
def directory_remove_robot(robot_id: int) -> None:
    """移除群机器人 / remove a group robot."""
    _check_id(robot_id, "robot_id")
    _wf("write").directory.remove_robot(robot_id)
    _out({"removed": robot_id}, f"已移除群机器人 / robot removed {robot_id}")


# -- event subscriptions (issue #11) ------------------------------------------------------------

subscription_app = typer.Typer(
    help="事件订阅（CloudEvents）/ event subscriptions of host platforms", no_args_is_help=True
)
app.add_typer(subscription_app, name="subscription")


def _subscription_line(s: Any) -> str:
    events = "全部 / all" if s.events is None else ",".join(s.events)
    counts = " ".join(f"{k} {v}" for k, v in sorted(s.deliveries.items())) or "—"
    return f"#{s.id} {s.to_dict()['url']} events={events} secret=**** deliveries: {counts}"


@subscription_app.command("add")
def subscription_add(
    url: Annotated[str, typer.Argument(help="接收事件的 http(s) 地址 / the http(s) URL")],
    event: Annotated[
        list[str] | None,
        typer.Option(
            "--event", help="只订阅此事件（可重复；不给出则全部）/ only this event (repeatable)"
        ),
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option(
            help="签名密钥（不给出则随机生成并显示一次）/ the HMAC key (default: a random one, "
            "shown once)",
            envvar="GPW_SUBSCRIPTION_SECRET",
        ),
    ] = None,
    actor: ActorOpt = "cli",
    role: RoleOpt = "admin",
    org: OrgOpt = "",
    at: AtOpt = None,
) -> None:
    """订阅项目事件 / subscribe a URL to project events (CloudEvents 1.0, signed)."""
    made = _wf("write").subscriptions.add(
        url=url,
        events=event or None,
        secret=secret,
        actor=_actor(actor, role, org),
        at=_parse_at(at),
    )
    shown = made.to_dict()
    text = f"已订阅 / subscribed: {_subscription_line(made)}"
    if secret is None:  # made here: shown this once, like an API token
        shown["secret"] = made.secret
        text += f"\n签名密钥（仅显示这一次）/ secret (shown this once): {made.secret}"
    _out(shown, text)


@subscription_app.command("list")
def subscription_list() -> None:
    """订阅列表 / the active subscriptions (secrets shown as ****)."""
    subs = _wf("read").subscriptions.list()
    _out(
        {"items": [s.to_dict() for s in subs]},
        "\n".join(_subscription_line(s) for s in subs) or "（无订阅 / no subscriptions）",
    )


@subscription_app.command("remove")
def subscription_remove(
    subscription_id: int,
    actor: ActorOpt = "cli",
    role: RoleOpt = "admin",
    org: OrgOpt = "",
    at: AtOpt = None,
) -> None:
    """取消订阅 / remove a subscription (what it was still owed is cancelled)."""
    _check_id(subscription_id, "subscription_id")
    cancelled = _wf("write").subscriptions.remove(
        subscription_id, actor=_actor(actor, role, org), at=_parse_at(at)
    )
    _out(
        {"removed": subscription_id, "cancelled": cancelled},
        f"已取消订阅 / removed {subscription_id}（未送达的 {cancelled} 条不再投递 / "
        f"{cancelled} undelivered cancelled）",
    )


@subscription_app.command("retry")
def subscription_retry(
    subscription_id: int,
    project: Annotated[int | None, typer.Option(help="只重投此项目 / this project only")] = None,
    actor: ActorOpt = "cli",
    role: RoleOpt = "admin",
    org: OrgOpt = "",
    at: AtOpt = None,
) -> None:
    """重新投递放弃的事件 / re-arm dead deliveries (their lanes then move on)."""
    _check_id(subscription_id, "subscription_id")
    _check_id(project, "project")
    rearmed = _wf("write").subscriptions.retry(
        subscription_id, project_id=project, actor=_actor(actor, role, org), at=_parse_at(at)
    )
    _out(
        {"subscription": subscription_id, "rearmed": rearmed},
        f"已重新排队 / re-armed {rearmed}",
    )


@subscription_app.command("deliveries")
def subscription_deliveries(
    subscription_id: int,
    status: Annotated[str | None, typer.Option(help="pending|sent|failed|dead|cancelled")] = None,
    project: Annotated[int | None, typer.Option(help="项目编号 / project id")] = None,
    limit: LimitOpt = DEFAULT_LIMIT,
) -> None:
    """订阅的投递记录 / a subscription's deliveries, oldest first."""
    _check_id(subscription_id, "subscription_id")
    _check_id(project, "project")
    rows = _wf("read").subscriptions.deliveries(
        subscription_id, status=status, project_id=project, limit=_limit(limit) + 1
    )
    _listing(
        rows,
        limit,
        [
            f"{r['type']} project {r['project_id']} gpwseq {r['seq']} [{r['status']}] "
            f"attempts={r['attempts']} {r['last_error'] or ''}".rstrip()
            for r in rows
        ],
        "（无投递 / no deliveries）",
    )


def _clear_for_demo(replace: bool) -> None:
    """Make room for the demo: nothing there, an empty database, or one ``gpw demo`` made (it
    is replaced); anything else only with ``--replace``."""
    from workflow.persistence import drop_schema, inspect_database, make_engine, sqlite_file

    try:
        info = inspect_database(STATE.db)
    except ConfigurationError:
        if not replace:  # damaged, not SQLite, unreachable: left alone
            raise
        info = None
    if info is not None and info.status in ("missing", "empty"):
        return
    if info is not None and not info.demo and not replace:
        raise ConfigurationError(
            f"{_shown_db()} 已存在且不是演示库：未做任何改动（确需覆盖请加 --replace）",
            f"{_shown_db()} exists and is not a demo database: nothing was changed "
            "(pass --replace to overwrite it)",
            field="db",
        )
    path = info.path if info is not None else sqlite_file(STATE.db)
    if path is not None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    engine = make_engine(STATE.db)
    try:
        drop_schema(engine)
    finally:
        engine.dispose()


@app.command()
def demo(
    replace: Annotated[
        bool,
        typer.Option(
            help="覆盖已有的非演示库（删除其中全部数据）/ overwrite an existing database that "
            "gpw demo did not make (its data is deleted)"
        ),
    ] = False,
) -> None:
    """演示：大武口项目的完整生命周期 / walk a Dawukou project through its lifecycle.

    A database made by gpw demo is replaced; any other existing one is refused (exit 8) unless
    --replace is given."""
    from workflow.demo import run_demo
    from workflow.persistence import DEMO_MARK
    from workflow.store.outbox import upsert_meta

    _clear_for_demo(replace)
    wf = _wf("write")
    with wf.engine.begin() as conn:  # marked first: a demo stopped half-way is still one
        upsert_meta(conn, DEMO_MARK, "gpw demo")
    run_demo(wf, echo=typer.echo, as_json=STATE.json)


user_app = typer.Typer(help="用户与 API 令牌 / users and API tokens", no_args_is_help=True)
app.add_typer(user_app, name="user")


def _password_from_stdin() -> str:
    """The password: the first line of standard input (never an argument: arguments show in
    the process list and the shell's history)."""
    line = sys.stdin.readline()
    password = line[:-1] if line.endswith("\n") else line
    return password.removesuffix("\r")


def _user_line(u: Any) -> str:
    region = f" region={','.join(u.region)}" if u.region else ""
    state = "" if u.active else " [停用 / inactive]"
    return f"{u.login} {u.role} {u.org}{region}{state}"


@user_app.command("add")
def user_add(
    login: str,
    role: Annotated[
        str,
        typer.Option(
            help="角色 / role: purchaser, government, finance, "
            "contractor, evaluator, supervisor, admin"
        ),
    ],
    org: Annotated[str, typer.Option(help="单位 / organisation")],
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="从标准输入读取密码 / read the password from standard input"
        ),
    ] = False,
    name: Annotated[str, typer.Option(help="姓名 / display name")] = "",
    region: Annotated[
        list[str] | None,
        typer.Option(help="辖区：购买主体名称前缀，* 为全部（supervisor, evaluator）/ region"),
    ] = None,
) -> None:
    """添加用户 / add a user of the dashboard and the API (password from standard input)."""
    if not password_stdin:
        raise InvalidInput(
            "须用 --password-stdin 从标准输入给出密码",
            "give the password on standard input with --password-stdin",
            field="password",
        )
    user = _wf("write").users.add(
        login,
        role=role,
        org=org,
        password=_password_from_stdin(),
        name=name,
        region=region or (),
    )
    _out(user.to_dict(), f"已添加用户 / user added: {_user_line(user)}")


@user_app.command("password")
def user_password(
    login: str,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="从标准输入读取密码 / from standard input")
    ] = False,
) -> None:
    """修改密码 / set a user's password (from standard input)."""
    if not password_stdin:
        raise InvalidInput(
            "须用 --password-stdin 从标准输入给出密码",
            "give the password on standard input with --password-stdin",
            field="password",
        )
    _wf("write").users.set_password(login, _password_from_stdin())
    _out({"login": login}, f"已修改密码 / password set: {login}")


@user_app.command("deactivate")
def user_deactivate(login: str) -> None:
    """停用用户（其令牌一并失效）/ deactivate a user (its tokens stop working too)."""
    _wf("write").users.set_active(login, False)
    _out({"login": login, "active": False}, f"已停用 / deactivated: {login}")


@user_app.command("activate")
def user_activate(login: str) -> None:
    """重新启用用户 / reactivate a user."""
    _wf("write").users.set_active(login, True)
    _out({"login": login, "active": True}, f"已启用 / activated: {login}")


@user_app.command("list")
def user_list() -> None:
    """用户列表 / list users."""
    users = _wf("read").users.list()
    _out(
        [u.to_dict() for u in users],
        "\n".join(_user_line(u) for u in users) or "（无用户 / no users）",
    )


@user_app.command("token")
def user_token(
    login: str,
    label: Annotated[str, typer.Option(help="标签 / a label for the token")] = "",
) -> None:
    """发放 API 令牌（仅显示一次，在最后一行）/ issue an API token, printed once on the last
    line."""
    token = _wf("write").users.issue_token(login, label=label)
    _out(
        {"login": login, "token": token},
        f"API 令牌，仅显示一次，请妥善保存 / API token, shown once; keep it safe ({login}):\n"
        f"{token}",
    )


@user_app.command("tokens")
def user_tokens(login: str) -> None:
    """用户的 API 令牌（仅前缀）/ a user's API tokens (prefixes only)."""
    rows = _wf("read").users.tokens(login)
    _out(
        rows,
        "\n".join(
            f"{t['id']} {t['prefix']}… {t['label']} created {_local(t['created_at'])}"
            f" last used {_local(t['last_used_at'])}"
            + (f" 已撤销 / revoked {_local(t['revoked_at'])}" if t["revoked_at"] else "")
            for t in rows
        )
        or "（无令牌 / no tokens）",
    )


@user_app.command("revoke")
def user_revoke(login: str, token_id: int) -> None:
    """撤销 API 令牌 / revoke an API token."""
    _check_id(token_id, "token_id")
    _wf("write").users.revoke_token(login, token_id)
    _out(
        {"login": login, "token_id": token_id, "revoked": True},
        f"已撤销 / revoked: {login} token {token_id}",
    )


@user_app.command("log")
def user_log(
    login: Annotated[str | None, typer.Option(help="登录名 / login")] = None,
    limit: LimitOpt = DEFAULT_LIMIT,
) -> None:
    """登录与令牌使用记录 / the log of logins and token use, newest first."""
    rows = _wf("read").users.events(login=login, limit=_limit(limit) + 1)
    _listing(
        rows,
        limit,
        [f"{_local(r['at'])} {r['login']} {r['kind']} {r['ip']} {r['detail']}" for r in rows],
        "（无记录 / no entries）",
    )


def _exit_code(exc: WorkflowError) -> int:
    if isinstance(exc, InvalidInput):
        return EXIT_INVALID
    if isinstance(exc, IllegalTransition | Forbidden | GuardRefused | Unauthenticated):
        return EXIT_REFUSED
    if isinstance(exc, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(exc, ConcurrentUpdate):
        return EXIT_CONFLICT
    if isinstance(exc, ConfigurationError):
        return EXIT_CONFIG
    return 1


def _report(exc: WorkflowError) -> None:
    if STATE.json:
        typer.echo(json.dumps({"error": exc.to_dict()}, ensure_ascii=False), err=True)
    else:
        typer.echo(f"错误 / error [{exc.code}]: {exc.message}", err=True)


def _json_first(args: list[str]) -> list[str]:
    """``--json`` anywhere before ``--`` is the global option: moved to the front, so that
    ``gpw project show 1 --json`` works like ``gpw --json project show 1``."""
    end = args.index("--") if "--" in args else len(args)
    if "--json" not in args[:end]:
        return args
    rest = [a for a in args[:end] if a != "--json"]
    return ["--json", *rest, *args[end:]]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (also the process's, from the console script).

    Every failure is a message in Chinese then English and an exit code (see the module's
    docstring), never a traceback."""

    args = _json_first(list(sys.argv[1:] if argv is None else argv))
    vars(STATE).clear()  # each run starts from the defaults (tests call main() repeatedly)
    STATE.json = "--json" in args[:1]
    try:
        return _main(args)
    finally:
        while _OPENED:
            _OPENED.pop().close()


def _main(args: list[str]) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    try:
        code = app(args=args, prog_name="gpw", standalone_mode=False)
    except WorkflowError as exc:
        _report(exc)
        return _exit_code(exc)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        return 1
    except typer.TyperException as exc:
        typer.echo(f"用法错误 / usage: {exc.format_message()}", err=True)
        return EXIT_USAGE
    except OverflowError as exc:
        _report(
            InvalidInput(
                f"数值超出数据库可存的范围：{exc}",
                f"a number is out of the range the database can store: {exc}",
                field="value",
            )
        )
        return EXIT_INVALID
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
        _report(
            ConfigurationError(
                f"数据库错误（{_db_label()}）：{reason}",
                f"database error ({_db_label()}): {reason}",
                field="db",
            )
        )
        return EXIT_CONFIG
    except OSError as exc:
        where = exc.filename or _db_label()
        _report(
            ConfigurationError(
                f"文件或系统错误（{where}）：{exc.strerror or exc}",
                f"file or system error ({where}): {exc.strerror or exc}",
                field="file",
            )
        )
        return EXIT_CONFIG
    except Exception as exc:  # a bug: say so in one line, never a traceback
        _report(
            WorkflowError(
                f"内部错误：{type(exc).__name__}: {exc}",
                f"internal error: {type(exc).__name__}: {exc}",
            )
        )
        return EXIT_INTERNAL
    return code if isinstance(code, int) else 0


def _db_label() -> str:
    try:
        return _shown_db()
    except Exception:  # the label of an error must not fail itself
        return "--db"


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
