"""states/ is pure: importing it loads no database, scheduler or template engine."""

from __future__ import annotations

import subprocess
import sys


def test_importing_states_loads_no_io_libraries() -> None:
    code = (
        "import sys, states, states.machine, states.calendar, states.policy;"
        "bad = [m for m in ('sqlmodel', 'sqlalchemy', 'apscheduler', 'jinja2', 'workflow',"
        " 'notifications') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
