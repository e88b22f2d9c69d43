"""One exception tree for the whole engine.

::

    WorkflowError                  root; .code is stable, .rule names the rule (R1..R20)
    ├── InvalidInput               a malformed call: names the field; nothing is written
    ├── IllegalTransition          the event is not allowed from the project's state
    ├── Forbidden                  the actor's role may not fire the event
    ├── GuardRefused               a policy rule refused the event (.rule says which)
    ├── NotFound                   (workflow) a project or contractor does not exist
    │   ├── ProjectNotFound
    │   └── ContractorNotFound
    ├── ConcurrentUpdate           (workflow) another writer changed the project first
    ├── ConfigurationError         bad channel, SMTP or template configuration, refused at start
    └── Unauthenticated            (web, API) no login, a wrong password, a bad or revoked token
        └── LoginThrottled         too many failed logins: wait before trying again

Every error carries a Chinese message first and an English one second. The class docstring is the
default message when none is given.
"""

from __future__ import annotations

from typing import Any


class WorkflowError(Exception):
    """工作流错误 / Workflow error"""

    code: str = "workflow_error"

    def __init__(
        self,
        message_zh: str | None = None,
        message_en: str | None = None,
        *,
        field: str | None = None,
        rule: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        default_zh, _, default_en = (self.__doc__ or "").strip().partition(" / ")
        self.message_zh = message_zh or default_zh
        self.message_en = message_en or default_en
        self.field = field
        self.rule = rule
        self.details = details or {}
        super().__init__(self.message)

    @property
    def message(self) -> str:
        prefix = f"[{self.rule}] " if self.rule else ""
        where = f" ({self.field})" if self.field else ""
        return f"{prefix}{self.message_zh}{where} / {self.message_en}"

    def to_dict(self) -> dict[str, Any]:
        """The one error shape every face (API, CLI --json) returns."""
        return {
            "code": self.code,
            "rule": self.rule,
            "field": self.field,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "details": self.details,
        }


class InvalidInput(WorkflowError):
    """输入无效 / Invalid input"""

    code = "invalid_input"


class IllegalTransition(WorkflowError):
    """当前状态不允许该操作 / Event not allowed in the current state"""

    code = "illegal_transition"


class Forbidden(WorkflowError):
    """无权执行该操作 / The actor's role may not do this"""

    code = "forbidden"


class GuardRefused(WorkflowError):
    """政策规则不允许该操作 / A policy rule refused the event"""

    code = "guard_refused"


class NotFound(WorkflowError):
    """对象不存在 / Not found"""

    code = "not_found"


class ProjectNotFound(NotFound):
    """项目不存在 / Project not found"""

    code = "project_not_found"


class ContractorNotFound(NotFound):
    """承接主体不存在 / Contractor not found"""

    code = "contractor_not_found"


class ConcurrentUpdate(WorkflowError):
    """项目已被他人修改，请刷新后重试 / The project was changed by someone else; reload and retry"""

    code = "concurrent_update"


class ConfigurationError(WorkflowError):
    """配置错误 / Configuration error"""

    code = "configuration_error"


class Unauthenticated(WorkflowError):
    """未登录或身份验证失败 / Not logged in, or authentication failed"""

    code = "unauthenticated"


class LoginThrottled(Unauthenticated):
    """登录失败次数过多，请稍后再试 / Too many failed logins; try again later"""

    code = "login_throttled"
