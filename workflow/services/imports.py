"""Import of running projects from a 台账 workbook (issue #11): ``wf.import_projects(path)``.

Each row becomes a project brought to its target state (``draft``, ``approved``, ``contracted``,
``in_service``) by the same events a clerk fires, through :class:`ProjectService` and so through
the same guards (R1–R20), the same audit chain, deadlines, disclosure and listeners: there is no
other way into the database. The shortest path the machine allows:

* ``create_project``; for ``approved`` and beyond ``submit``, ``review_budget`` (approved),
  ``approve``;
* for ``contracted`` and beyond ``publish_notice`` (the row's 采购方式), ``record_review`` (the
  row's contractor the one candidate: the 台账 records who won, not the scores), ``award``,
  ``sign_contract`` (the row's dates, price, term and form; the seven R6 terms refer to the signed
  contract);
* for ``in_service`` ``record_training`` (the row's 培训日期 and 培训学时, everyone dispatched
  attending; required where the policy trains before duty, R14) and ``dispatch_staff`` (the row's
  派遣日期 and 派遣人员); a dispatch later than the R8 window (15 working days of signing in
  Dawukou) is refused here: the live engine would have met it late, after a ladder of notices
  that an import cannot have sent.

Who acts: one actor per role the events need, ``import:<first 12 hex of the file's SHA-256>``,
of the role each event names and of the organisation the guards require (the row's purchaser,
the project's finance bureau and government). ``system`` may fire only ``remove_contractor``.

When: a ``draft`` or ``approved`` row's events are dated at the import (the 台账 gives no date
for them); a ``contracted`` or ``in_service`` row's steps up to the signing are dated at the
start of its 签订日期 (Asia/Shanghai): the only day the row proves they had happened by, and an
earlier guess would be invented; the training and the dispatch at the start of their own days.
A project's entries are thus in order (R15: never backdated within its trail).

The mark: every audit entry of an imported row carries ``data["imported"] = {"sha256": …,
"row": n}``, added by :class:`ProjectService` from the connection the import holds
(:data:`~workflow.services.projects.PROVENANCE`); no payload can carry it.

All or nothing: every row is parsed, then every parsed row's events run in one transaction, each
row in a SAVEPOINT, collecting every refusal; a file with any bad cell or refused row writes
nothing (all rolled back) and raises an error listing each (row, column, value, rule, message in
Chinese then English). ``dry_run`` runs the same and rolls back. A file imported before (its
SHA-256 in ``gpw_import_row``) creates nothing: the report lists the projects it made then.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from states.enums import ProjectState, Role
from states.errors import (
    ContractorNotFound,
    Forbidden,
    GuardRefused,
    IllegalTransition,
    InvalidInput,
    WorkflowError,
)
from states.model import Actor, Contractor
from states.policy import Policy
from workflow.db import Database
from workflow.services import import_workbook as wb
from workflow.services.import_workbook import ImportProblem, RowPlan, Workbook
from workflow.services.policies import PolicyRegistry
from workflow.services.projects import PROVENANCE, ProjectService
from workflow.store import disclosure as disclosure_store
from workflow.store import imports as store
from workflow.views import ProjectView

SHANGHAI = ZoneInfo("Asia/Shanghai")
ACTOR_NAME = "台账导入 / ledger import"
NOTE = "台账导入 / imported from a ledger"
NOTICE = "采购公告见原台账（导入）/ the notice is in the original ledger (imported)"
REVIEWER = "台账导入（评审记录见原档案）/ imported (the review is in the original files)"
AS_SIGNED = "见已签订的合同（台账导入）/ as in the signed contract (imported)"
TRAINING_TOPIC = "上岗前培训（台账导入）/ training before duty (imported)"
#: problems of these codes are refusals by the rules (exit 4); any other makes the file invalid
REFUSALS = frozenset({GuardRefused.code, IllegalTransition.code, Forbidden.code})


@dataclass(frozen=True, slots=True)
class ImportedRow:
    """A row of the workbook and the project it made (or, in a dry run, would make)."""

    row: int
    project_id: int | None
    title: str
    state: str
    #: made by this import (False: by an earlier import of the same file, or a dry run)
    created: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "project_id": self.project_id,
            "title": self.title,
            "state": self.state,
            "created": self.created,
        }


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did (or a dry run would do)."""

    file: str
    sha256: str
    dry_run: bool
    #: the file was imported before: nothing was created now
    already_imported: bool
    rows: list[ImportedRow] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(1 for r in self.rows if r.created)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "dry_run": self.dry_run,
            "already_imported": self.already_imported,
            "created": self.created,
            "rows": [r.to_dict() for r in self.rows],
            "ignored_columns": list(self.ignored_columns),
        }


class _RowRefused(Exception):
    def __init__(self, problem: ImportProblem) -> None:
        super().__init__(problem.message_en)
        self.problem = problem


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


#: the column an event's data field comes from, where the field names one
_FIELD_COLUMNS = {
    "title": wb.TITLE,
    "purchaser": wb.PURCHASER,
    "budget": wb.BUDGET,
    "items": wb.ITEMS,
    "assistance_funds": wb.FUNDS,
    "method": wb.METHOD,
    "contractor_id": wb.CONTRACTOR,
    "scores": wb.CONTRACTOR,
    "signed_on": wb.SIGNED,
    "effective_on": wb.EFFECTIVE,
    "price": wb.PRICE,
    "form": wb.FORM,
    "term_months": wb.TERM,
    "terms": wb.ITEMS,
    "staff": wb.STAFF,
    "hours": wb.HOURS,
    "attendees": wb.STAFF,
}
#: the column an event's refusal is about, by default
_EVENT_COLUMNS = {
    "create_project": wb.TITLE,
    "submit": wb.BUDGET,
    "review_budget": wb.BUDGET,
    "approve": wb.BUDGET,
    "publish_notice": wb.METHOD,
    "record_review": wb.CONTRACTOR,
    "award": wb.CONTRACTOR,
    "sign_contract": wb.SIGNED,
    "record_training": wb.TRAINED,
    "dispatch_staff": wb.DISPATCHED,
}


class _Discard(Exception):
    """Leaves the import's transaction, rolling it back: a dry run, a file with problems, or one
    imported before (nothing to write)."""

    def __init__(self, report: ImportReport, problems: list[ImportProblem]) -> None:
        super().__init__("import discarded")
        self.report, self.problems = report, problems


class ImportService:
    """Brings a 台账 workbook's projects in through the events (see the module's docstring)."""

    def __init__(self, db: Database, projects: ProjectService, policies: PolicyRegistry) -> None:
        self._db = db
        self._projects = projects
        self._policies = policies

    def import_projects(
        self,
        path: str | Path,
        *,
        dry_run: bool = False,
        policy: str | None = None,
        connection: Connection | None = None,
    ) -> ImportReport:
        """Import the workbook at ``path``; see :meth:`workflow.facade.Workflow.import_projects`."""
        book = wb.read_workbook(path)
        chosen = self._policies.default if policy is None else self._policies.named(policy)
        try:
            # the database's own unit of work (a SAVEPOINT in a host's transaction, its driver
            # errors translated, after-commit hooks); anything but a clean import leaves by
            # _Discard, which rolls it back
            with self._db.transaction(connection) as conn:
                report, problems = self._run(conn, book, chosen, dry_run)
                if problems or dry_run or report.already_imported:
                    raise _Discard(report, problems)
        except _Discard as discarded:
            report, problems = discarded.report, discarded.problems
        if problems:
            raise _rejection(book, problems, dry_run)
        return report

    def _run(
        self, conn: Connection, book: Workbook, policy: Policy, dry_run: bool
    ) -> tuple[ImportReport, list[ImportProblem]]:
        store.lock(conn, book.sha256)
        report = ImportReport(
            file=str(book.path),
            sha256=book.sha256,
            dry_run=dry_run,
            already_imported=False,
            ignored_columns=book.ignored_columns,
        )
        before = store.imported(conn, book.sha256)
        if before:  # the same bytes were imported: nothing is created again
            report.rows.extend(
                ImportedRow(r.sheet_row, r.project_id, r.title or "", r.state or "", False)
                for r in before
            )
            return _replace(report, already_imported=True), []
        problems = list(book.problems)
        now = self._db.now()
        actor_id = f"import:{book.sha256[:12]}"
        contractors = store.contractors_named(
            conn, (p.contractor for p in book.rows if p.contractor)
        )
        made: list[tuple[int, int]] = []
        # the rows' releases are published at the end, so the feed's lock is held for the
        # commit only, not for the whole import (every other publisher would wait behind it)
        held = disclosure_store.hold_releases(conn)
        try:
            for plan in book.rows:
                mark = len(held)
                try:
                    with conn.begin_nested():
                        conn.info[PROVENANCE] = {"sha256": book.sha256, "row": plan.row}
                        try:
                            view = self._row(conn, plan, policy, contractors, now, actor_id)
                        finally:
                            conn.info.pop(PROVENANCE, None)
                except _RowRefused as exc:
                    del held[mark:]  # the row's SAVEPOINT rolled back: so do its releases
                    problems.append(exc.problem)
                    continue
                made.append((plan.row, view.id))
                report.rows.append(
                    ImportedRow(
                        plan.row,
                        None if dry_run else view.id,
                        view.title,
                        view.state,
                        not dry_run,
                    )
                )
        except BaseException:
            disclosure_store.release_held(conn, publish=False)
            raise
        keep = not (problems or dry_run)
        disclosure_store.release_held(conn, publish=keep)
        if not keep:
            return report, _sorted(problems)
        store.record(conn, book.sha256, made, file_name=book.path.name, at=now)
        return report, []

    def _row(
        self,
        conn: Connection,
        plan: RowPlan,
        policy: Policy,
        contractors: Mapping[str, list[Contractor]],
        now: datetime,
        actor_id: str,
    ) -> ProjectView:
        """Fire one row's events; a refusal raises :class:`_RowRefused` naming its cell."""
        clerk = Actor(id=actor_id, role=Role.PURCHASER.value, org=plan.purchaser, name=ACTOR_NAME)
        contracted = plan.target in (ProjectState.CONTRACTED, ProjectState.IN_SERVICE)
        at = _start_of(plan.signed_on) if contracted and plan.signed_on else now
        with _cell(plan, "create_project"):
            pid = self._projects.create(
                actor=clerk,
                title=plan.title,
                purchaser=plan.purchaser,
                budget=plan.budget,
                items=plan.items,
                policy=policy.name,
                at=at,
                supervisors=plan.supervisors,
                connection=conn,
                assistance_funds=plan.assistance_funds,
            )

        def fire(event: str, actor: Actor, when: datetime, **data: Any) -> ProjectView:
            with _cell(plan, event):
                view = self._projects.fire(
                    pid, event, actor=actor, at=when, connection=conn, **data
                )
            return view

        if plan.target is ProjectState.DRAFT:
            return self._projects.get(pid, connection=conn)
        bodies = plan.supervisors or policy.default_supervisors(plan.purchaser) or {}
        finance = Actor(actor_id, Role.FINANCE.value, bodies.get("finance", ""), ACTOR_NAME)
        government = Actor(
            actor_id, Role.GOVERNMENT.value, bodies.get("government", ""), ACTOR_NAME
        )
        fire("submit", clerk, at)
        fire("review_budget", finance, at, approved=True, note=NOTE)
        view = fire("approve", government, at, note=NOTE)
        if not contracted:
            return view
        assert plan.method and plan.contractor and plan.signed_on and plan.form
        contractor = _registered(plan, contractors.get(plan.contractor, []))
        fire("publish_notice", clerk, at, method=plan.method.value, notice=NOTICE)
        fire(
            "record_review",
            clerk,
            at,
            reviewers=[REVIEWER],
            criteria={"quality": 100},
            scores={str(contractor.id): 100},
        )
        fire("award", clerk, at, contractor_id=contractor.id)
        view = fire(
            "sign_contract",
            clerk,
            at,
            signed_on=plan.signed_on,
            effective_on=plan.effective_on,
            price=plan.price,
            form=plan.form.value,
            term_months=plan.term_months,
            terms=_terms(plan),
        )
        if plan.target is ProjectState.CONTRACTED:
            if plan.trained_on is not None:
                at = max(at, _start_of(plan.trained_on))
                view = fire("record_training", clerk, at, **_training(plan))
            return view
        assert plan.dispatched_on is not None
        if plan.trained_on is not None:
            at = max(at, _start_of(plan.trained_on))
            fire("record_training", clerk, at, **_training(plan))
        _dispatched_in_time(plan, view)
        at = max(at, _start_of(plan.dispatched_on))
        return fire("dispatch_staff", clerk, at, on=plan.dispatched_on, staff=plan.staff)


def _replace(report: ImportReport, **changes: Any) -> ImportReport:
    values = {f: getattr(report, f) for f in ImportReport.__dataclass_fields__}
    values.update(changes)
    return ImportReport(**values)


def _terms(plan: RowPlan) -> dict[str, str]:
    """The seven R6 terms: scope and quantity from the row, the rest as signed."""
    return {
        "scope": "、".join(i["name"] for i in plan.items),
        "quantity": "；".join(f"{i['name']}：{i['quantity']}" for i in plan.items),
        "quality": AS_SIGNED,
        "payment_schedule": AS_SIGNED,
        "rights_and_duties": AS_SIGNED,
        "liability": AS_SIGNED,
        "exit_mechanism": AS_SIGNED,
    }


def _training(plan: RowPlan) -> dict[str, Any]:
    """R14: the training before duty the row records, everyone dispatched attending (at least
    one, for a contracted row that names no staff yet)."""
    return {
        "on": plan.trained_on,
        "topic": TRAINING_TOPIC,
        "attendees": max(1, len(plan.staff)),
        "hours": plan.training_hours,
    }


def _registered(plan: RowPlan, found: list[Contractor]) -> Contractor:
    """The row's contractor, registered once under its name (R4)."""
    name = plan.contractor or ""
    if len(found) == 1:
        return found[0]
    if not found:
        zh = f"承接主体「{name}」未登记：请先登记（gpw contractor register）再导入"
        en = f"the contractor {name!r} is not registered: register it first, then import"
    else:
        ids = ", ".join(str(c.id) for c in found)
        zh = f"有 {len(found)} 个承接主体登记为「{name}」（编号 {ids}）：无法确定是哪一个"
        en = (
            f"{len(found)} contractors are registered as {name!r} (ids {ids}): which one is unclear"
        )
    raise _RowRefused(
        ImportProblem(
            plan.row,
            wb.CONTRACTOR,
            plan.cells.get(wb.CONTRACTOR),
            "R4",
            ContractorNotFound.code if not found else InvalidInput.code,
            zh,
            en,
        )
    )


def _dispatched_in_time(plan: RowPlan, view: ProjectView) -> None:
    """R8: the dispatch within the policy's window of the signing (the ``dispatch`` deadline)."""
    deadline = next((d for d in view.deadlines if d.key == "dispatch"), None)
    assert plan.dispatched_on is not None
    if deadline is None or plan.dispatched_on <= deadline.due:
        return
    raise _RowRefused(
        ImportProblem(
            plan.row,
            wb.DISPATCHED,
            plan.cells.get(wb.DISPATCHED),
            "R8",
            GuardRefused.code,
            f"派遣日期 {plan.dispatched_on} 晚于派遣期限 {deadline.due}（签订后 "
            f"{deadline.length} 个工作日）：逾期派遣的项目请手工录入，导入不能补发其间的催办",
            f"dispatched on {plan.dispatched_on}, after the deadline {deadline.due} "
            f"({deadline.length} working days of signing): a late dispatch is entered by hand; "
            "an import cannot send the reminders it would have had",
        )
    )


@contextmanager
def _cell(plan: RowPlan, event: str) -> Iterator[None]:
    """Turn an event's refusal into the row's problem, at the cell it comes from."""
    try:
        yield
    except WorkflowError as exc:
        column = _column_of(plan, event, exc)
        zh, en = exc.message_zh, exc.message_en
        if exc.field == "supervisors":
            zh += "（工作簿中填写「本级人民政府」「财政局」「审计局」三列）"
            en += f" (fill the columns {wb.GOVERNMENT}, {wb.FINANCE}, {wb.AUDIT})"
        raise _RowRefused(
            ImportProblem(
                plan.row,
                column,
                plan.cells.get(column) if column else None,
                exc.rule,
                exc.code,
                f"{event}：{zh}",
                f"{event}: {en}",
            )
        ) from exc


def _column_of(plan: RowPlan, event: str, exc: WorkflowError) -> str | None:
    """The column a refusal comes from, where one can tell: the field it names, the rule's own
    column, or the column that dates or carries the event."""
    name = (exc.field or "").split(".")[0].split("[")[0]
    if name == "at":  # dated in the future, or before the trail's last entry (R15)
        return _dated_by(plan, event)
    if name == "supervisors":
        return wb.GOVERNMENT if plan.supervisors else wb.PURCHASER
    if name == "on":
        return wb.TRAINED if event == "record_training" or exc.rule == "R14" else wb.DISPATCHED
    if name in _FIELD_COLUMNS:
        return _FIELD_COLUMNS[name]
    if event == "sign_contract" and exc.rule == "R6":
        # the price above the budget, or the term beyond the cycle
        over = plan.price is not None and plan.price > plan.budget
        return wb.PRICE if over else wb.TERM
    if event == "dispatch_staff":
        if exc.rule == "R14":
            return wb.TRAINED
        if exc.rule == "R17" or "staff" in exc.details:
            return wb.STAFF
        return wb.DISPATCHED
    if event == "approve" and exc.rule == "R18":
        return wb.FUNDS
    return _EVENT_COLUMNS.get(event)


def _dated_by(plan: RowPlan, event: str) -> str | None:
    """The column an event's time comes from (None: the import's own time)."""
    if event == "record_training":
        return wb.TRAINED
    if event == "dispatch_staff":
        return wb.DISPATCHED
    return wb.SIGNED if plan.signed_on is not None else None


_ORDER = {name: i for i, name in enumerate(wb.ALL_HEADERS)}


def _sorted(problems: list[ImportProblem]) -> list[ImportProblem]:
    return sorted(problems, key=lambda p: (p.row, _ORDER.get(p.column or "", -1)))


def _rejection(book: Workbook, problems: list[ImportProblem], dry_run: bool) -> WorkflowError:
    """One error for the whole file, listing every problem in ``details["errors"]``: refused
    (exit 4) when every problem is a rule's refusal, invalid input (exit 3) otherwise."""
    rows = sorted({p.row for p in problems})
    shown = "、".join(map(str, rows[:20])) + ("…" if len(rows) > 20 else "")
    shown_en = ", ".join(map(str, rows[:20])) + ("…" if len(rows) > 20 else "")
    rules = {p.rule for p in problems}
    kind: type[WorkflowError] = (
        GuardRefused if all(p.code in REFUSALS for p in problems) else InvalidInput
    )
    trial_zh, trial_en = ("（试运行）", " (dry run)") if dry_run else ("", "")
    return kind(
        f"工作簿 {book.path.name} 有 {len(problems)} 处错误（第 {shown} 行）："
        f"未导入任何项目{trial_zh}",
        f"workbook {book.path.name} has {len(problems)} problem(s) (rows {shown_en}): "
        f"nothing was imported{trial_en}",
        field="file",
        rule=rules.pop() if len(rules) == 1 else None,
        details={
            "file": str(book.path),
            "sha256": book.sha256,
            "dry_run": dry_run,
            "rows": len(book.rows),
            "errors": [p.to_dict() for p in problems],
        },
    )
