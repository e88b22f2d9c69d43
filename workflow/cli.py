"""``gpw``: the command line. Thin: parse, call the facade, print. Only this module reads GPW_*.

Exit codes: 0 done; 2 usage; 3 invalid input; 4 refused (illegal transition, forbidden, guard);
5 not found; 6 conflict (concurrent update); 7 the audit trail does not verify; 8 bad
configuration (channels, SMTP, templates), refused at start.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from states.calendar import YearSchedule
from states.enums import QUALIFICATIONS
from states.errors import (
    ConcurrentUpdate,
    ConfigurationError,
    Forbidden,
    GuardRefused,
    IllegalTransition,
    InvalidInput,
    NotFound,
    WorkflowError,
)
from states.model import Actor
from states.policy import BUILTIN_POLICIES, Policy, load_policy

EXIT_INVALID, EXIT_REFUSED, EXIT_NOT_FOUND, EXIT_CONFLICT, EXIT_UNVERIFIED = 3, 4, 5, 6, 7
EXIT_CONFIG = 8

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


STATE = _State()


def _url(db: str) -> str:
    return db if "://" in db else f"sqlite:///{db}"


@app.callback()
def _options(
    db: Annotated[
        str,
        typer.Option(
            help="数据库 URL 或 SQLite 文件 / database URL or SQLite file", envvar="GPW_DB"
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
    STATE.json = as_json
    STATE.policy = policy
    STATE.notices = notices


def _wf() -> Any:
    from notifications.channels import NoticeConfig
    from workflow.core import Workflow

    # only the CLI reads the environment (everything else is injected)
    config = (
        NoticeConfig.from_file(STATE.notices)
        if STATE.notices
        else NoticeConfig.from_env(os.environ)
    )
    return Workflow.open(
        STATE.db,
        policy=STATE.policy,
        notices=config,
        channels=config.build_channels(echo=typer.echo),
    )


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
    """建库 / create the database tables."""
    wf = _wf()
    _out({"db": STATE.db, "ok": True}, f"已初始化 / initialised: {STATE.db}")
    wf.close()


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
) -> None:
    """立项 / draft a purchase plan (R1)."""
    items = json.loads(items_json) if items_json else [_item(s) for s in item or []]
    wf = _wf()
    pid = wf.create_project(
        actor=_actor(actor, role, org),
        title=title,
        purchaser=purchaser,
        budget=budget,
        items=items,
        at=_parse_at(at),
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
    view = _wf().project(project_id)
    _out(view.to_dict(), _project_text(view))


@project_app.command("list")
def project_list(
    state: Annotated[str | None, typer.Option(help="按状态筛选 / filter by state")] = None,
) -> None:
    """项目列表 / list projects."""
    rows = _wf().projects(state=state)
    _out(
        rows,
        "\n".join(f"#{r['id']} [{r['state']}] v{r['version']} {r['title']}" for r in rows)
        or "（无项目 / no projects）",
    )


@project_app.command("history")
def project_history(project_id: int) -> None:
    """留痕 / a project's audit trail."""
    entries = _wf().history(project_id)
    _out(
        [e.to_dict() for e in entries],
        "\n".join(
            f"{e.seq:>3} {e.at.isoformat()} {e.role}:{e.actor_id} {e.event} "
            f"{e.from_state}→{e.to_state}"
            for e in entries
        ),
    )


@app.command()
def events(
    project_id: int,
    actor: ActorOpt = "cli",
    role: RoleOpt = "purchaser",
    org: OrgOpt = "",
) -> None:
    """可执行的操作 / events this role may fire now."""
    names = _wf().available_events(project_id, _actor(actor, role, org))
    _out(names, " ".join(names) or "（无 / none）")


def _coerce(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


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
    """执行操作 / fire an event: gpw fire 1 pay tranche=1 amount='"30000.00"' on=2026-05-06"""
    payload: dict[str, Any] = json.loads(data) if data else {}
    for spec in fields or []:
        key, sep, value = spec.partition("=")
        if not sep:
            raise InvalidInput(
                f"参数须为 key=value：{spec}", f"expected key=value: {spec}", field=spec
            )
        payload[key] = _coerce(value) if key not in {"amount", "price", "budget"} else value
    view = _wf().fire(
        project_id,
        event,
        actor=_actor(actor, role, org),
        at=_parse_at(at),
        expected_version=expected_version,
        **payload,
    )
    _out(view.to_dict(), _project_text(view))


@app.command()
def verify() -> None:
    """核验留痕 / verify every audit chain."""
    report = _wf().verify()
    _out(
        report.to_dict(),
        f"OK: {report.entries} 条 / entries, {report.streams} 链 / chains"
        if report.ok
        else f"篡改 / ALTERED: {report.first_bad} — {report.reason}",
    )
    if not report.ok:
        raise typer.Exit(EXIT_UNVERIFIED)


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
    cid = _wf().register_contractor(
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
    view = _wf().contractor(contractor_id)
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
    try:
        day = date.fromisoformat(until)
    except ValueError as exc:
        raise InvalidInput(
            f"until 须为日期：{until}", f"until is not a date: {until}", field="until"
        ) from exc
    view = _wf().ban_contractor(
        contractor_id, actor=_actor(actor, role, org), until=day, reason=reason, at=_parse_at(at)
    )
    _out(view.to_dict(), f"已禁入至 / banned until {day}")


# -- calendar -----------------------------------------------------------------------------------


@calendar_app.command("show")
def calendar_show(year: int) -> None:
    """一年的放假与调休 / a year's days off and make-up working days."""
    wf = _wf()
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
    changes = _wf().calendar.add_year(
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
        sched = YearSchedule.from_dict(json.loads(file.read_text(encoding="utf-8")))
        _out(
            sched.to_dict(),
            f"OK: {sched.year}，放假 {len(sched.holidays)} 天，调休上班 {len(sched.workdays)} 天",
        )
        return
    years = _wf().calendar.known_years()
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
    for key, value in policy.model_dump(mode="json").items():
        if key in {"name", "title_zh", "title_en", "source", "inherited_fields", "inherits"}:
            continue
        mark = f"  （继承 / inherited from {policy.inherits}）" if policy.is_inherited(key) else ""
        lines.append(f"  {key}: {json.dumps(value, ensure_ascii=False)}{mark}")
    return "\n".join(lines)


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
    created = _wf().tick(_parse_at(at))
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
    report = _wf().relay(_parse_at(at), lease_seconds=lease_seconds)
    _out(
        report.to_dict(),
        f"已发送 sent {report.sent}，失败 failed {report.failed}，放弃 dead {report.dead}",
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

    wf = _wf()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    runner = Worker(
        wf, tick_seconds=tick_seconds, relay_seconds=relay_seconds, lease_seconds=lease_seconds
    )
    runner.start()
    typer.echo(
        f"gpw worker: {STATE.db}; tick 每 {tick_seconds:g} 秒, relay 每 "
        f"{relay_seconds:g} 秒；Ctrl-C 停止 / to stop"
    )
    try:
        stop.wait(run_for)
    finally:
        runner.stop()
        typer.echo(f"gpw worker stopped after {runner.passes} pass(es)")


@app.command()
def health(at: AtOpt = None) -> None:
    """运行状况 / the engine's health: oldest due stage waiting, outbox, last tick and relay."""
    info = _wf().health(_parse_at(at))
    n = info["notices"]
    _out(
        info,
        "\n".join(
            [
                f"最早待处理期限等待 / oldest due stage waiting: "
                f"{info['oldest_due_stage_waiting_seconds'] or 0} s",
                f"通知 / notices: pending {n['pending']}, failed {n['failed']}, sent {n['sent']}, "
                f"dead {n['dead']}",
                f"最早未送达 / oldest undelivered: {info['oldest_undelivered_seconds'] or 0} s",
                f"上次 tick / last tick: {info['last_tick'] or '—'}; 上次 relay / last relay: "
                f"{info['last_relay'] or '—'}",
            ]
        ),
    )


@notices_app.command("list")
def notices_list(
    status: Annotated[str | None, typer.Option(help="pending|sent|failed|dead")] = None,
    project: Annotated[int | None, typer.Option(help="项目编号 / project id")] = None,
) -> None:
    """通知记录 / the notice log."""
    rows = _wf().notices(status=status, project_id=project)
    _out(
        [n.to_dict() for n in rows],
        "\n".join(_notice_line(n) for n in rows) or "（无通知 / no notices）",
    )


@notices_app.command("show")
def notices_show(notice_id: int) -> None:
    """一条通知及其投递记录 / a notice with its deliveries."""
    wf = _wf()
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
    notice = _wf().resend(notice_id, actor=_actor(actor, role, org), at=_parse_at(at))
    _out(notice.to_dict(), f"已排队重发 / queued again: {_notice_line(notice)}")


@app.command()
def inbox(
    org: Annotated[str, typer.Option(help="单位 / organisation")],
    role: Annotated[str, typer.Option(help="角色 / role")],
) -> None:
    """收件箱 / notices addressed to an organisation and role."""
    rows = _wf().inbox(org=org, role=role)
    _out(
        [n.to_dict() for n in rows],
        "\n".join(_notice_line(n) for n in rows) or "（收件箱为空 / inbox empty）",
    )


@directory_app.command("add")
def directory_add(
    org: Annotated[str, typer.Option(help="单位 / organisation")],
    role: Annotated[str, typer.Option(help="角色 / role (purchaser, leader, finance, head, …)")],
    name: Annotated[str, typer.Option(help="姓名 / name")],
    email: Annotated[str | None, typer.Option(help="邮箱 / e-mail")] = None,
    webhook: Annotated[str | None, typer.Option(help="webhook URL")] = None,
) -> None:
    """添加联系人 / add a person."""
    person = _wf().directory.add(org=org, role=role, name=name, email=email, webhook=webhook)
    _out({"id": person.id}, f"联系人 / person {person.id}: {org} {role} {name}")


@directory_app.command("list")
def directory_list(
    org: Annotated[str | None, typer.Option(help="单位 / organisation")] = None,
) -> None:
    """通讯录 / list people."""
    people = _wf().directory.people(org=org)
    _out(
        [dataclasses.asdict(p) for p in people],
        "\n".join(
            f"{p.id} {p.org} {p.role} {p.name} {p.email or ''} {p.webhook or ''}" for p in people
        )
        or "（空 / empty）",
    )


@directory_app.command("remove")
def directory_remove(person_id: int) -> None:
    """停用联系人 / remove a person."""
    _wf().directory.remove(person_id)
    _out({"removed": person_id}, f"已停用 / removed {person_id}")


@app.command()
def demo(
    fresh: Annotated[
        bool, typer.Option(help="先删除已有的演示库 / delete the demo DB first")
    ] = True,
) -> None:
    """演示：大武口项目的完整生命周期 / walk a Dawukou project through its lifecycle."""
    from workflow.demo import run_demo

    if fresh and STATE.db.startswith("sqlite:///"):
        path = Path(STATE.db.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    run_demo(_wf(), echo=typer.echo, as_json=STATE.json)


def _exit_code(exc: WorkflowError) -> int:
    if isinstance(exc, InvalidInput):
        return EXIT_INVALID
    if isinstance(exc, IllegalTransition | Forbidden | GuardRefused):
        return EXIT_REFUSED
    if isinstance(exc, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(exc, ConcurrentUpdate):
        return EXIT_CONFLICT
    if isinstance(exc, ConfigurationError):
        return EXIT_CONFIG
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (also the process's, from the console script)."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = app(args=args, prog_name="gpw", standalone_mode=False)
    except WorkflowError as exc:
        if STATE.json:
            typer.echo(json.dumps({"error": exc.to_dict()}, ensure_ascii=False), err=True)
        else:
            typer.echo(f"错误 / error [{exc.code}]: {exc.message}", err=True)
        return _exit_code(exc)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        return 1
    except typer.TyperException as exc:
        typer.echo(f"用法错误 / usage: {exc.format_message()}", err=True)
        return 2
    return code if isinstance(code, int) else 0


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
