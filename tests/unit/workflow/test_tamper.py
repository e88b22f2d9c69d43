"""Tamper evidence (R15): each kind of edit to a database the real engine made (a SQLite file and
PostgreSQL) is reported by ``verify`` with its stream (project) and entry; an untouched database
verifies; ``at`` is honest. The edits go through SQLAlchemy Core on their own connection, as
anybody with access to the database could make them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from dbtools import count, execute, row, rows
from sqlalchemy import String, and_, literal, select
from support import ADMIN, CLERK, GOV, at, contractor, lifecycle, new_project, project_in

from workflow import InvalidInput, Workflow, audit
from workflow.persistence import audit_t, contractor_t, deadline_t, head_t, project_t
from workflow.tables import fact_t, party_t

#: a clock in the past of the real date, so "the future" below is deterministic
NOW = at("2025-10-20", 12)


@pytest.fixture
def pinned(db_url: str) -> Iterator[Workflow]:
    workflow = Workflow.open(db_url, clock=lambda: NOW)
    yield workflow
    workflow.close()


def utc(text: str) -> datetime:
    """A UTC instant as a tamperer would write it into a datetime column."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def of_project(pid: int) -> Any:
    return project_t.c.id == pid


def dispatch_of(pid: int) -> Any:
    return and_(deadline_t.c.project_id == pid, deadline_t.c.key == "dispatch")


def entry(stream: str, seq: int) -> Any:
    return and_(audit_t.c.stream == stream, audit_t.c.seq == seq)


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


def test_a_changed_project_state_is_reported(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "contracted")
    last = wf.history(pid)[-1].seq
    execute(db_url, project_t.update().where(of_project(pid)).values(state="closed"))
    report = wf.verify()
    assert not report.ok
    found = problems(report, "project", f"project:{pid}")
    assert found and found[0]["project_id"] == pid and found[0]["seq"] == last
    assert "state" in found[0]["reason"] and "重放" in found[0]["reason"]
    assert report.first_bad == (f"project:{pid}", last)


def test_changed_project_data_is_reported(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "contracted")
    data = row(db_url, select(project_t.c.data).where(of_project(pid)))["data"]
    execute(
        db_url,
        project_t.update().where(of_project(pid)).values(data={**data, "budget": "9999999.00"}),
    )
    found = problems(wf.verify(), "project", f"project:{pid}")
    assert found and "data" in found[0]["reason"]


def test_a_changed_updated_at_is_reported(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "contracted")
    execute(
        db_url,
        project_t.update().where(of_project(pid)).values(updated_at=utc("1990-01-01 00:00:00")),
    )
    found = problems(wf.verify(), "project", f"project:{pid}")
    assert found and "updated_at" in found[0]["reason"]


def test_a_changed_version_is_reported(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "contracted")
    execute(
        db_url, project_t.update().where(of_project(pid)).values(version=project_t.c.version + 5)
    )
    found = problems(wf.verify(), "project", f"project:{pid}")
    assert found and "version" in found[0]["reason"]


#: the columns the copied deadline row below is given (the others stay empty)
COPIED = ("project_id", "key", "kind", "owner", "rule", "due", "due_at", "provisional", "status",
          "late", "version", "stage_index", "updated_at")  # fmt: skip


def _copy_of_dispatch(pid: int) -> Any:
    source = [
        literal("evaluation#9", String()).label("key") if c == "key" else deadline_t.c[c]
        for c in COPIED
    ]
    return deadline_t.insert().from_select(list(COPIED), select(*source).where(dispatch_of(pid)))


@pytest.mark.parametrize(
    ("statement", "words"),
    [
        pytest.param(
            lambda pid: deadline_t.update().where(dispatch_of(pid)).values(due=date(2026, 3, 31)),
            ["dispatch", "due"],
            id="due",
        ),
        pytest.param(
            lambda pid: deadline_t.update().where(dispatch_of(pid)).values(status="met"),
            ["dispatch", "status"],
            id="status",
        ),
        pytest.param(
            lambda pid: deadline_t.delete().where(dispatch_of(pid)),
            ["dispatch", "no deadline row"],
            id="deleted",
        ),
        pytest.param(_copy_of_dispatch, ["evaluation#9", "no counterpart"], id="inserted"),
    ],
)
def test_an_edited_deadline_row_is_reported(
    wf: Workflow, db_url: str, statement: Callable[[int], Any], words: list[str]
) -> None:
    pid, _ = project_in(wf, "contracted")
    last = wf.history(pid)[-1].seq
    assert wf.verify().ok
    execute(db_url, statement(pid))
    report = wf.verify()
    assert not report.ok
    found = problems(report, "deadline", f"project:{pid}")
    assert len(found) == 1 and found[0]["project_id"] == pid and found[0]["seq"] == last
    assert all(w in found[0]["reason"] for w in words)


def test_a_deadline_edited_in_both_row_and_data_is_reported(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "contracted")
    data = row(db_url, select(project_t.c.data).where(of_project(pid)))["data"]
    keys = [d["key"] for d in data["deadlines"]]
    i = keys.index("dispatch")
    data["deadlines"][i]["due"] = "2026-03-31"
    execute(
        db_url,
        deadline_t.update()
        .where(dispatch_of(pid))
        .values(due=date(2026, 3, 31), due_at=utc("2026-03-31 16:00:00")),
        project_t.update().where(of_project(pid)).values(data=data),
    )
    report = wf.verify()
    assert problems(report, "deadline", f"project:{pid}") == []  # the two agree …
    assert "data" in problems(report, "project", f"project:{pid}")[0]["reason"]  # … the chain not


def test_a_whole_project_replaced_is_reported(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "contracted")
    other = new_project(wf, title="另一个项目")
    cols = ("title", "purchaser", "policy", "state", "contractor_id", "version", "data",
            "audit_seq", "audit_head")  # fmt: skip
    copied = row(db_url, select(*(project_t.c[c] for c in cols)).where(of_project(other)))
    execute(db_url, project_t.update().where(of_project(pid)).values(**copied))
    report = wf.verify()
    assert not report.ok
    assert {p["project_id"] for p in report.problems} == {pid}
    assert problems(report, "head", f"project:{pid}")  # its head no longer its last entry
    assert problems(report, "project", f"project:{pid}")
    assert problems(report, "deadline", f"project:{pid}")  # rows without a counterpart


def test_a_deleted_project_row_is_reported(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "contracted")
    execute(
        db_url,
        deadline_t.delete().where(deadline_t.c.project_id == pid),
        party_t.delete().where(party_t.c.project_id == pid),
        fact_t.delete().where(fact_t.c.project_id == pid),
        project_t.delete().where(of_project(pid)),
    )
    found = problems(wf.verify(), "project", f"project:{pid}")
    assert found and "no row" in found[0]["reason"]


def test_a_project_row_without_entries_is_reported(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "approved")
    execute(db_url, audit_t.delete().where(audit_t.c.stream == f"project:{pid}"))
    found = problems(wf.verify(), "project", f"project:{pid}")
    assert found and found[0]["seq"] == 1 and "no audit entries" in found[0]["reason"]


def swap_entries_2_and_3(db_url: str, stream: str) -> None:
    for a, b in ((2, -1), (3, 2), (-1, 3)):
        execute(db_url, audit_t.update().where(entry(stream, a)).values(seq=b))


def test_swapped_entries_are_reported(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "approved")
    stream = f"project:{pid}"
    swap_entries_2_and_3(db_url, stream)
    report = wf.verify()
    assert not report.ok and report.first_bad == (stream, 2)
    assert report.problems[0]["kind"] == "link" and report.problems[0]["project_id"] == pid


def test_swapped_entries_rechained_are_reported_by_their_states(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "approved")  # 1 create, 2 submit, 3 review_budget, 4 approve
    stream = f"project:{pid}"
    swap_entries_2_and_3(db_url, stream)
    rechain(wf, stream)
    report = wf.verify()
    assert not report.ok
    order = problems(report, "order", stream)
    assert order and order[0]["seq"] == 2 and order[0]["project_id"] == pid
    assert "from-state pending_approval" in order[0]["reason"]
    assert report.first_bad is not None and report.first_bad[0] == stream


def test_a_cut_chain_with_its_head_rewritten_is_found_by_the_anchor(
    wf: Workflow, db_url: str
) -> None:
    pid, cid = project_in(wf, "awarded")
    before = row(db_url, select(project_t).where(of_project(pid)))
    deadlines = rows(db_url, select(deadline_t).where(deadline_t.c.project_id == pid))
    fire_step(wf, pid, cid, "sign_contract")
    saved = wf.anchor()
    anchored = saved["heads"][f"project:{pid}"]["seq"]
    # roll the project back to before signing: cut the chain, rewrite its head and its rows
    cols = {c: v for c, v in before.items() if c != "id"}
    execute(
        db_url,
        audit_t.delete().where(
            audit_t.c.stream == f"project:{pid}", audit_t.c.seq > before["audit_seq"]
        ),
        deadline_t.delete().where(deadline_t.c.project_id == pid),
        *(deadline_t.insert().values(**d) for d in deadlines),
        project_t.update().where(of_project(pid)).values(**cols),
    )
    assert wf.verify().ok  # consistent in itself: only the anchor can tell
    report = wf.verify(anchor=saved)
    assert not report.ok
    found = problems(report, "anchor", f"project:{pid}")
    assert found and found[0]["seq"] == anchored and found[0]["project_id"] == pid
    assert "cut" in found[0]["reason"]
    assert report.first_bad == (f"project:{pid}", anchored)


def test_a_cut_contractor_stream_is_found_by_the_anchor(wf: Workflow, db_url: str) -> None:
    cid = contractor(wf)
    stream = f"contractor:{cid}"
    head = row(db_url, select(head_t).where(head_t.c.stream == stream))
    data = row(db_url, select(contractor_t.c.data).where(contractor_t.c.id == cid))["data"]
    wf.ban_contractor(cid, actor=GOV, at=at("2025-08-01"), until=date(2026, 1, 1), reason="x")
    saved = wf.anchor()
    execute(
        db_url,
        audit_t.delete().where(entry(stream, 2)),
        head_t.update().where(head_t.c.stream == stream).values(seq=1, hash=head["hash"]),
        contractor_t.update().where(contractor_t.c.id == cid).values(data=data, version=1),
    )
    assert wf.verify().ok
    found = problems(wf.verify(anchor=saved), "anchor", f"contractor:{cid}")
    assert found and found[0]["seq"] == 2 and found[0]["project_id"] is None


def test_a_vanished_project_is_found_by_the_anchor(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "contracted")
    saved = wf.anchor()
    execute(
        db_url,
        deadline_t.delete().where(deadline_t.c.project_id == pid),
        audit_t.delete().where(audit_t.c.project_id == pid),
        party_t.delete().where(party_t.c.project_id == pid),
        fact_t.delete().where(fact_t.c.project_id == pid),
        project_t.delete().where(of_project(pid)),
    )
    found = problems(wf.verify(anchor=saved), "anchor", f"project:{pid}")
    assert found and "vanished" in found[0]["reason"]


def test_a_rewritten_anchored_entry_is_reported(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "approved")
    saved = wf.anchor()
    execute(db_url, audit_t.update().where(entry(f"project:{pid}", 4)).values(org="别的单位"))
    rechain(wf, f"project:{pid}")
    report = wf.verify(anchor=saved)
    found = problems(report, "anchor", f"project:{pid}")
    assert found and found[0]["seq"] == 4 and "rewritten" in found[0]["reason"]


def test_an_entry_dated_after_it_was_recorded_is_reported(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "approved")
    execute(
        db_url,
        audit_t.update().where(entry(f"project:{pid}", 4)).values(at=utc("2099-01-01 00:00:00")),
    )
    rechain(wf, f"project:{pid}")
    found = problems(wf.verify(), "at", f"project:{pid}")
    assert found and found[0]["seq"] == 4


def test_an_altered_recorded_at_breaks_the_hash(wf: Workflow, db_url: str) -> None:
    pid, _ = project_in(wf, "approved")
    execute(
        db_url,
        audit_t.update()
        .where(entry(f"project:{pid}", 2))
        .values(recorded_at=utc("2030-01-01 00:00:00")),
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
    pinned: Workflow, db_url: str
) -> None:
    plan: dict[str, Any] = {"title": "t", "purchaser": CLERK.org, "budget": "1.00"}
    plan["items"] = [{"name": "x", "quantity": 1}]
    with pytest.raises(InvalidInput) as err:
        pinned.create_project(actor=CLERK, at=NOW + timedelta(minutes=5, seconds=1), **plan)
    assert (err.value.field, err.value.rule) == ("at", "R15")
    assert "5 分钟" in err.value.message_zh and "5 minutes" in err.value.message_en
    assert count(db_url, project_t) == 0
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


def test_every_writer_refuses_a_future_at(pinned: Workflow, db_url: str) -> None:
    cid = contractor(pinned)
    person = pinned.directory.add(org="大武口区民政局", role="purchaser", name="张", at=NOW)
    later = NOW + timedelta(hours=1)
    entries = count(db_url, audit_t)
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
    assert count(db_url, audit_t) == entries
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
