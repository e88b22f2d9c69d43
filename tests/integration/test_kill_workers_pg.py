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
#: a lease must outlast the slowest batch (docs/deployment.md): with 3 s, a live worker that the
#: loaded 2-core machine did not schedule for a renewal lost its batch to another worker, which
#: sent it again (18 duplicates after 9 kills at a load average of 8); 10 s outlasts that, and a
#: killed worker's notices are taken over 10 s later
LEASE_SECONDS = 10


def test_three_workers_killed_at_random_lose_nothing(pg_server: Any) -> None:
    url = pg_server.url(pg_server.create_database())
    person_id = build(url, CLONES)
    rng = random.Random(20261124)
    kills = 0
    with smtp_server() as (sink, port):
        procs = [start(url, port, lease_seconds=LEASE_SECONDS) for _ in range(WORKERS)]
        try:
            for _ in range(ROUNDS):
                time.sleep(rng.uniform(1.0, 2.0))
                for i, proc in enumerate(procs):
                    if rng.random() < 0.8:
                        proc.send_signal(signal.SIGKILL)
                        proc.wait(10)
                        kills += 1
                        procs[i] = start(url, port, lease_seconds=LEASE_SECONDS)
            converge(url, CLONES)
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait(30)
        received = Counter(sink.message_ids())
    assert kills >= WORKERS
    check_delivered(url, received, person_id, CLONES, kills)
