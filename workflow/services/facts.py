"""Project facts for the overview (issue #10): kept by the events that change them, read fast.

``Facts.on_written`` runs in every write's transaction (a ``ProjectService.on_written``
listener) and touches the project's ``gpw_project_fact`` row only when the write changes what it
holds: the creation, a change of state, a revised plan, or a milestone of the planned timeline
(the procurement notice, the signing, the first payment, the dispatch). The overview then reads
each purchaser's share of its year's assistance funds (R18) and the projects slipping most behind
the planned timeline (R19) from indexed columns, never replaying a trail.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from states import timeline
from states.calendar import WorkingDayCalendar
from states.deadlines import business_date
from states.enums import FINAL_STATES, ProjectState
from states.machine import Record
from states.model import Contractor, Project
from workflow.db import Database
from workflow.services.calendar import CalendarService
from workflow.services.policies import PolicyRegistry
from workflow.store import facts as store
from workflow.store.lists import Seen
from workflow.tables import project_t
from workflow.views import BudgetShare, SlipRow

#: events that may reach a milestone of the planned timeline (R19)
MILESTONE_EVENTS = frozenset(
    {"create_project", "publish_notice", "sign_contract", "pay", "dispatch_staff"}
)
#: how many projects slipping most the overview shows
SLIPPING_SHOWN = 10


def counted(state: ProjectState) -> bool:
    """R18: a plan's budget counts toward the floor once submitted, until terminated."""
    return state not in (ProjectState.DRAFT, ProjectState.TERMINATED)


@dataclass(frozen=True, slots=True)
class _Changed:
    milestones: dict[str, date]
    plan: bool
    state: bool


class Facts:
    """Writes and reads ``gpw_project_fact``."""

    def __init__(self, db: Database, policies: PolicyRegistry, calendar: CalendarService) -> None:
        self._db = db
        self._policies = policies
        self._calendar = calendar

    # -- writes ---------------------------------------------------------------------------------

    @staticmethod
    def _changes(records: Sequence[Record]) -> _Changed:
        reached = timeline.milestones(
            (r.event, r.data, r.at) for r in records if r.event in MILESTONE_EVENTS
        )
        return _Changed(
            milestones=reached,
            plan=any(r.event in ("create_project", "revise_plan") for r in records),
            state=any(r.from_state is not r.to_state for r in records),
        )

    def on_written(
        self,
        conn: Connection,
        project: Project,
        records: Sequence[Record],
        first_seq: int,
        contractors: Mapping[int, Contractor] | None = None,
        data: Mapping[str, Any] | None = None,
        **_: Any,
    ) -> None:
        """Bring the project's fact row in line after a write, in its transaction (nothing is
        read or written for an event that changes none of it: most events)."""
        changed = self._changes(records)
        if not (changed.milestones or changed.plan or changed.state):
            return
        assert project.id is not None
        row = store.load(conn, project.id)
        values: dict[str, Any] = {
            "purchaser": project.purchaser,
            "state": project.state.value,
            "active": project.state not in FINAL_STATES,
            "counted": counted(project.state),
            "budget_cents": store.cents(project.budget),
            "funds_cents": store.cents(project.assistance_funds),
        }
        known = store.milestones_of(row)
        if row is None:
            first = records[0]
            created = (
                first.at
                if first.event == "create_project"
                else conn.execute(
                    select(project_t.c.created_at).where(project_t.c.id == project.id)
                ).scalar_one()
            )
            values["year"] = business_date(created).year
        reached = {**changed.milestones, **known}  # the first day each was reached stays
        for milestone, day in reached.items():
            values[store.MILESTONE_COLUMNS[milestone]] = day
        if reached != known or changed.state or row is None:
            policy = self._policies.named(project.policy)
            facts = timeline.slip_facts(
                policy,
                self._calendar.current(conn),
                reached,
                ended=project.state in FINAL_STATES,
            )
            values.update(
                done_slip=facts.done_slip,
                done_step=facts.done_step,
                plan_to=facts.plan_to,
                open_step=facts.open_step,
            )
        store.write(conn, project.id, values, exists=row is not None)

    # -- reads ----------------------------------------------------------------------------------

    def other_budgets(self, conn: Connection, project: Project, year: int) -> Decimal:
        """R18: the budgets of the purchaser's other plans of ``year`` that count."""
        assert project.id is not None
        return store.other_budgets(
            conn, purchaser=project.purchaser, year=year, project_id=project.id
        )

    def budget_shares(self, conn: Connection, seen: Seen, year: int) -> tuple[BudgetShare, ...]:
        """R18: each purchaser's purchase budgets of ``year`` as a share of the assistance funds
        its plans state, within the reader's scope."""
        out = []
        for r in store.shares(conn, seen, year):
            budgets = store.yuan(int(r.budget_cents)) or Decimal("0.00")
            funds = store.yuan(int(r.funds_max)) or Decimal("0.00")
            least = store.yuan(int(r.funds_min)) or Decimal("0.00")
            percent = (budgets * 100 / funds).quantize(Decimal("0.01")) if funds else None
            out.append(
                BudgetShare(
                    purchaser=r.purchaser,
                    year=year,
                    plans=int(r.plans),
                    budgets=budgets,
                    funds=funds,
                    funds_differ=least != funds,
                    percent=percent,
                )
            )
        return tuple(out)

    def slipping(
        self,
        conn: Connection,
        seen: Seen,
        today: date,
        calendar: WorkingDayCalendar,
        limit: int = SLIPPING_SHOWN,
    ) -> tuple[SlipRow, ...]:
        """R19: the active projects slipping most behind the planned timeline on ``today``,
        worst first (then by id), within the reader's scope."""
        rows = []
        for r in store.slip_candidates(conn, seen, today, limit):
            facts = timeline.SlipFacts(
                done_slip=r.done_slip,
                done_step=r.done_step,
                plan_to=r.plan_to,
                open_step=r.open_step,
            )
            found = timeline.slip_on(facts, today, calendar)
            if found is None:
                continue
            slip, step, status = found
            rows.append(
                SlipRow(
                    project_id=r.project_id,
                    title="",
                    purchaser=r.purchaser,
                    state=r.state,
                    step=step,
                    status=status,
                    slip_working_days=slip,
                )
            )
        rows.sort(key=lambda row: (-row.slip_working_days, row.project_id))
        shown = rows[:limit]
        named = store.titles(conn, [row.project_id for row in shown])
        return tuple(dataclasses.replace(row, title=named.get(row.project_id, "")) for row in shown)
