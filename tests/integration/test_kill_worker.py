"""The worker killed with SIGKILL again and again mid-batch: nothing lost, nothing doubled.

Thousands of due deadlines (on a clock fixed far ahead, GPW_NOW), a real SMTP sink, `gpw worker`
as a real process killed at random moments and restarted. Every expected e-mail arrives; no
outbox key is written twice; duplicate e-mails (a send whose "sent" mark died with the process)
are no more than the kills.
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
from pathlib import Path

from servers import smtp_server
from sqlalchemy import create_engine, text
from support import project_in

from workflow import Workflow

CLONES = 500
#: a 12-month contract signed 2025-09-26: dispatch, payment_1, evaluation#1, evaluation#2 and
#: contract_end, all long due at NOW; the government gets the last escalation of the first four
DEADLINES = 5
EMAILS = 4
#: the workers' clock (GPW_NOW): fixed far ahead, so the test does not depend on today's date
NOW = "2031-01-01T00:00:00+08:00"
SINCE = str(time.time())


def _build(db_path: Path) -> int:
    wf = Workflow.open(f"sqlite:///{db_path}", clock=lambda: datetime.fromisoformat(NOW))
    project_in(wf, "contracted")
    person = wf.directory.add(
        org="大武口区人民政府", role="government", name="王区长", email="wang@example.org"
    )
    wf.close()
    engine = create_engine(f"sqlite:///{db_path}")
    with engine.begin() as conn:
        cols = (
            "title, purchaser, policy, state, contractor_id, version, data, audit_seq, "
            "audit_head, created_at, updated_at"
        )
        for _ in range(CLONES):
            new = conn.execute(
                text(
                    f"INSERT INTO gpw_project ({cols}) SELECT {cols} FROM gpw_project WHERE id = 1"
                )
            ).lastrowid
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


def _start(db_path: Path, port: int) -> subprocess.Popen[bytes]:
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
            str(db_path),
            "worker",
            "--tick-seconds",
            "1",
            "--relay-seconds",
            "0.3",
            "--lease-seconds",
            "2",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _state(db_path: Path) -> tuple[int, int, int]:
    engine = create_engine(f"sqlite:///{db_path}")
    with engine.connect() as conn:
        notices = conn.execute(text("SELECT count(*) FROM gpw_notice")).scalar_one()
        unsent = conn.execute(
            # contract_end goes to the purchaser, whom the directory does not know: undeliverable
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
            {"now": datetime.fromisoformat(NOW).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")},
        ).scalar_one()
    engine.dispose()
    return int(notices), int(unsent), int(waiting)


def test_sigkill_mid_batch_loses_nothing_and_doubles_little(db_path: Path) -> None:
    person_id = _build(db_path)
    rng = random.Random(20261124)
    kills = 0
    mid_batch = 0
    with smtp_server() as (sink, port):
        for _ in range(6):
            proc = _start(db_path, port)
            time.sleep(rng.uniform(1.0, 2.5))  # start-up, then into the batch
            notices, unsent, waiting = _state(db_path)
            mid_batch += notices < DEADLINES * (CLONES + 1) or unsent > 0 or waiting > 0
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            kills += 1
        proc = _start(db_path, port)
        deadline = time.monotonic() + 120
        try:
            while time.monotonic() < deadline:
                notices, unsent, waiting = _state(db_path)
                if notices == DEADLINES * (CLONES + 1) and unsent == 0 and waiting == 0:
                    break
                time.sleep(0.5)
            else:
                raise AssertionError(f"did not converge: {_state(db_path)}")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        received = Counter(sink.message_ids())
    engine = create_engine(f"sqlite:///{db_path}")
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
    assert mid_batch >= 3, "the kills should land while work remains"
    duplicates = sum(n - 1 for n in received.values())
    assert duplicates <= kills, f"{duplicates} duplicate e-mails after {kills} kills"
