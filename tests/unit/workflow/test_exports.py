"""The public surface is a contract: __all__ lists exactly what hosts may import."""

from __future__ import annotations

import states
import workflow


def test_workflow_exports() -> None:
    assert set(workflow.__all__) == {
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
    }
    for name in workflow.__all__:
        assert getattr(workflow, name) is not None


def test_every_state_export_exists() -> None:
    for name in states.__all__:
        assert hasattr(states, name), name


def test_errors_share_one_root_with_stable_codes() -> None:
    codes = {
        workflow.InvalidInput: "invalid_input",
        workflow.IllegalTransition: "illegal_transition",
        workflow.Forbidden: "forbidden",
        workflow.GuardRefused: "guard_refused",
        workflow.ProjectNotFound: "project_not_found",
        workflow.ConcurrentUpdate: "concurrent_update",
    }
    for cls, code in codes.items():
        assert issubclass(cls, workflow.WorkflowError)
        err = cls()
        assert err.code == code
        assert err.message_zh and err.message_en  # the docstring is the default message
