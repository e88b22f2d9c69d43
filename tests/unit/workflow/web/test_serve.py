"""``gpw serve`` for real (issue #8): the contract scripts rely on, end to end, through a
``gpw --db URL serve`` process on a free loopback port (started and stopped by the test), users
and tokens made with the CLI; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
from browser import REPO, serving, stop
from support import project_in
from webapi import error_of

from workflow.cli import main

NOW = "2031-01-01T00:00:00+08:00"


def gpw(db_url: str, *args: str, stdin: str = "") -> str:
    """Run the CLI as a platform's script would; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "workflow", "--db", db_url, *args],
        input=stdin.encode(),
        capture_output=True,
        cwd=REPO,
        env={**os.environ, "GPW_NOW": NOW},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout.decode()


def wait_for(probe: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_the_api_through_a_real_gpw_serve(wf: Any, db_url: str) -> None:
    pid, _ = project_in(wf, "in_service")
    gpw(
        db_url,
        *("user", "add", "fin", "--role", "finance", "--org", "大武口区财政局"),
        "--password-stdin",
        stdin="a long enough password\n",
    )
    token = gpw(db_url, "user", "token", "fin").strip().splitlines()[-1]
    assert token.startswith("gpw_")
    args = ("--with-worker", "--tick-seconds", "1", "--relay-seconds", "1")
    with serving(db_url, now=NOW, args=args) as server, httpx.Client(base_url=server.url) as web:
        auth = {"Authorization": f"Bearer {token}"}
        refused = web.get("/api/v1/projects")
        error_of(refused, 401, "unauthenticated")
        assert refused.headers["www-authenticate"].startswith("Bearer")

        listed = web.get("/api/v1/projects", headers=auth)
        assert listed.status_code == 200
        assert [p["id"] for p in listed.json()["items"]] == [pid]

        events = web.get(f"/api/v1/projects/{pid}/events", headers=auth).json()
        assert "pay" in [e["event"] for e in events["events"]]
        pay = {"tranche": 1, "amount": "300000.00", "on": "2026-04-17"}
        body = {"data": pay, "expected_version": events["version"]}
        fired = web.post(f"/api/v1/projects/{pid}/events/pay", headers=auth, json=body)
        assert fired.status_code == 200, fired.text
        assert fired.json()["payments"][0]["amount"] == "300000.00"
        stale = web.post(f"/api/v1/projects/{pid}/events/pay", headers=auth, json=body)
        error_of(stale, 409, "concurrent_update")

        # the worker runs in the same process: its passes show in the engine's health
        def ticked() -> Any:
            health = web.get("/api/v1/health", headers=auth).json()
            return health["last_tick"] and health["last_relay"]

        assert wait_for(ticked), server.output()
        overdue = web.get("/api/v1/deadlines", headers=auth, params={"status": "overdue"})
        assert overdue.status_code == 200 and overdue.json()["items"]

        assert stop(server.process) == 0
        log = server.output()
    assert f"http://127.0.0.1:{server.url.rsplit(':', 1)[1]}/" in log
    assert "gpw serve stopped" in log
    assert token not in log and token[4:] not in log  # no secret in the log
    secret = wf.engine.connect().exec_driver_sql(
        "SELECT value FROM gpw_meta WHERE key = 'web_secret_key'"
    )
    kept = secret.scalar()
    secret.close()
    if kept is not None:
        assert kept not in log
    assert wf.project(pid).payments[0].by == "fin"


def test_serve_refuses_a_bad_port_and_an_address_in_use(db_url: str, capsys: Any) -> None:
    assert main(["--db", db_url, "serve", "--port", "70000"]) == 3
    assert "--port" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["--db", db_url, "serve", "--port", str(port)]) == 8
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in err and "Traceback" not in err
