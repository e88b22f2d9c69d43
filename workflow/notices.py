"""Where the notice engine used to live: kept so ``from workflow.notices import …`` still works.

The engine (``tick``, ``relay``, ``health``, reads, ``resend``) is
:mod:`workflow.services.notices`, the directory :mod:`workflow.services.directory`, the outbox's
SQL :mod:`workflow.store.outbox`.
"""

from __future__ import annotations

from workflow.services.directory import Directory
from workflow.services.notices import (
    DEFAULT_MAX_DUE_WAIT,
    DEFAULT_MAX_RELAY_AGE,
    DEFAULT_MAX_TICK_AGE,
    NOTICE_STATUSES,
    Notice,
    NoticeEngine,
    RelayReport,
)
from workflow.store.outbox import upsert_meta

__all__ = [
    "DEFAULT_MAX_DUE_WAIT",
    "DEFAULT_MAX_RELAY_AGE",
    "DEFAULT_MAX_TICK_AGE",
    "NOTICE_STATUSES",
    "Directory",
    "Notice",
    "NoticeEngine",
    "RelayReport",
    "upsert_meta",
]
