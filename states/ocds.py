"""A purchase project as Open Contracting Data Standard 1.1.5 releases (全程公开, R15).

Pure: no database, no clock, no I/O but reading the shipped schema. :func:`release` maps a
project *as it stands right after an audit entry* (the entry's event, time and sequence number)
to one release; :func:`package` wraps releases in a release package.

**Which events publish** (:data:`PUBLIC_EVENTS`, with the release ``tag`` each gives): a plan
becomes public when it is approved (``approve``: ``planning``); then ``publish_notice``
(``tender``), ``record_review``, ``fail_procurement``, ``reprocure`` (``tenderUpdate``),
``award`` (``award``), ``sign_contract`` (``contract``), ``dispatch_staff``, ``pay``,
``evaluate``, ``record_training`` (R14), ``order_rectification``, ``approve_subcontract``,
``subcontract``, ``settle``, ``accept`` (``implementation``), ``complete_rectification``,
``correct_deadline``, ``recompute_deadlines``, ``suspend_deadline``, ``resume_deadline`` and
``extend_deadline`` (``implementationUpdate``, when the project has a contract: a milestone's
due date moves, and its description says it was suspended or extended),
``remove_contractor`` and ``close`` (``contractTermination``), ``terminate`` (by the state it
ends: ``tenderCancellation``, ``awardCancellation`` or ``contractTermination``; nothing for a plan
never approved); ``resolve_dispute`` (``implementationUpdate``: the part of a disputed tranche
found due gets its payment milestone, R20). Drafting, submitting, the budget review, a
rejection, a payment dispute while open (``dispute_payment``), a subcontract request and
its refusal stay internal until they change one of the above.

**What a release holds.** Everything the public may know of the project at that moment (the
project's public state, not only the change): ``parties`` with roles, ``buyer``, ``planning``
(the budget), ``tender`` (method, notice, period, items, tenderers), ``awards`` and ``contracts``
(one per procurement round: a contractor removed and the purchase made again (``reprocure``,
R12) leaves its award and contract in place and adds a second), and each contract's
``implementation``: ``transactions`` for payments and settlements, ``milestones`` for the
dispatch deadline (``delivery``), each payment tranche (``financing``), each evaluation
period and rectification (``assessment``), the end of the term, the evaluations' results
(``assessment``, with scores and whether they passed) and approved subcontracts
(``approval``). A fact whose date the project does not hold (when the notice was published, when
the award was made) is taken from the entries given (the entry itself, and ``history`` where
the caller has it) and left out otherwise: an earlier release carries it, and a compiled record
keeps it. Every date is at or before the release's ``date``; a ``met`` milestone has
``dateMet``, a ``scheduled`` one has none.

**Codes.** ``procurementMethod`` (closed codelist ``method``): 公开招标 ``open``; 邀请招标
``selective`` ("only qualified suppliers are invited to submit a tender"); 竞争性谈判 and 竞争性磋商
``limited`` ("the procuring entity contacts a number of suppliers of its choice": the purchaser
invites at least three suppliers to negotiate); 单一来源 ``direct`` ("awarded to a single
supplier without competition"); ``procurementMethodDetails`` names the Chinese method. Party roles
(open codelist ``partyRole``): the purchaser ``buyer`` and ``procuringEntity``; the finance
bureau ``funder`` and ``payer``; the audit bureau ``reviewBody``; the government that approves
the plan ``interestedParty``; the awarded contractor ``supplier``, ``payee`` and ``tenderer``;
other scored candidates ``tenderer``. Amounts are JSON numbers in CNY (the exact two-place decimal
written as its shortest float text). Personal data never enters a release: staff, reviewers and
the people who acted are not named, and every text passes :mod:`states.redaction`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from states import deadlines as dl
from states.enums import DeadlineStatus, ProcurementMethod, ProjectState
from states.model import Contract, Deadline, Evaluation, Payment, Project, Settlement
from states.redaction import Redaction, default_rules

#: a documented placeholder: a publisher registers its own ``ocds-xxxxxx`` prefix with the OCP
DEFAULT_OCID_PREFIX = "ocds-gpw000"
VERSION = "1.1"
SCHEMA_DIR = Path(__file__).resolve().with_name("ocds_schema")
RELEASE_SCHEMA_URL = "https://standard.open-contracting.org/schema/1__1__5/release-schema.json"
PACKAGE_SCHEMA_URL = (
    "https://standard.open-contracting.org/schema/1__1__5/release-package-schema.json"
)
CURRENCY = "CNY"
#: keys whose values gpw generates itself (identifiers, codes, dates): never personal data, so
#: the redaction does not search them
GENERATED = frozenset(
    {
        "ocid",
        "id",
        "date",
        "tag",
        "initiationType",
        "language",
        "startDate",
        "endDate",
        "dueDate",
        "dateMet",
        "dateSigned",
        "awardID",
        "status",
        "type",
        "documentType",
        "roles",
        "currency",
        "procurementMethod",
        "mainProcurementCategory",
        "awardCriteria",
        "projectID",
        "publishedDate",
    }
)

#: events that move a deadline (the milestones' due dates): public while there is a contract
_DEADLINE_EVENTS = frozenset(
    {
        "correct_deadline",
        "recompute_deadlines",
        "suspend_deadline",
        "resume_deadline",
        "extend_deadline",
    }
)

#: event → the ``tag`` of its release (``terminate`` depends on the state it ends)
PUBLIC_EVENTS: dict[str, str] = {
    "approve": "planning",
    "publish_notice": "tender",
    "record_review": "tenderUpdate",
    "fail_procurement": "tenderUpdate",
    "reprocure": "tenderUpdate",
    "award": "award",
    "sign_contract": "contract",
    "dispatch_staff": "implementation",
    "pay": "implementation",
    "evaluate": "implementation",
    "record_training": "implementation",
    "order_rectification": "implementation",
    "approve_subcontract": "implementation",
    "subcontract": "implementation",
    "settle": "implementation",
    "accept": "implementation",
    "complete_rectification": "implementationUpdate",
    "correct_deadline": "implementationUpdate",
    "recompute_deadlines": "implementationUpdate",
    "resolve_dispute": "implementationUpdate",
    "suspend_deadline": "implementationUpdate",
    "resume_deadline": "implementationUpdate",
    "extend_deadline": "implementationUpdate",
    "remove_contractor": "contractTermination",
    "close": "contractTermination",
    "terminate": "",
}

METHODS: dict[ProcurementMethod, tuple[str, str]] = {
    ProcurementMethod.OPEN_TENDER: ("open", "公开招标 / open tender"),
    ProcurementMethod.INVITED_TENDER: ("selective", "邀请招标 / invited tender"),
    ProcurementMethod.COMPETITIVE_NEGOTIATION: ("limited", "竞争性谈判 / competitive negotiation"),
    ProcurementMethod.COMPETITIVE_CONSULTATION: (
        "limited",
        "竞争性磋商 / competitive consultation",
    ),
    ProcurementMethod.SINGLE_SOURCE: ("direct", "单一来源采购 / single source"),
}

#: deadline kind → (milestone type, title)
MILESTONES: dict[str, tuple[str, str]] = {
    "dispatch": ("delivery", "人员派遣 / staff dispatched (R8)"),
    "payment_1": ("financing", "第 1 期资金拨付 / payment tranche 1 (R7)"),
    "payment_2": ("financing", "第 2 期资金拨付 / payment tranche 2 (R7)"),
    "payment_3": ("financing", "第 3 期资金拨付 / payment tranche 3 (R7)"),
    "evaluation": ("assessment", "绩效评价 / evaluation period (R10)"),
    "rectification": ("assessment", "限期整改 / rectification (R11)"),
    "contract_end": ("delivery", "服务期满验收 / end of term and acceptance (R13)"),
    "training": ("delivery", "业务培训 / staff training (R14)"),
}
EVALUATION_TITLES = {
    "semiannual": "半年满意度测评 / semiannual satisfaction review",
    "midterm": "中期评估 / mid-term evaluation",
    "final": "终期评估 / final evaluation",
}
FORMS = {
    "purchase": "购买 / purchase",
    "entrustment": "委托 / entrustment",
    "lease": "租赁 / lease",
    "franchise": "特许经营 / franchise",
    "strategic_cooperation": "战略合作 / strategic cooperation",
}
#: states whose plan was never approved: nothing of them is public
_UNPUBLISHED = frozenset({ProjectState.DRAFT, ProjectState.PENDING_APPROVAL})
_LIVE_CONTRACT = frozenset(
    {
        ProjectState.CONTRACTED,
        ProjectState.IN_SERVICE,
        ProjectState.RECTIFYING,
        ProjectState.ACCEPTED,
    }
)


def ocid(prefix: str, project_id: int) -> str:
    """``<prefix>-<project id>``."""
    return f"{prefix}-{project_id}"


def release_id(prefix: str, project_id: int, seq: int) -> str:
    """Unique and stable per (project, audit entry): ``<ocid>-<seq>``."""
    return f"{prefix}-{project_id}-{seq}"


def tag_for(event: str, from_state: str | None, project: Project) -> str | None:
    """The release tag an accepted event gives, or None when it publishes nothing."""
    tag = PUBLIC_EVENTS.get(event)
    if tag is None:
        return None
    if project.approved_at is None and not project.prior_contracts:
        return None  # never approved: nothing public yet
    if event in _DEADLINE_EVENTS and project.contract is None:
        return None
    if event == "terminate":
        before = ProjectState(from_state) if from_state else None
        if before is None or before in _UNPUBLISHED:
            return None
        if before in (ProjectState.APPROVED, ProjectState.PROCURING):
            return "tenderCancellation"
        if before is ProjectState.AWARDED:
            return "awardCancellation"
        return "contractTermination"
    return tag


# -- values ---------------------------------------------------------------------------------------


def _at(value: datetime | str) -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(dl.SHANGHAI).isoformat()


def _day(day: date) -> str:
    """A business day as a date-time: its start, Asia/Shanghai (never after the event that
    records it, which happens on that day or later)."""
    return datetime.combine(day, time(0), tzinfo=dl.SHANGHAI).isoformat()


def _day_end(day: date) -> str:
    """The end of a business day: a deadline is met until then."""
    return (dl.end_of_day(day) - timedelta(seconds=1)).isoformat()


def _amount(value: Decimal) -> int | float:
    """The exact decimal as a JSON number (OCDS amounts are numbers)."""
    return int(value) if value == value.to_integral_value() else float(value)


def _value(value: Decimal) -> dict[str, Any]:
    return {"amount": _amount(value), "currency": CURRENCY}


def org_id(name: str) -> str:
    """A stable party id for an organisation known by name (no register code is held)."""
    return "gpw-org-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]


def contractor_party_id(contractor_id: int) -> str:
    return f"gpw-contractor-{contractor_id}"


# -- the release ----------------------------------------------------------------------------------


class _Parties:
    def __init__(self) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}

    def add(
        self, pid: str, name: str, *roles: str, details: Mapping[str, Any] | None = None
    ) -> dict[str, str]:
        party = self.by_id.get(pid)
        if party is None:
            party = self.by_id[pid] = {"id": pid, "name": name, "roles": []}
        for role in roles:
            if role not in party["roles"]:
                party["roles"].append(role)
        if details:
            party["details"] = dict(details)
        return {"id": pid, "name": name}

    def listed(self) -> list[dict[str, Any]]:
        return list(self.by_id.values())


def _dates(entries: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """When each event happened, in order of the entries."""
    out: dict[str, list[str]] = {}
    for e in entries:
        out.setdefault(str(e["event"]), []).append(_at(e["at"]))
    return out


def release(
    project: Project,
    entry: Mapping[str, Any],
    *,
    prefix: str = DEFAULT_OCID_PREFIX,
    contractors: Mapping[int, Mapping[str, Any]] | None = None,
    history: Sequence[Mapping[str, Any]] = (),
    rules: Redaction | None = None,
    names: Iterable[str] = (),
    data: Mapping[str, Any] | None = None,
) -> dict[str, Any] | None:
    """The release an audit entry gives, from the project as it stands right after it; None
    when the event publishes nothing (:func:`tag_for`).

    Args:
        project: the project after the entry's transaction (it must have its id).
        entry: the entry: ``seq``, ``event``, ``at`` (aware datetime or ISO text),
            ``from_state``.
        prefix: the ocid prefix.
        contractors: public facts of registered contractors by id (``name``, ``sme``): the
            candidates a review scored are named as tenderers.
        history: the project's earlier entries, where the caller has them (dates of the notice,
            the awards, a subcontract's approval); without them those dates are left out.
        rules: redaction rules (gpw's own by default); ``names``: further personal names to
            mask (the project's own staff and reviewers always are).
        data: ``project.to_json()``, when the caller has it already.
    """
    assert project.id is not None
    tag = tag_for(str(entry["event"]), entry.get("from_state"), project)
    if tag is None:
        return None
    rules = rules or default_rules()
    pid = project.id
    when = _at(entry["at"])
    known = _dates([*history, entry])
    parties = _Parties()
    buyer = parties.add(org_id(project.purchaser), project.purchaser, "buyer", "procuringEntity")
    payer: dict[str, str] | None = None
    if project.supervisors is not None:
        sup = project.supervisors
        payer = parties.add(org_id(sup.finance), sup.finance, "funder", "payer")
        parties.add(org_id(sup.audit), sup.audit, "reviewBody")
        parties.add(org_id(sup.government), sup.government, "interestedParty")
    out: dict[str, Any] = {
        "ocid": ocid(prefix, pid),
        "id": release_id(prefix, pid, int(entry["seq"])),
        "date": when,
        "tag": [tag],
        "initiationType": "tender",
        "language": "zh",
        "buyer": buyer,
        "planning": {
            "budget": {
                "id": f"{pid}-budget",
                "description": "购买社会救助服务项目预算 / budget of the purchase (R1)",
                "amount": _value(project.budget),
                "project": project.title,
                "projectID": str(pid),
            }
        },
        "tender": _tender(project, entry, known, parties, contractors or {}),
    }
    awards, contracts = _rounds(project, entry, known, parties, payer)
    if awards:
        out["awards"] = awards
    if contracts:
        out["contracts"] = contracts
    out["parties"] = parties.listed()
    private = rules.names_in(project.to_json() if data is None else data)
    return rules.redact(out, (*private, *names), skip=GENERATED)  # type: ignore[no-any-return]


def _items(project: Project) -> list[dict[str, Any]]:
    items = []
    for i, item in enumerate(project.items, start=1):
        one: dict[str, Any] = {
            "id": str(i),
            "description": item.name + (f"（{item.standard}）" if item.standard else ""),
            "quantity": _amount(item.quantity),
        }
        if item.unit:
            one["unit"] = {"name": item.unit}
        items.append(one)
    return items


def _tender(
    project: Project,
    entry: Mapping[str, Any],
    known: Mapping[str, list[str]],
    parties: _Parties,
    contractors: Mapping[int, Mapping[str, Any]],
) -> dict[str, Any]:
    event, state = str(entry["event"]), project.state
    round_no = len(project.prior_contracts) + 1
    tender: dict[str, Any] = {
        "id": f"{project.id}-tender",
        "title": project.title,
        "status": _tender_status(event, state, project),
        "items": _items(project),
        "value": _value(project.budget),
        "mainProcurementCategory": "services",
    }
    if project.procurement_method is not None:
        code, details = METHODS[project.procurement_method]
        tender["procurementMethod"] = code
        tender["procurementMethodDetails"] = details
        tender["awardCriteria"] = "ratedCriteria"
        published = known.get("publish_notice", [])
        if published:
            tender["tenderPeriod"] = {"startDate": published[-1]}
        if project.notice:
            tender["documents"] = [
                {
                    "id": f"{project.id}-notice-{round_no}",
                    "documentType": "tenderNotice",
                    "title": "采购公告 / procurement notice",
                    "description": project.notice,
                    "language": "zh",
                }
            ]
    if project.reviews:
        review = project.reviews[-1]
        weights = "，".join(f"{k} {v}" for k, v in review.criteria.items())
        tender["awardCriteriaDetails"] = f"综合评分，权重：{weights} / rated criteria (R5)"
        named: list[tuple[int, str, Decimal]] = []
        for key, score in review.scores.items():
            cid = int(key)
            facts = contractors.get(cid) or {}
            name = facts.get("name") or (
                project.contractor_name if cid == project.contractor_id else None
            )
            if name:
                named.append((cid, str(name), Decimal(score)))
        # the tenderers only when every one is known (the review's release names them all; a
        # later release without the register's facts leaves them to it)
        if named and len(named) == len(review.scores):
            tenderers = [parties.add(contractor_party_id(c), n, "tenderer") for c, n, _ in named]
            scores = [f"{n} {v:.2f}" for _, n, v in named]
            tender["tenderers"] = tenderers
            tender["numberOfTenderers"] = len(tenderers)
            tender["description"] = "评审得分 / review scores (R5)：" + "；".join(scores)
    return tender


def _tender_status(event: str, state: ProjectState, project: Project) -> str:
    if event == "fail_procurement":
        return "unsuccessful"
    if state is ProjectState.TERMINATED and project.contractor_id is None:
        return "cancelled"
    if state is ProjectState.APPROVED:
        return "planned"
    if state is ProjectState.PROCURING:
        return "active"
    return "complete"


def _rounds(
    project: Project,
    entry: Mapping[str, Any],
    known: Mapping[str, list[str]],
    parties: _Parties,
    payer: dict[str, str] | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One award (and contract, once signed) per procurement round: the prior ones, then the
    live one."""
    pid = project.id
    award_dates = known.get("award", [])
    awards: list[dict[str, Any]] = []
    contracts: list[dict[str, Any]] = []
    rounds: list[
        tuple[
            int | None,
            str | None,
            Contract | None,
            list[Payment],
            list[Settlement],
            list[Evaluation],
            bool,
        ]
    ] = [
        (
            p.contractor_id,
            p.contractor_name,
            p.contract,
            p.payments,
            p.settlements,
            p.evaluations,
            False,
        )
        for p in project.prior_contracts
    ]
    if project.contractor_id is not None:
        rounds.append(
            (
                project.contractor_id,
                project.contractor_name,
                project.contract,
                project.payments,
                project.settlements,
                project.evaluations,
                True,
            )
        )
    # the k-th award entry is the k-th round's; without the history only the entry's own award
    # is known, and it is the last round's
    offset = len(rounds) - len(award_dates)
    last_with_contract = max((i for i, r in enumerate(rounds) if r[2] is not None), default=None)
    for index, (cid, name, contract, payments, settlements, evaluations, live) in enumerate(rounds):
        k = index + 1
        if cid is None or not name:
            continue
        sme = bool(contract and contract.sme)
        supplier = parties.add(
            contractor_party_id(cid),
            name,
            "supplier",
            "tenderer",
            *(("payee",) if payments or settlements else ()),
            details={"scale": "sme"} if sme else None,
        )
        award: dict[str, Any] = {
            "id": f"{pid}-award-{k}",
            "title": f"确定承接主体 / contractor awarded (round {k})",
            "status": _award_status(project, live, contract),
            "suppliers": [supplier],
        }
        if 0 <= index - offset < len(award_dates):
            award["date"] = award_dates[index - offset]
        if contract is not None:
            award["value"] = _value(contract.price)
        awards.append(award)
        if contract is None:
            continue
        deadlines = project.deadlines if index == last_with_contract else []
        contracts.append(
            _contract(
                project,
                k,
                contract,
                live,
                supplier,
                payer,
                payments,
                settlements,
                evaluations,
                deadlines,
                entry,
                known,
            )
        )
    return awards, contracts


def _award_status(project: Project, live: bool, contract: Contract | None) -> str:
    if live and contract is None and project.state is ProjectState.TERMINATED:
        return "cancelled"
    return "active"


def _contract_status(project: Project, live: bool) -> str:
    if live and project.state in _LIVE_CONTRACT:
        return "active"
    return "terminated"


def _contract(
    project: Project,
    k: int,
    contract: Contract,
    live: bool,
    supplier: dict[str, str],
    payer: dict[str, str] | None,
    payments: list[Payment],
    settlements: list[Settlement],
    evaluations: list[Evaluation],
    deadlines: list[Deadline],
    entry: Mapping[str, Any],
    known: Mapping[str, list[str]],
) -> dict[str, Any]:
    pid = project.id
    cid = f"{pid}-contract-{k}"
    end = dl.add_months(contract.effective_on, contract.term_months) - timedelta(days=1)
    form = FORMS.get(contract.form.value, contract.form.value)
    out: dict[str, Any] = {
        "id": cid,
        "awardID": f"{pid}-award-{k}",
        "title": f"{project.title}（服务合同 / service contract）",
        "status": _contract_status(project, live),
        "value": _value(contract.price),
        "period": {"startDate": _day(contract.effective_on), "endDate": _day_end(end)},
        "dateSigned": _day(contract.signed_on),
        "description": f"合同形式：{form}；服务期 {contract.term_months} 个月"
        + ("；承接主体为中小企业 / SME contractor (R20)" if contract.sme else ""),
        "documents": [
            {
                "id": f"{cid}-signed",
                "documentType": "contractSigned",
                "title": "政府购买服务合同 / signed service contract (R6)",
                "language": "zh",
            }
        ],
    }
    if live and project.removal_reason:
        out["description"] += f"；承接主体已清退 / contractor removed: {project.removal_reason}"
    if live and project.termination_reason:
        out["description"] += f"；项目终止 / terminated: {project.termination_reason}"
    transactions: list[dict[str, Any]] = []
    nth: dict[int, int] = {}
    for p in payments:
        # R20: a tranche paid in parts (a dispute) has one transaction a part; the first keeps
        # the tranche's id
        nth[p.tranche] = nth.get(p.tranche, 0) + 1
        suffix = "" if nth[p.tranche] == 1 else f"-{nth[p.tranche]}"
        one: dict[str, Any] = {
            "id": f"{cid}-payment-{p.tranche}{suffix}",
            "date": _day(p.on),
            "value": _value(p.amount),
            "payee": supplier,
        }
        if payer is not None:
            one["payer"] = payer
        transactions.append(one)
    for i, s in enumerate(settlements, start=1):
        one = {
            "id": f"{cid}-settlement-{i}",
            "date": _at(s.at),
            "value": _value(s.amount),
            "payee": supplier,
        }
        if payer is not None:
            one["payer"] = payer
        transactions.append(one)
    milestones = [_milestone(cid, d, project, live) for d in deadlines]
    for i, ev in enumerate(evaluations, start=1):
        verdict = "通过 / passed" if ev.passed else "未通过 / not passed"
        milestones.append(
            {
                "id": f"{cid}-evaluation-result-{i}",
                "title": EVALUATION_TITLES.get(ev.kind.value, ev.kind.value) + "结果 / result",
                "type": "assessment",
                "status": "met",
                "dateMet": _day(ev.on),
                "description": f"得分 {ev.score:.2f}；满意度 {ev.satisfaction:.2f}；{verdict}"
                + ("；满意度较低 / low satisfaction (R11)" if ev.low else "")
                + " (R10)",
            }
        )
    if live:
        milestones.extend(_subcontracts(cid, project, entry, known))
    if live and project.accepted_on is not None:
        milestones.append(
            {
                "id": f"{cid}-acceptance",
                "title": "验收 / acceptance (R13)",
                "type": "assessment",
                "status": "met",
                "dateMet": _day(project.accepted_on),
            }
        )
    implementation: dict[str, Any] = {}
    if transactions:
        implementation["transactions"] = transactions
    if milestones:
        implementation["milestones"] = milestones
    if implementation:
        out["implementation"] = implementation
    return out


def _milestone(cid: str, d: Deadline, project: Project, live: bool) -> dict[str, Any]:
    kind_type, title = MILESTONES.get(d.kind, ("delivery", d.kind))
    n = d.key.partition("#")[2]
    if d.kind == "evaluation":
        title = f"第 {n} 个评价周期 / evaluation period {n} (R10)"
    elif n == "disputed":
        title = title.replace(" (R7)", "") + "：争议部分 / the disputed part found due (R7, R20)"
    elif d.kind == "rectification":
        title = f"第 {n} 次限期整改 / rectification {n} (R11)"
    elif d.kind == "training":
        title = (
            "上岗前培训 / training before duty (R14)"
            if n == "0"
            else f"第 {n} 期业务培训 / staff training period {n} (R14)"
        )
    notes = [f"依据 / rule {d.rule}"]
    if d.provisional:
        notes.append("暂定（该年工作日历未发布）/ provisional")
    if d.late:
        notes.append("逾期完成 / met late")
    if d.suspended_on is not None and d.status is DeadlineStatus.OPEN:
        notes.append(f"自 {d.suspended_on} 中止计时 / suspended since {d.suspended_on}")
    for change in d.changes:
        if change.kind == "extended":
            notes.append(
                f"{change.on} 延长 {change.working_days} 个工作日 / extended by "
                f"{change.working_days} working days"
            )
        elif change.kind == "resumed":
            notes.append(f"{change.on} 恢复计时 / resumed")
    if d.kind == "dispatch" and project.staff and live:
        notes.append(f"派遣 {len(project.staff)} 人 / {len(project.staff)} staff dispatched")
    if d.kind == "rectification" and n.isdigit() and 0 < int(n) <= len(project.rectifications):
        notes.append(f"整改事项 / findings: {project.rectifications[int(n) - 1].findings}")
    if d.status is DeadlineStatus.CANCELLED:
        notes.append(f"已取消 / cancelled: {d.note}" if d.note else "已取消 / cancelled")
    one: dict[str, Any] = {
        "id": f"{cid}-{d.key}",
        "title": title,
        "type": kind_type,
        "dueDate": _day_end(d.due),
        "description": "；".join(notes),
    }
    if d.status is DeadlineStatus.MET and d.met_on is not None:
        one["status"] = "met"
        one["dateMet"] = _day(d.met_on)
    elif d.status is DeadlineStatus.CANCELLED:
        one["status"] = "notMet"
    else:
        one["status"] = "scheduled"
    return one


def _subcontracts(
    cid: str, project: Project, entry: Mapping[str, Any], known: Mapping[str, list[str]]
) -> list[dict[str, Any]]:
    """Approved and executed subcontracts (R9), dated when the entries say when."""
    out = []
    approved = known.get("approve_subcontract", [])
    # approvals in request order only when the whole history is given (every approval seen)
    approvals = [r for r in project.subcontract_requests if r.status in ("approved", "executed")]
    for n, request in enumerate(approvals):
        if len(approved) == len(approvals):
            met = approved[n]
        elif (
            entry["event"] in ("approve_subcontract", "subcontract")
            and int(entry.get("data", {}).get("request_id", -1)) == request.id
        ):
            met = _at(entry["at"])
        else:
            continue
        out.append(
            {
                "id": f"{cid}-subcontract-{request.id}",
                "title": f"分包 / subcontract: {request.part} → {request.to}",
                "type": "approval",
                "status": "met",
                "dateMet": met,
                "description": f"份额 / share {request.share}；"
                + ("已实施 / executed" if request.status == "executed" else "已批准 / approved")
                + " (R9)",
            }
        )
    return out


# -- packages and validation ----------------------------------------------------------------------


def package(
    releases: Sequence[Mapping[str, Any]],
    *,
    published_date: datetime | str,
    uri: str = "https://gpw.invalid/ocds/releases",
    publisher: str = "gpw 政府购买社会救助服务工作流",
) -> dict[str, Any]:
    """A release package (OCDS 1.1) around ``releases``."""
    return {
        "uri": uri,
        "version": VERSION,
        "publishedDate": _at(published_date),
        "publisher": {"name": publisher},
        "license": "https://creativecommons.org/licenses/by/4.0/",
        "publicationPolicy": "https://gpw.invalid/ocds/publication-policy",
        "releases": list(releases),
    }


@cache
def schema(name: str = "release-schema.json") -> dict[str, Any]:
    """A shipped schema file, parsed (read once)."""
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def reprefix(value: Mapping[str, Any], prefix: str, project_id: int) -> dict[str, Any]:
    """A stored release under another ocid prefix (its ``ocid`` and ``id``)."""
    seq = str(value["id"]).rsplit("-", 1)[-1]
    return {**value, "ocid": ocid(prefix, project_id), "id": f"{prefix}-{project_id}-{seq}"}
