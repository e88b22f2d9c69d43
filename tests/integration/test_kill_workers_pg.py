"""Three `gpw worker` processes on one PostgreSQL database, each killed with SIGKILL at random and
restarted several times (issue #7, "Several workers"): every due notice reaches a real SMTP sink,
no outbox key is written twice, and duplicate e-mails are no more than the kills.

The workers run on a clock fixed far ahead (GPW_NOW), so the test does not depend on today's date.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from servers import smtp_server
from sqlalchemy import create_engine, text
from support import project_in

from workflow import Workflow

CLONES = 300
#: dispatch, payment_1, evaluation#1, evaluation#2 and contract_end of a contract signed 2025-09-26
DEADLINES = 5
#: the government receives the last escalation of the first four
EMAILS = 4
NOW = "2031-01-01T00:00:00+08:00"
SINCE = str(time.time())
WORKERS = 3
ROUNDS = 3


def _build(url: str) -> int:
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
    with engine.begin() as conn:
        ids = [
            conn.execute(
                text(
                    f"INSERT INTO gpw_project ({cols}) SELECT {cols} FROM gpw_project "
                    "WHERE id = 1 RETURNING id"
                )
            ).scalar_one()
            for _ in range(CLONES)
        ]
        for new in ids:
            conn.execute(
                text(
                    "INSERT INTO gpw_deadline (project_id, key, kind, owner, rule, due, due_at, "
                    "provisional, status, met_on, late, version, stage_index, next_stage, "
                    "next_fire_at, moved_from, updated_at) SELECT :p, key, kind, owner, rule, due, "
                    "due_at, provisional, status, met_on, late, version, stage_index, next_stage, "
                    "next_fire_at, moved_from, updated_at FROM gpw_deadline WHERE project_id = 1"
                ),
                {"p": new},
            )
    engine.dispose()
    return person.id


def _start(url: str, port: int) -> subprocess.Popen[bytes]:
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
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workflow",
            "--db",
            url,
            "worker",
            "--tick-seconds",
            "1",
            "--relay-seconds",
            "0.3",
            "--lease-seconds",
            "3",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _state(url: str) -> tuple[int, int, int]:
    engine = create_engine(url)
    now = datetime.fromisoformat(NOW).astimezone(UTC)
    with engine.connect() as conn:
        notices = conn.execute(text("SELECT count(*) FROM gpw_notice")).scalar_one()
        unsent = conn.execute(
            text(
                "SELECT count(*) FROM gpw_notice WHERE status != 'sent' AND NOT "
                "(status = 'undeliverable' AND deadline_kind = 'contract_end')"
            )
        ).scalar_one()
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM gpw_deadline WHERE status = 'open'"
                " AND next_fire_at IS NOT NULL AND next_fire_at <= :now"
            ),
            {"now": now},
        ).scalar_one()
    engine.dispose()
    return int(notices), int(unsent), int(waiting)


def test_three_workers_killed_at_random_lose_nothing(pg_server: Any) -> None:
    url = pg_server.url(pg_server.create_database())
    person_id = _build(url)
    rng = random.Random(20261124)
    kills = 0
    with smtp_server() as (sink, port):
        procs = [_start(url, port) for _ in range(WORKERS)]
        try:
            for _ in range(ROUNDS):
                time.sleep(rng.uniform(1.0, 2.0))
                for i, proc in enumerate(procs):
                    if rng.random() < 0.8:
                        proc.send_signal(signal.SIGKILL)
                        proc.wait(10)
                        kills += 1
                        procs[i] = _start(url, port)
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                notices, unsent, waiting = _state(url)
                if notices == DEADLINES * (CLONES + 1) and unsent == 0 and waiting == 0:
                    break
                time.sleep(0.5)
            else:
                raise AssertionError(f"did not converge: {_state(url)}")
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait(30)
        received = Counter(sink.message_ids())
    engine = create_engine(url)
    with engine.connect() as conn:
        keys = [
            r.key
            for r in conn.execute(
                text("SELECT key FROM gpw_notice WHERE deadline_kind != 'contract_end'")
            )
        ]
        doubled = conn.execute(
            text("SELECT key FROM gpw_notice GROUP BY key HAVING count(*) > 1")
        ).all()
    engine.dispose()
    expected = {f"<gpw.{k.replace(':', '-')}.p{person_id}@gpw.local>" for k in keys}
    assert len(expected) == EMAILS * (CLONES + 1)
    assert expected <= set(received), f"missing {len(expected - set(received))} e-mails"
    assert set(received) <= expected
    assert doubled == []
    assert kills >= WORKERS
    duplicates = sum(n - 1 for n in received.values())
    assert duplicates <= kills, f"{duplicates} duplicate e-mails after {kills} kills"
