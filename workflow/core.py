"""Where ``Workflow`` used to live: kept so ``from workflow.core import Workflow`` still works.

The facade is :mod:`workflow.facade`; the calendar service :mod:`workflow.services.calendar`.
"""

from __future__ import annotations

from workflow.facade import Workflow
from workflow.services.calendar import CALENDAR_STREAM, CalendarService
from workflow.services.calendar import read_schedule_file as _read_schedule_file

__all__ = ["CALENDAR_STREAM", "CalendarService", "Workflow", "_read_schedule_file"]
