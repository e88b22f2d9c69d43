from __future__ import annotations

from workflow.cli import entry

entry()
