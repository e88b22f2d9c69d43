"""gpw's workflow: the database, storage and services, the ``Workflow`` facade, the CLI.

Embed it::

    from workflow import Workflow, Actor
    wf = Workflow.open("sqlite:///gpw.db", policy="dawukou-2019")
"""

from __future__ import annotations

from notifications.channels import NoticeConfig, Person
from states.errors import (
    ConcurrentUpdate,
    ConfigurationError,
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
from workflow.facade import Workflow
from workflow.services.calendar import CalendarService
from workflow.services.directory import Directory
from workflow.services.notices import Notice, RelayReport
from workflow.views import ContractorView, DeadlineView, PaymentView, ProjectView

__all__ = [
    "Actor",
    "AuditEntry",
    "CalendarService",
    "ConcurrentUpdate",
    "ConfigurationError",
    "ContractorNotFound",
    "ContractorView",
    "DeadlineView",
    "Directory",
    "Forbidden",
    "GuardRefused",
    "IllegalTransition",
    "InvalidInput",
    "NotFound",
    "Notice",
    "NoticeConfig",
    "PaymentView",
    "Person",
    "ProjectNotFound",
    "ProjectView",
    "RelayReport",
    "VerifyReport",
    "Workflow",
    "WorkflowError",
]
