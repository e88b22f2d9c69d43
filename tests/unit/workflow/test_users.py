"""Users, passwords, API tokens and the log of their use (issue #8, Security), on both backends."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dbtools
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from states.errors import InvalidInput, LoginThrottled, NotFound, Unauthenticated
from workflow.services.scope import Scope
from workflow.services.users import MAX_FAILURES_PER_IP, MAX_FAILURES_PER_LOGIN, THROTTLE_WINDOW
from workflow.tables import token_t, user_t

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PASSWORD = "correct horse 1"
#: argon2 at its cheapest: the tests check behaviour, not the cost of a hash
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def users(wf: Any) -> Any:
    wf.users.hasher = CHEAP
    wf.users.add("minzheng", role="purchaser", org="大武口区民政局", password=PASSWORD, at=T0)
    return wf.users


def test_add_and_get_a_user_stores_only_an_argon2_hash(wf: Any, users: Any) -> None:
    user = users.get("minzheng")
    assert (user.role, user.org, user.active) == ("purchaser", "大武口区民政局", True)
    assert user.actor().org == "大武口区民政局" and user.actor().id == "minzheng"
    [row] = dbtools.rows(wf.engine, select(user_t))
    assert row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in repr(row)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"login": "minzheng"}, "login"),  # exists
        ({"login": "bad login"}, "login"),
        ({"login": ""}, "login"),
        ({"role": "system"}, "role"),
        ({"role": "boss"}, "role"),
        ({"org": ""}, "org"),
        ({"org": "a\nb"}, "org"),
        ({"password": "short"}, "password"),
        ({"region": ["大武口区"]}, "region"),  # a purchaser has no region
        ({"role": "supervisor"}, "region"),  # a supervisor needs one
    ],
)
def test_bad_users_are_refused_naming_the_field_and_nothing_is_written(
    wf: Any, users: Any, kwargs: dict[str, Any], field: str
) -> None:
    before = dbtools.count(wf.engine, "gpw_user")
    args: dict[str, Any] = {
        "login": "new",
        "role": "purchaser",
        "org": "星海镇人民政府",
        "password": PASSWORD,
    } | kwargs
    login = args.pop("login")
    with pytest.raises(InvalidInput) as caught:
        users.add(login, **args)
    assert caught.value.field == field
    assert dbtools.count(wf.engine, "gpw_user") == before


def test_scopes_follow_role_org_and_region(users: Any) -> None:
    sup = users.add(
        "jiandu", role="supervisor", org="石嘴山市民政局", password=PASSWORD, region=["大武口区"]
    )
    assert sup.scope() == Scope(orgs=frozenset({"石嘴山市民政局"}), prefixes=("大武口区",))
    assert sup.scope().allows("大武口区民政局", ())
    assert not sup.scope().allows("惠农区民政局", ())
    everyone = users.add(
        "sheng", role="supervisor", org="宁夏民政厅", password=PASSWORD, region=["*"]
    )
    assert everyone.scope().everything
    clerk = users.get("minzheng").scope()
    assert clerk.allows("大武口区民政局", ()) and not clerk.allows("大武口区星海镇", ())
    contractor = users.add("xinghai", role="contractor", org="星海社工", password=PASSWORD)
    assert contractor.scope().allows("大武口区民政局", {"大武口区民政局", "星海社工"})
    assert not contractor.scope().allows("大武口区民政局", {"大武口区民政局", "别家社工"})


def test_login_checks_the_password_and_records_every_attempt(users: Any) -> None:
    assert users.login("minzheng", PASSWORD, ip="127.0.0.1", at=T0).login == "minzheng"
    for login, password in (("minzheng", "wrong-password"), ("nobody", PASSWORD)):
        with pytest.raises(Unauthenticated) as caught:
            users.login(login, password, ip="127.0.0.1", at=T0)
        # one message for a wrong password and an unknown login: no telling which logins exist
        assert caught.value.message_en == "wrong login or password"
    kinds = [e["kind"] for e in users.events()]
    assert kinds[:3] == ["login_failed", "login_failed", "login_ok"]
    assert all(PASSWORD not in str(e) for e in users.events())


def test_an_inactive_user_cannot_log_in_and_its_tokens_stop(users: Any) -> None:
    token = users.issue_token("minzheng", at=T0)
    users.set_active("minzheng", False, at=T0)
    with pytest.raises(Unauthenticated):
        users.login("minzheng", PASSWORD, at=T0)
    with pytest.raises(Unauthenticated):
        users.authenticate_token(token, at=T0)
    users.set_active("minzheng", True, at=T0)
    assert users.authenticate_token(token, at=T0).login == "minzheng"


def test_failed_logins_are_throttled_per_login_even_with_the_right_password(users: Any) -> None:
    at = T0
    for _ in range(MAX_FAILURES_PER_LOGIN):
        with pytest.raises(Unauthenticated) as caught:
            users.login("minzheng", "wrong-password", ip="10.0.0.1", at=at)
        assert not isinstance(caught.value, LoginThrottled)
        at += timedelta(seconds=10)
    with pytest.raises(LoginThrottled):
        users.login("minzheng", PASSWORD, ip="10.0.0.2", at=at)  # another address: same login
    assert users.events()[0]["kind"] == "login_throttled"
    # once the window has passed since the failures, the right password works again
    later = T0 + THROTTLE_WINDOW + timedelta(minutes=1)
    assert users.login("minzheng", PASSWORD, ip="10.0.0.1", at=later).login == "minzheng"


def test_failed_logins_are_throttled_per_address_across_logins(users: Any) -> None:
    for n in range(MAX_FAILURES_PER_IP):
        with pytest.raises(Unauthenticated):
            users.login(f"guess{n}", "wrong-password", ip="10.9.9.9", at=T0)
    with pytest.raises(LoginThrottled):
        users.login("minzheng", PASSWORD, ip="10.9.9.9", at=T0)
    assert users.login("minzheng", PASSWORD, ip="10.1.1.1", at=T0).login == "minzheng"


def test_a_login_or_address_no_database_stores_is_a_wrong_login(users: Any) -> None:
    # PostgreSQL stores no NUL in text: such a login is no user's, and its failure is recorded
    odd = (("minzheng\x00", "10.0.0.1", PASSWORD), ("\x00", "10.0.0.1\x00", PASSWORD))
    odd += (("\ud800", "", PASSWORD), ("minzheng", "", "\ud800 lone surrogate"))
    for login, ip, password in odd:
        with pytest.raises(Unauthenticated) as caught:
            users.login(login, password, ip=ip, at=T0)
        assert not isinstance(caught.value, LoginThrottled)
    recorded = users.events(kinds=["login_failed"])
    assert len(recorded) == 4
    assert not any("\x00" in e["login"] + e["ip"] for e in recorded)


def burst(attempt: Callable[[int], Any], count: int) -> list[str]:
    """``count`` calls of ``attempt`` at once, one a thread: how each ended."""
    start = threading.Barrier(count)
    ended: list[str] = []

    def run(n: int) -> None:
        start.wait()
        try:
            attempt(n)
            ended.append("ok")
        except LoginThrottled:
            ended.append("throttled")
        except Unauthenticated:
            ended.append("checked")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return ended


def test_wrong_passwords_sent_at_once_are_throttled_as_if_one_after_another(
    wf: Any, users: Any
) -> None:
    # a hash that takes a moment, as a real one does: the window a burst would slip through
    users.hasher = PasswordHasher(time_cost=2, memory_cost=8192, parallelism=1)
    ended = burst(lambda n: users.login("minzheng", f"guess {n}", ip=f"10.0.1.{n}", at=T0), 24)
    assert ended.count("checked") == MAX_FAILURES_PER_LOGIN, ended
    assert ended.count("throttled") == 24 - MAX_FAILURES_PER_LOGIN
    # from one address, across logins
    ended = burst(lambda n: users.login(f"guess{n}", "wrong password", ip="10.9.9.9", at=T0), 30)
    assert ended.count("checked") == MAX_FAILURES_PER_IP, ended


def test_a_weak_hash_is_rehashed_at_the_next_login(wf: Any, users: Any) -> None:
    old = dbtools.rows(wf.engine, select(user_t))[0]["password_hash"]
    users.hasher = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    users.login("minzheng", PASSWORD, at=T0)
    new = dbtools.rows(wf.engine, select(user_t))[0]["password_hash"]
    assert new != old and "m=2048,t=2" in new
    assert users.login("minzheng", PASSWORD, at=T0).login == "minzheng"


def test_tokens_are_stored_hashed_used_and_revoked(wf: Any, users: Any) -> None:
    token = users.issue_token("minzheng", label="平台对接", at=T0)
    assert token.startswith("gpw_") and len(token) > 40
    [row] = dbtools.rows(wf.engine, select(token_t))
    assert token not in repr(row) and row["token_hash"] != token
    assert users.authenticate_token(token, ip="127.0.0.1", at=T0).login == "minzheng"
    # use is logged at most once a minute a token
    users.authenticate_token(token, at=T0 + timedelta(seconds=30))
    users.authenticate_token(token, at=T0 + timedelta(seconds=90))
    used = users.events(kinds=["token_used"])
    assert len(used) == 2 and all(token not in str(e) for e in users.events())
    [listed] = users.tokens("minzheng")
    assert listed["label"] == "平台对接" and listed["revoked_at"] is None
    assert listed["last_used_at"] is not None
    users.revoke_token("minzheng", listed["id"], at=T0)
    with pytest.raises(Unauthenticated):
        users.authenticate_token(token, at=T0)
    with pytest.raises(NotFound):
        users.revoke_token("minzheng", listed["id"] + 100)


@pytest.mark.parametrize(
    "token", ["", "gpw_", "gpw_nope", "Bearer x", "x" * 500, "gpw_" + "a" * 43]
)
def test_bad_tokens_are_refused(users: Any, token: str) -> None:
    users.issue_token("minzheng", at=T0)
    with pytest.raises(Unauthenticated):
        users.authenticate_token(token, at=T0)


def test_cli_user_add_and_token(db_url: str, clock: Any) -> None:
    """`gpw --db URL user add LOGIN --role ROLE --org ORG --password-stdin`, then `user token
    LOGIN` prints a working token on its last line (the contract of issue #8)."""
    from workflow import Workflow

    def gpw(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "workflow", "--db", db_url, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    added = gpw(
        "user",
        "add",
        "caizheng",
        "--role",
        "finance",
        "--org",
        "大武口区财政局",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    refused = gpw("user", "add", "x", "--role", "finance", "--org", "o", stdin=PASSWORD + "\n")
    assert refused.returncode == 3 and "password-stdin" in refused.stderr
    issued = gpw("user", "token", "caizheng")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip().splitlines()[-1]
    wf = Workflow.open(db_url, clock=clock)
    try:
        assert wf.users.authenticate_token(token).org == "大武口区财政局"
        assert wf.users.login("caizheng", PASSWORD).role == "finance"
    finally:
        wf.close()
    assert PASSWORD not in added.stdout + added.stderr
