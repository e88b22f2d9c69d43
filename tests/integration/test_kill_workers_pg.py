"""Three `gpw worker` processes on one PostgreSQL database, each killed with SIGKILL at random and
restarted several times (issue #7, "Several workers"): every due notice reaches a real SMTP sink,
no outbox key is written twice, and duplicate e-mails are no more than the kills.

The workers run on a clock fixed far ahead (GPW_NOW), so the test does not depend on today's date.
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from typing import Any

from killing import build, check_delivered, converge, start
from servers import smtp_server

CLONES = 300
WORKERS = 3
ROUNDS = 3


def test_three_workers_killed_at_random_lose_nothing(pg_server: Any) -> None:
    url = pg_server.url(pg_server.create_database())
    person_id = build(url, CLONES)
    rng = random.Random(20261124)
    kills = 0
    with smtp_server() as (sink, port):
        procs = [start(url, port, lease_seconds=3) for _ in range(WORKERS)]
        try:
            for _ in range(ROUNDS):
                time.sleep(rng.uniform(1.0, 2.0))
                for i, proc in enumerate(procs):
                    if rng.random() < 0.8:
                        proc.send_signal(signal.SIGKILL)
                        proc.wait(10)
                        kills += 1
                        procs[i] = start(url, port, lease_seconds=3)
            converge(url, CLONES)
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait(30)
        received = Counter(sink.message_ids())
    assert kills >= WORKERS
    check_delivered(url, received, person_id, CLONES, kills)
