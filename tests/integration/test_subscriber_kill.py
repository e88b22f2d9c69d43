"""A subscriber killed (SIGKILL) mid-stream and restarted: nothing lost, nothing out of order
(issue #11), on SQLite and PostgreSQL.

The subscriber is a process of its own (``tests/subscriber.py``) that keeps every event it
accepts in a file (fsynced before it answers) and reads it back when restarted. Twice it is told
to hang once it has accepted a given number of events, and is killed there: that event was kept
but never acknowledged, so gpw sends it again, with the same ``id``, and the subscriber drops the
duplicate. Passes run on the workflow's clock, moved on past each backoff (no wall-clock waits
decide anything; real time only bounds how long the test polls).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from servers import free_port
from support import project_in

from workflow import Workflow

SECRET = "kill-test-secret-0123456789abcdef"
NOW = datetime.fromisoformat("2031-01-01T00:00:00+08:00")
SCRIPT = Path(__file__).resolve().parents[1] / "subscriber.py"


def _wait(predicate: Callable[[], bool], seconds: float = 30.0) -> None:
    """Poll until ``predicate`` holds; the bound only stops a hung test."""
    end = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.02)


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def start(port: int, log: Path, stall_after: int | None = None) -> subprocess.Popen[bytes]:
    command = [sys.executable, str(SCRIPT), "--port", str(port), "--secret", SECRET]
    command += ["--log", str(log)]
    if stall_after is not None:
        command += ["--stall-after", str(stall_after)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _wait(lambda: _listening(port) or proc.poll() is not None)
    assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
    return proc


def kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    if proc.stderr is not None:
        proc.stderr.close()


def test_a_subscriber_killed_mid_stream_and_restarted_loses_nothing(
    db_url: str, tmp_path: Path
) -> None:
    wf = Workflow.open(db_url, clock=lambda: NOW)
    port = free_port()
    log = tmp_path / "received.jsonl"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        wf.subscriptions.add(url=f"http://127.0.0.1:{port}/gpw/events", secret=SECRET)
        pids = [project_in(wf, "in_service")[0] for _ in range(4)]
        expected = {str(p): [e.seq for e in wf.history(p)] for p in pids}
        total = sum(len(s) for s in expected.values())
        when = NOW
        for stall_after in (5, 19):  # killed twice, each time with an event kept, unanswered
            proc = start(port, log, stall_after=stall_after)
            procs.append(proc)
            passes = threading.Thread(target=wf.subscriptions.deliver, args=(when,))
            passes.start()
            _wait(lambda n=stall_after: len(_lines(log)) >= n)  # type: ignore[misc]
            kill(proc)
            passes.join(60)
            assert not passes.is_alive()
            owed = total - len(_lines(log))
            assert owed > 0, "the kill should land mid-stream"
            when += timedelta(hours=1)  # past every backoff so far
        proc = start(port, log)
        procs.append(proc)
        for _ in range(30):
            if wf.subscriptions.deliver(when).lanes == 0:
                break
            when += timedelta(hours=1)
        kill(proc)
    finally:
        for proc in procs:
            if proc.poll() is None:
                kill(proc)
        wf.close()
    received = _lines(log)
    notes = _lines(log.with_suffix(".notes"))
    assert [n for n in notes if "error" in n] == []  # signature, CloudEvents, order: all fine
    duplicates = [str(n["duplicate"]) for n in notes if "duplicate" in n]
    assert len(duplicates) >= 2, "each kill left one event kept but unacknowledged"
    ids = [str(e["id"]) for e in received]
    assert len(ids) == len(set(ids)) == total and set(duplicates) <= set(ids)
    for subject, seqs in expected.items():
        assert [e["gpwseq"] for e in received if e["subject"] == subject] == seqs
