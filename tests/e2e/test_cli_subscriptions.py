"""``gpw subscription add|list|remove|retry|deliveries`` and ``gpw relay`` delivering the
subscriptions' CloudEvents (issue #11), driven through ``main([...])`` on a SQLite file, the
process's clock fixed with ``GPW_NOW`` (no test reads the wall clock)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from subscriber import subscriber
from support import CLERK, at, new_project

from workflow import Workflow
from workflow.cli import main

SECRET = "cli-platform-secret-0123456789"
NOW = "2031-01-01T00:00:00+08:00"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    assert "Traceback" not in out.out + out.err
    return code, out.out, out.err


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("GPW_NOW", NOW)  # the CLI's clock starts at NOW (and runs on from here)
    monkeypatch.setenv("GPW_NOW_SINCE", str(time.time()))
    monkeypatch.delenv("GPW_INSTANCE", raising=False)
    path = tmp_path / "subs.db"
    Workflow.open(f"sqlite:///{path}").close()
    return str(path)


def test_subscribe_relay_list_and_remove(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    with subscriber(SECRET, gap_free=False) as (sub, url):
        code, out, _ = run(
            capsys,
            "--db",
            db,
            "subscription",
            "add",
            url,
            "--event",
            "create_project",
            "--event",
            "submit",
            "--secret",
            SECRET,
        )
        assert code == 0 and "create_project,submit" in out and SECRET not in out
        code, out, _ = run(capsys, "--db", db, "--json", "subscription", "list")
        listed = json.loads(out)["items"]
        assert [(s["url"], s["events"], s["secret"]) for s in listed] == [
            (url, ["create_project", "submit"], "****")
        ]
        sid = str(listed[0]["id"])
        wf = Workflow.open(f"sqlite:///{db}", clock=lambda: at("2030-12-31"))
        pid = new_project(wf)
        wf.fire(pid, "submit", actor=CLERK, at=at("2025-08-01"))
        wf.close()
        code, out, _ = run(capsys, "--db", db, "--json", "relay", "--at", NOW)
        assert code == 0 and json.loads(out)["subscriptions"]["sent"] == 2
        assert [e["type"] for e in sub.events] == [
            "gpw.project.create_project",
            "gpw.project.submit",
        ]
        assert sub.errors == []
        code, out, _ = run(capsys, "--db", db, "subscription", "list")
        assert code == 0 and "secret=****" in out and "sent 2" in out and SECRET not in out
        code, out, _ = run(capsys, "--db", db, "subscription", "deliveries", sid)
        assert code == 0 and "gpw.project.submit" in out and "[sent]" in out
        code, out, _ = run(capsys, "--db", db, "--json", "subscription", "remove", sid)
        assert code == 0 and json.loads(out) == {"removed": int(sid), "cancelled": 0}
        code, out, _ = run(capsys, "--db", db, "subscription", "list")
        assert "no subscriptions" in out
        code, _, err = run(capsys, "--db", db, "subscription", "remove", sid)
        assert code == 5 and "subscription_id" in err


def test_a_made_secret_is_shown_once_and_bad_input_exits_3(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--db", db, "--json", "subscription", "add", "https://p.example/e")
    made = json.loads(out)
    assert code == 0 and len(made["secret"]) >= 32
    code, out, _ = run(capsys, "--db", db, "--json", "subscription", "list")
    assert made["secret"] not in out and json.loads(out)["items"][0]["secret"] == "****"
    code, _, err = run(capsys, "--db", db, "subscription", "add", "ftp://p.example/e")
    assert code == 3 and "url" in err and "http(s)" in err
    code, _, err = run(
        capsys, "--db", db, "subscription", "add", "https://p.example/e", "--event", "awrad"
    )
    assert code == 3 and "awrad" in err and "events" in err
    code, _, err = run(
        capsys, "--db", db, "subscription", "add", "https://p.example/e", "--secret", "tiny-key"
    )
    assert code == 3 and "secret" in err and "tiny-key" not in err
    code, _, err = run(
        capsys, "--db", db, "subscription", "add", "https://p.example/e", "--role", "purchaser"
    )
    assert code == 4
    code, out, _ = run(capsys, "--db", db, "--json", "subscription", "list")
    assert len(json.loads(out)["items"]) == 1  # nothing written by the refusals


def test_dead_letters_make_health_exit_9_until_retry(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with subscriber(SECRET) as (sub, url):
        code, out, _ = run(
            capsys, "--db", db, "--json", "subscription", "add", url, "--secret", SECRET
        )
        sid = str(json.loads(out)["id"])
        wf = Workflow.open(f"sqlite:///{db}", clock=lambda: at("2030-12-31"))
        wf.subscriptions.max_attempts = 1  # the first failure is a dead letter
        pid = new_project(wf)
        sub.status = 503
        assert wf.subscriptions.deliver(at("2031-01-02")).dead == 1
        wf.close()
        code, out, _ = run(capsys, "--db", db, "health", "--at", NOW)
        assert code == 9 and "dead 1" in out and "gpw subscription retry" in out
        sub.status = 200
        code, out, _ = run(
            capsys, "--db", db, "subscription", "retry", sid, "--project", str(pid), "--at", NOW
        )
        assert code == 0 and "re-armed 1" in out
        code, out, _ = run(capsys, "--db", db, "--json", "relay", "--at", NOW)
        assert json.loads(out)["subscriptions"]["sent"] == 1
        assert [e["gpwseq"] for e in sub.events] == [1] and sub.errors == []


def test_a_token_in_the_url_never_reaches_the_terminal(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Review: the add line, the list (text and JSON) show the URL's query values as ****; a
    URL with a password is refused without echoing it (exit 3)."""
    url = "https://platform.example.org/gpw?token=TOPSECRET-TOKEN"
    code, out, _ = run(capsys, "--db", db, "subscription", "add", url, "--secret", SECRET)
    assert code == 0 and "https://platform.example.org/gpw?token=****" in out
    for args in (("subscription", "list"), ("--json", "subscription", "list")):
        code, out, _ = run(capsys, "--db", db, *args)
        assert code == 0 and "token=****" in out and "TOPSECRET" not in out
    code, out, err = run(
        capsys, "--db", db, "subscription", "add", "https://u:TOPSECRET@platform.example.org/"
    )
    assert code == 3 and "url" in err and "TOPSECRET" not in out + err
