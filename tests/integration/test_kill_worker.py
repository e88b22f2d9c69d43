"""The worker killed with SIGKILL again and again mid-batch: nothing lost, nothing doubled.

Thousands of due deadlines (on a clock fixed far ahead, GPW_NOW), a real SMTP sink, `gpw worker`
as a real process killed at random moments and restarted. Every expected e-mail arrives; no
outbox key is written twice; duplicate e-mails (a send whose "sent" mark died with the process)
are no more than the kills.
"""

from __future__ import annotations

import random
import signal
import time
from collections import Counter
from pathlib import Path

from killing import DEADLINES, build, check_delivered, converge, start, state
from servers import smtp_server

CLONES = 500


def test_sigkill_mid_batch_loses_nothing_and_doubles_little(db_path: Path) -> None:
    url = f"sqlite:///{db_path}"
    person_id = build(url, CLONES)
    rng = random.Random(20261124)
    kills = 0
    mid_batch = 0
    with smtp_server() as (sink, port):
        for _ in range(6):
            proc = start(url, port, lease_seconds=2)
            time.sleep(rng.uniform(1.0, 2.5))  # start-up, then into the batch
            notices, unsent, waiting = state(url)
            mid_batch += notices < DEADLINES * (CLONES + 1) or unsent > 0 or waiting > 0
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            kills += 1
        proc = start(url, port, lease_seconds=2)
        try:
            converge(url, CLONES, seconds=120)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
        received = Counter(sink.message_ids())
    check_delivered(url, received, person_id, CLONES, kills)
    assert mid_batch >= 3, "the kills should land while work remains"
