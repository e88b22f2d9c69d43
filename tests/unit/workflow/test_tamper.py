"""Tamper evidence (R15): each kind of edit to a file the real engine made is reported by
``verify`` with its stream (project) and entry; an untouched file verifies; ``at`` is honest."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from support import ADMIN, CLERK, GOV, at, contractor, lifecycle, new_project, project_in

from workflow import InvalidInput, Workflow, audit
from workflow.persistence import audit_t, head_t, project_t

#: a clock in the past of the real date, so "the future" below is deterministic
NOW = at("2025-10-20", 12)


@pytest.fixture
def pinned(db_path: Path) -> Iterator[Workflow]:
    workflow = Workflow.open(f"sqlite:///{db_path}", clock=lambda: NOW)
    yield workflow
    workflow.close()


def sql(db_path: Path, statement: str, params: tuple[Any, ...] = ()) -> None:
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute(statement, params)


def rows(db_path: Path, statement: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with closing(sqlite3.connect(db_path)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(statement, params)]


def count(db_path: Path, table: str) -> int:
    return int(rows(db_path, f"select count(*) as n from {table}")[0]["n"])


def problems(report: audit.VerifyReport, kind: str, stream: str) -> list[dict[str, Any]]:
    return [p for p in report.problems if p["kind"] == kind and p["stream"] == stream]


def fire_step(wf: Workflow, pid: int, cid: int, event: str) -> None:
    _, name, actor, when, data = next(s for s in lifecycle(cid) if s[1] == event)
    wf.fire(pid, name, actor=actor, at=when, **data)


def rechain(wf: Workflow, stream: str) -> None:
    """What an attacker who knows the algorithm does after an edit: recompute every hash of
    the stream and rewrite its head."""
    with wf.engine.begin() as conn:
        found = conn.execute(
            select(audit_t).where(audit_t.c.stream == stream).order_by(audit_t.c.seq)
        ).all()
        prev = audit.GENESIS
        for r in found:
            digest = replace(audit.row_to_entry(r), prev_hash=prev).recompute_hash()
            conn.execute(
                audit_t.update().where(audit_t.c.id == r.id).values(prev_hash=prev, hash=digest)
            )
            prev = digest
        kind, _, key = stream.partition(":")
        if kind == "project":
            conn.execute(
                project_t.update()
                .where(project_t.c.id == int(key))
                .values(audit_seq=len(found), audit_head=prev)
            )
        else:
            conn.execute(
                head_t.update().where(head_t.c.stream == stream).values(seq=len(found), hash=prev)
            )


# -- an untouched database ------------------------------------------------------------------------


def test_an_untouched_database_verifies_with_and_without_its_anchor(wf: Workflow) -> None:
    pid, cid = project_in(wf, "in_service")
    wf.ban_contractor(cid, actor=GOV, at=at("2025-11-01"), until=date(2026, 1, 1), reason="x")
    person = wf.directory.add(org="大武口区人民政府", role="government", name="王区长")
    wf.directory.remove(person.id)
    wf.calendar.add_year(
        {"year": 2027, "holidays": ["2027-01-01"], "workdays": []}, actor=ADMIN, at=at("2026-11-20")
    )
    report = wf.verify()
    assert report.ok and report.problems == [] and report.first_bad is None
    assert report.streams == 4  # project, contractor, directory, calendar
    saved = wf.anchor()
    assert set(saved["heads"]) == {f"project:{pid}", f"contractor:{cid}", "directory", "calendar"}
    assert wf.verify(anchor=saved).ok
    wf.ban_contractor(cid, actor=GOV, at=at("2026-02-01"), until=date(2026, 6, 1), reason="y")
    assert wf.verify(anchor=saved).ok  # the log grew: it still extends the anchor
    as_dict = wf.verify().to_dict()
    assert {"ok", "entries", "streams", "first_bad", "reason", "audit_id"} <= set(as_dict)
    assert as_dict["problems"] == []


def test_every_entry_records_the_clock_and_the_project_after_it(wf: Workflow) -> None:
    pid, _ = project_in(wf, "approved")
    history = wf.history(pid)
    assert all(e.recorded_at == datetime.fromisoformat("2031-01-01T00:00+08:00") for e in history)
    assert [e.version for e in history] == list(range(1, len(history) + 1))
    assert history[-1].digest is not None and len(history[-1].digest) == 64
    assert history[-1].to_dict()["recorded_at"].startswith("2030-12-31T16:00")
    assert wf.project(pid).version == history[-1].version


# -- each kind of edit ----------------------------------------------------------------------------


def test_a_changed_project_state_is_reported(wf: Workflow, db_path: Path) -> None:
    pid, _ = project_in(wf, "contracted")
    last = wf.history(pid)[-1].seq
    sql(db_path, "update gpw_project set state = 'closed' where id = ?", (pid,))
    report = wf.verify()
    assert not report.ok
    found = problems(report, "project", f"project:{pid}")
    assert found and found[0]["project_id"] == pid and found[0]["seq"] == last
    assert "state" in found[0]["reason"] and "重放" in found[0]["reason"]
    assert report.first_bad == (f"project:{pid}", last)


def test_changed_project_data_is_reported(wf: Workflow, db_path: Path) -> None:
    pid, _ = project_in(wf, "contracted")
    sql(
        db_path,
        "update gpw_project set data = json_set(data, '$.budget', '9999999.00') where id = ?",
        (pid,),
    )
    found = problems(wf.verify(), "project", f"project:{pid}")
    assert found and "data" in found[0]["reason"]


def test_a_changed_updated_at_is_reported(wf: Workflow, db_path: Path) -> None:
    pid, _ = project_in(wf, "contracted")
    sql(
        db_path,
        "update gpw_project set updated_at = '1990-01-01 00:00:00.000000' where id = ?",
        (pid,),
    )
    found = problems(wf.verify(), "project", f"project:{pid}")
    assert found and "updated_at" in found[0]["reason"]


def test_a_changed_version_is_reported(wf: Workflow, db_path: Path) -> None:
    pid, _ = project_in(wf, "contracted")
    sql(db_path, "update gpw_project set version = version + 5 where id = ?", (pid,))
    found = problems(wf.verify(), "project", f"project:{pid}")
    assert found and "version" in found[0]["reason"]


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        ("update gpw_deadline set due = '2026-03-31' where project_id = ? and key = 'dispatch'",
         ["dispatch", "due"]),
        ("update gpw_deadline set status = 'met' where project_id = ? and key = 'dispatch'",
         ["dispatch", "status"]),
        ("delete from gpw_deadline where project_id = ? and key = 'dispatch'",
         ["dispatch", "no deadline row"]),
        ("insert into gpw_deadline (project_id, key, kind, owner, rule, due, due_at, provisional,"
         " status, late, version, stage_index, updated_at) select project_id, 'evaluation#9',"
         " kind, owner, rule, due, due_at, provisional, status, late, version, stage_index,"
         " updated_at from gpw_deadline where project_id = ? and key = 'dispatch'",
         ["evaluation#9", "no counterpart"]),
    ],
)  # fmt: skip
def test_an_edited_deadline_row_is_reported(
    wf: Workflow, db_path: Path, statement: str, words: list[str]
) -> None:
    pid, _ = project_in(wf, "contracted")
    last = wf.history(pid)[-1].seq
    assert wf.verify().ok
    sql(db_path, statement, (pid,))
    report = wf.verify()
    assert not report.ok
    found = problems(report, "deadline", f"project:{pid}")
    assert len(found) == 1 and found[0]["project_id"] == pid and found[0]["seq"] == last
    assert all(w in found[0]["reason"] for w in words)


def test_a_deadline_edited_in_both_row_and_data_is_reported(wf: Workflow, db_path: Path) -> None:
    pid, _ = project_in(wf, "contracted")
    data = wf.project(pid).to_dict()
    keys = [d["key"] for d in data["deadlines"]]
    i = keys.index("dispatch")
    sql(db_path, "update gpw_deadline set due = '2026-03-31', due_at = '2026-03-31 16:00:00.000000'"
        " where project_id = ? and key = 'dispatch'", (pid,))  # fmt: skip
    sql(
        db_path,
        f"update gpw_project set data = json_set(data, '$.deadlines[{i}].due', '2026-03-31')"
        " where id = ?",
        (pid,),
    )
    report = wf.verify()
    assert problems(report, "deadline", f"project:{pid}") == []  # the two agree …
    assert "data" in problems(report, "project", f"project:{pid}")[0]["reason"]  # … the chain not


def test_a_whole_project_replaced_is_reported(wf: Workflow, db_path: Path) -> None:
    pid, _ = project_in(wf, "contracted")
    other = new_project(wf, title="另一个项目")
    cols = "title, purchaser, policy, state, contractor_id, version, data, audit_seq, audit_head"
    sql(
        db_path,
        f"update gpw_project set ({cols}) = (select {cols} from gpw_project where id = ?)"
        " where id = ?",
        (other, pid),
    )
    report = wf.verify()
    assert not report.ok
    assert {p["project_id"] for p in report.problems} == {pid}
    assert problems(report, "head", f"project:{pid}")  # its head no longer its last entry
    assert problems(report, "project", f"project:{pid}")
    assert problems(report, "deadline", f"project:{pid}")  # rows without a counterpart


def test_a_deleted_project_row_is_reported(wf: Workflow, db_path: Path) -> None:
    pid, _ = project_in(wf, "contracted")
    sql(db_path, "delete from gpw_deadline where project_id = ?", (pid,))
    sql(db_path, "delete from gpw_project where id = ?", (pid,))
    found = problems(wf.verify(), "project", f"project:{pid}")
    assert found and "no row" in found[0]["reason"]


def test_a_project_row_without_entries_is_reported(wf: Workflow, db_path: Path) -> None:
    pid, _ = project_in(wf, "approved")
    sql(db_path, "delete from gpw_audit where stream = ?", (f"project:{pid}",))
    found = problems(wf.verify(), "project", f"project:{pid}")
    assert found and found[0]["seq"] == 1 and "no audit entries" in found[0]["reason"]


def test_swapped_entries_are_reported(wf: Workflow, db_path: Path) -> None:
    pid, _ = project_in(wf, "approved")
    stream = f"project:{pid}"
    for a, b in ((2, -1), (3, 2), (-1, 3)):
        sql(db_path, "update gpw_audit set seq = ? where stream = ? and seq = ?", (b, stream, a))
    report = wf.verify()
    assert not report.ok and report.first_bad == (stream, 2)
    assert report.problems[0]["kind"] == "link" and report.problems[0]["project_id"] == pid


def test_swapped_entries_rechained_are_reported_by_their_states(
    wf: Workflow, db_path: Path
) -> None:
    pid, _ = project_in(wf, "approved")  # 1 create, 2 submit, 3 review_budget, 4 approve
    stream = f"project:{pid}"
    for a, b in ((2, -1), (3, 2), (-1, 3)):
        sql(db_path, "update gpw_audit set seq = ? where stream = ? and seq = ?", (b, stream, a))
    rechain(wf, stream)
    report = wf.verify()
    assert not report.ok
    order = problems(report, "order", stream)
    assert order and order[0]["seq"] == 2 and order[0]["project_id"] == pid
    assert "from-state pending_approval" in order[0]["reason"]
    assert report.first_bad is not None and report.first_bad[0] == stream


def test_a_cut_chain_with_its_head_rewritten_is_found_by_the_anchor(
    wf: Workflow, db_path: Path
) -> None:
    pid, cid = project_in(wf, "awarded")
    before = rows(db_path, "select * from gpw_project where id = ?", (pid,))[0]
    deadlines = rows(db_path, "select * from gpw_deadline where project_id = ?", (pid,))
    fire_step(wf, pid, cid, "sign_contract")
    saved = wf.anchor()
    anchored = saved["heads"][f"project:{pid}"]["seq"]
    # roll the project back to before signing: cut the chain, rewrite its head and its rows
    sql(
        db_path,
        "delete from gpw_audit where stream = ? and seq > ?",
        (f"project:{pid}", before["audit_seq"]),
    )
    sql(db_path, "delete from gpw_deadline where project_id = ?", (pid,))
    for d in deadlines:
        sql(
            db_path,
            f"insert into gpw_deadline ({', '.join(d)}) values ({', '.join('?' for _ in d)})",
            tuple(d.values()),
        )
    cols = [c for c in before if c != "id"]
    sql(
        db_path,
        f"update gpw_project set {', '.join(f'{c} = ?' for c in cols)} where id = ?",
        (*[before[c] for c in cols], pid),
    )
    assert wf.verify().ok  # consistent in itself: only the anchor can tell
    report = wf.verify(anchor=saved)
    assert not report.ok
    found = problems(report, "anchor", f"project:{pid}")
    assert found and found[0]["seq"] == anchored and found[0]["project_id"] == pid
    assert "cut" in found[0]["reason"]
    assert report.first_bad == (f"project:{pid}", anchored)


def test_a_cut_contractor_stream_is_found_by_the_anchor(wf: Workflow, db_path: Path) -> None:
    cid = contractor(wf)
    head = rows(db_path, "select * from gpw_audit_head where stream = ?", (f"contractor:{cid}",))
    data = rows(db_path, "select data from gpw_contractor where id = ?", (cid,))[0]["data"]
    wf.ban_contractor(cid, actor=GOV, at=at("2025-08-01"), until=date(2026, 1, 1), reason="x")
    saved = wf.anchor()
    sql(db_path, "delete from gpw_audit where stream = ? and seq = 2", (f"contractor:{cid}",))
    sql(
        db_path,
        "update gpw_audit_head set seq = 1, hash = ? where stream = ?",
        (head[0]["hash"], f"contractor:{cid}"),
    )
    sql(db_path, "update gpw_contractor set data = ?, version = 1 where id = ?", (data, cid))
    assert wf.verify().ok
    found = problems(wf.verify(anchor=saved), "anchor", f"contractor:{cid}")
    assert found and found[0]["seq"] == 2 and found[0]["project_id"] is None


def test_a_vanished_project_is_found_by_the_anchor(wf: Workflow, db_path: Path) -> None:
    pid, _ = project_in(wf, "contracted")
    saved = wf.anchor()
    for statement in (
        "delete from gpw_deadline where project_id = ?",
        "delete from gpw_audit where project_id = ?",
        "delete from gpw_project where id = ?",
    ):
        sql(db_path, statement, (pid,))
    found = problems(wf.verify(anchor=saved), "anchor", f"project:{pid}")
    assert found and "vanished" in found[0]["reason"]


def test_a_rewritten_anchored_entry_is_reported(wf: Workflow, db_path: Path) -> None:
    pid, _ = project_in(wf, "approved")
    saved = wf.anchor()
    sql(
        db_path,
        "update gpw_audit set org = '别的单位' where stream = ? and seq = 4",
        (f"project:{pid}",),
    )
    rechain(wf, f"project:{pid}")
    report = wf.verify(anchor=saved)
    found = problems(report, "anchor", f"project:{pid}")
    assert found and found[0]["seq"] == 4 and "rewritten" in found[0]["reason"]


def test_an_entry_dated_after_it_was_recorded_is_reported(wf: Workflow, db_path: Path) -> None:
    pid, _ = project_in(wf, "approved")
    sql(
        db_path,
        "update gpw_audit set at = '2099-01-01 00:00:00.000000' where stream = ? and seq = 4",
        (f"project:{pid}",),
    )
    rechain(wf, f"project:{pid}")
    found = problems(wf.verify(), "at", f"project:{pid}")
    assert found and found[0]["seq"] == 4


def test_an_altered_recorded_at_breaks_the_hash(wf: Workflow, db_path: Path) -> None:
    pid, _ = project_in(wf, "approved")
    sql(
        db_path,
        "update gpw_audit set recorded_at = '2030-01-01 00:00:00.000000' where stream = ? "
        "and seq = 2",
        (f"project:{pid}",),
    )
    report = wf.verify()
    assert report.first_bad == (f"project:{pid}", 2) and "altered" in report.reason


# -- anchors --------------------------------------------------------------------------------------


def test_the_anchor_is_every_head_and_one_digest(wf: Workflow) -> None:
    pid, cid = project_in(wf, "approved")
    saved = wf.anchor()
    assert saved["format"] == "gpw-anchor-1"
    assert saved["at"] == "2031-01-01T00:00:00+08:00"
    last = wf.history(pid)[-1]
    assert saved["heads"][f"project:{pid}"] == {"seq": last.seq, "hash": last.hash}
    assert saved["heads"][f"contractor:{cid}"]["seq"] == 1
    canonical = json.dumps(
        saved["heads"], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    assert saved["digest"] == hashlib.sha256(canonical.encode()).hexdigest()
    assert json.loads(json.dumps(saved)) == saved  # JSON-able as is


def test_a_forged_anchor_is_reported(wf: Workflow) -> None:
    pid, _ = project_in(wf, "approved")
    saved = wf.anchor()
    stream = f"project:{pid}"
    forged = json.loads(json.dumps(saved))
    forged["heads"][stream]["hash"] = "f" * 64
    report = wf.verify(anchor=forged)
    assert [p["kind"] for p in report.problems] == ["anchor_digest", "anchor"]
    forged["digest"] = audit.heads_digest(forged["heads"])  # a consistent forgery
    report = wf.verify(anchor=forged)
    assert [(p["kind"], p["stream"]) for p in report.problems] == [("anchor", stream)]


@pytest.mark.parametrize(
    ("anchor", "field"),
    [
        ([], "anchor"),
        ({"format": "x", "heads": {}, "digest": ""}, "anchor.format"),
        ({"format": "gpw-anchor-1", "heads": [], "digest": ""}, "anchor.heads"),
        ({"format": "gpw-anchor-1", "heads": {"calendar": {"seq": 0, "hash": "a" * 64}},
          "digest": ""}, "anchor.heads.calendar"),
        ({"format": "gpw-anchor-1", "heads": {}}, "anchor.digest"),
    ],
)  # fmt: skip
def test_a_malformed_anchor_is_invalid_input(wf: Workflow, anchor: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        wf.verify(anchor=anchor)
    assert err.value.field == field and err.value.message_zh.startswith("锚点无效")


# -- honest `at` ----------------------------------------------------------------------------------


def test_an_at_more_than_five_minutes_after_the_clock_is_refused(
    pinned: Workflow, db_path: Path
) -> None:
    plan: dict[str, Any] = {"title": "t", "purchaser": CLERK.org, "budget": "1.00"}
    plan["items"] = [{"name": "x", "quantity": 1}]
    with pytest.raises(InvalidInput) as err:
        pinned.create_project(actor=CLERK, at=NOW + timedelta(minutes=5, seconds=1), **plan)
    assert (err.value.field, err.value.rule) == ("at", "R15")
    assert "5 分钟" in err.value.message_zh and "5 minutes" in err.value.message_en
    assert count(db_path, "gpw_project") == 0
    pid = pinned.create_project(actor=CLERK, at=NOW + timedelta(minutes=5), **plan)
    with pytest.raises(InvalidInput) as err:
        pinned.fire(pid, "submit", actor=CLERK, at=at("2099-01-01"))
    assert err.value.field == "at"
    assert pinned.project(pid).state == "draft" and len(pinned.history(pid)) == 1


def test_an_at_before_the_projects_last_entry_is_refused(wf: Workflow) -> None:
    pid, cid = project_in(wf, "approved")  # approved at 2025-08-05 10:00
    _, event, actor, _, data = next(s for s in lifecycle(cid) if s[1] == "publish_notice")
    version = wf.project(pid).version
    with pytest.raises(InvalidInput) as err:
        wf.fire(pid, event, actor=actor, at=at("1990-01-01"), **data)
    assert (err.value.field, err.value.rule) == ("at", "R15")
    assert "早于" in err.value.message_zh and "earlier" in err.value.message_en
    assert wf.project(pid).version == version
    wf.fire(pid, event, actor=actor, at=at("2025-08-05"), **data)  # the same instant is fine
    assert wf.project(pid).version == version + 1


def test_every_writer_refuses_a_future_at(pinned: Workflow, db_path: Path) -> None:
    cid = contractor(pinned)
    person = pinned.directory.add(org="大武口区民政局", role="purchaser", name="张", at=NOW)
    later = NOW + timedelta(hours=1)
    entries = count(db_path, "gpw_audit")
    attempts = [
        lambda: pinned.register_contractor(
            actor=CLERK, at=later, name="x", org_type="enterprise", qualifications={}
        ),
        lambda: pinned.ban_contractor(cid, actor=GOV, at=later, until=date(2026, 1, 1), reason="x"),
        lambda: pinned.calendar.add_year(
            {"year": 2027, "holidays": [], "workdays": []}, actor=ADMIN, at=later
        ),
        lambda: pinned.directory.add(org="o", role="purchaser", name="n", at=later),
        lambda: pinned.directory.remove(person.id, at=later),
        lambda: pinned.resend(1, actor=ADMIN, at=later),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidInput) as err:
            attempt()
        assert err.value.field == "at"
    assert count(db_path, "gpw_audit") == entries
    assert len(pinned.directory.people()) == 1 and not pinned.contractor(cid).bans


def test_tick_relay_and_health_take_a_future_now(pinned: Workflow) -> None:
    ahead = NOW + timedelta(days=400)
    assert pinned.tick(ahead) == []
    assert pinned.relay(ahead).claimed == 0
    assert pinned.health(ahead)["notices"]["pending"] == 0


def test_without_at_the_clock_is_recorded(pinned: Workflow) -> None:
    pid = new_project(pinned)  # at 2025-07-30, before the clock
    pinned.fire(pid, "submit", actor=CLERK)
    last = pinned.history(pid)[-1]
    assert last.at == NOW and last.recorded_at == NOW
