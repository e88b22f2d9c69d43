"""Shared by the SIGKILL tests (SQLite: one worker; PostgreSQL: three): a database of many due
deadlines, `gpw worker` processes on a shared test clock, and the checks of what arrived.

A 12-month contract signed 2025-09-26 has five deadlines (dispatch, payment_1, evaluation#1,
evaluation#2, contract_end), all long due at NOW; the government receives the last escalation of
the first four, so four e-mails a project.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime

from sqlalchemy import create_engine, func, select, text
from support import project_in

from workflow import Workflow
from workflow.persistence import deadline_t, notice_t

DEADLINES = 5
EMAILS = 4
#: the workers' clock (GPW_NOW), shared by every process through GPW_NOW_SINCE
NOW = "2031-01-01T00:00:00+08:00"
SINCE = str(time.time())


def build(url: str, clones: int) -> int:
    """One project walked to `contracted` through the facade, cloned ``clones`` times with SQL;
    returns the directory id of the one person who receives e-mail."""
    wf = Workflow.open(url, clock=lambda: datetime.fromisoformat(NOW))
    project_in(wf, "contracted")
    person = wf.directory.add(
        org="大武口区人民政府", role="government", name="王区长", email="wang@example.org"
    )
    wf.close()
    engine = create_engine(url)
    cols = (
        "title, purchaser, policy, state, contractor_id, version, data, audit_seq, "
        "audit_head, created_at, updated_at"
    )
    copy_deadlines = text(
        "INSERT INTO gpw_deadline (project_id, key, kind, owner, rule, due, due_at, "
        "provisional, status, met_on, late, version, stage_index, next_stage, "
        "next_fire_at, moved_from, updated_at) SELECT :p, key, kind, owner, rule, due, "
        "due_at, provisional, status, met_on, late, version, stage_index, next_stage, "
        "next_fire_at, moved_from, updated_at FROM gpw_deadline WHERE project_id = 1"
    )
    with engine.begin() as conn:
        for _ in range(clones):
            new = conn.execute(
                text(
                    f"INSERT INTO gpw_project ({cols}) SELECT {cols} FROM gpw_project "
                    "WHERE id = 1 RETURNING id"
                )
            ).scalar_one()
            conn.execute(copy_deadlines, {"p": new})
    engine.dispose()
    return int(person.id)


def start(url: str, port: int, lease_seconds: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "GPW_CHANNELS": "inbox,email",
        "GPW_SMTP_HOST": "127.0.0.1",
        "GPW_SMTP_PORT": str(port),
        "GPW_SMTP_SECURITY": "none",
        "GPW_SMTP_FROM": "gpw@example.org",
        "GPW_NOW": NOW,
        "GPW_NOW_SINCE": SINCE,  # every worker shares one clock (leases compare across them)
    }
    command = [sys.executable, "-m", "workflow", "--db", url, "worker"]
    command += ["--tick-seconds", "1", "--relay-seconds", "0.3"]
    command += ["--lease-seconds", str(lease_seconds)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def state(url: str) -> tuple[int, int, int]:
    """(notices written, notices not yet delivered, due stages not yet written)."""
    engine = create_engine(url)
    now = datetime.fromisoformat(NOW)
    with engine.connect() as conn:
        notices = conn.execute(select(func.count()).select_from(notice_t)).scalar_one()
        # contract_end goes to the purchaser, whom the directory does not know: undeliverable
        unsent = conn.execute(
            select(func.count())
            .select_from(notice_t)
            .where(
                notice_t.c.status != "sent",
                ~(
                    (notice_t.c.status == "undeliverable")
                    & (notice_t.c.deadline_kind == "contract_end")
                ),
            )
        ).scalar_one()
        waiting = conn.execute(
            select(func.count())
            .select_from(deadline_t)
            .where(
                deadline_t.c.status == "open",
                deadline_t.c.next_fire_at.is_not(None),
                deadline_t.c.next_fire_at <= now,
            )
        ).scalar_one()
    engine.dispose()
    return int(notices), int(unsent), int(waiting)


def converge(url: str, clones: int, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        notices, unsent, waiting = state(url)
        if notices == DEADLINES * (clones + 1) and unsent == 0 and waiting == 0:
            return
        time.sleep(0.5)
    raise AssertionError(f"did not converge: {state(url)}")


def check_delivered(
    url: str, received: Counter[str], person_id: int, clones: int, kills: int
) -> None:
    """Every expected e-mail arrived, none unexpected, no outbox key twice, duplicates ≤ kills."""
    engine = create_engine(url)
    with engine.connect() as conn:
        keys = list(
            conn.execute(
                select(notice_t.c.key).where(notice_t.c.deadline_kind != "contract_end")
            ).scalars()
        )
        doubled = conn.execute(
            select(notice_t.c.key).group_by(notice_t.c.key).having(func.count() > 1)
        ).all()
    engine.dispose()
    expected = {f"<gpw.{k.replace(':', '-')}.p{person_id}@gpw.local>" for k in keys}
    assert len(expected) == EMAILS * (clones + 1)
    assert expected <= set(received), f"missing {len(expected - set(received))} e-mails"
    assert set(received) <= expected
    assert doubled == []
    duplicates = sum(n - 1 for n in received.values())
    assert duplicates <= kills, f"{duplicates} duplicate e-mails after {kills} kills"
