"""gpw's workflow: persistence, the ``Workflow`` facade, the CLI.

Embed it::

    from workflow import Workflow, Actor
    wf = Workflow.open("sqlite:///gpw.db", policy="dawukou-2019")
"""

from __future__ import annotations

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
from states.model import Actor
from workflow.audit import AuditEntry, VerifyReport
from workflow.core import CalendarService, Workflow
from workflow.views import ContractorView, DeadlineView, PaymentView, ProjectView

__all__ = [
    "Actor",
    "AuditEntry",
    "CalendarService",
    "ConcurrentUpdate",
    "ContractorNotFound",
    "ContractorView",
    "DeadlineView",
    "Forbidden",
    "GuardRefused",
    "IllegalTransition",
    "InvalidInput",
    "NotFound",
    "PaymentView",
    "ProjectNotFound",
    "ProjectView",
    "VerifyReport",
    "Workflow",
    "WorkflowError",
]
