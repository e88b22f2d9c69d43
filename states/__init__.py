"""gpw's pure domain: states, events, guards, policies, working-day arithmetic, deadlines, errors.

No database, no clock, no network: callers pass ``at`` (an aware datetime) into everything.
"""

from __future__ import annotations

from states.calendar import WorkingDay, WorkingDayCalendar, YearSchedule
from states.enums import (
    ContractForm,
    DeadlineKind,
    DeadlineStatus,
    EvaluationKind,
    EvaluatorRole,
    OrgType,
    ProcurementMethod,
    ProjectState,
    Role,
)
from states.errors import (
    ConcurrentUpdate,
    ContractorNotFound,
    Forbidden,
    GuardRefused,
    IllegalTransition,
    InvalidInput,
    NotFound,
    ProjectNotFound,
    WorkflowError,
)
from states.machine import EVENTS, Context, Outcome, Record, available_events, fire
from states.model import Actor, Contractor, Deadline, Project
from states.policy import DEFAULT_POLICY, Policy, load_policy

__all__ = [
    "DEFAULT_POLICY",
    "EVENTS",
    "Actor",
    "ConcurrentUpdate",
    "Context",
    "ContractForm",
    "Contractor",
    "ContractorNotFound",
    "Deadline",
    "DeadlineKind",
    "DeadlineStatus",
    "EvaluationKind",
    "EvaluatorRole",
    "Forbidden",
    "GuardRefused",
    "IllegalTransition",
    "InvalidInput",
    "NotFound",
    "OrgType",
    "Outcome",
    "Policy",
    "ProcurementMethod",
    "Project",
    "ProjectNotFound",
    "ProjectState",
    "Record",
    "Role",
    "WorkflowError",
    "WorkingDay",
    "WorkingDayCalendar",
    "YearSchedule",
    "available_events",
    "fire",
    "load_policy",
]
