"""What a purchaser owes under a contract: each tranche's account, and late-payment interest.

Pure: no database, no clock (``today`` is passed in). Used by the event guards (what ``pay``
may pay now, what ``dispute_payment`` may hold back), the project page, the finance ledger and
the annual report of overdue payments to small and medium enterprises.

**A tranche's parts (R7, R20).** A tranche is one part, ``payment_n``, due by its deadline. A
dispute over part of it (``dispute_payment``; 保障中小企业款项支付条例 第十五条: a dispute over part
of a transaction does not hold back the undisputed part) splits it: the *undisputed* part keeps
the key and the deadline ``payment_n``; the *disputed* amount waits, due on no day, until
``resolve_dispute`` finds how much of it is owed: that part (*resolved*) is payable by a
deadline of its own, ``payment_n#disputed``, and what was found not owed is *waived*. A
payment pays whole parts, in order (the undisputed part first): its amount is the sum of the
first unpaid payable parts, so the disputed part is never paid before the resolution.

**Late-payment interest (R20, 条例 第十七条).** For a small or medium enterprise (the contractor
register's ``sme`` flag at signing: 条例 第三条, the size when the contract is made), every
calendar day late (weekends and holidays too) bears simple interest on the amount paid late:
``amount × rate × days``, from the day after the due day to the day paid (or to ``today`` while
unpaid), rounded half up to the fen for each part. ``rate`` is the contract's
``late_interest_rate_per_day`` (a fraction a day: ``0.0005`` is 万分之五), else the regulation's
default of 0.05 % a day. A part still disputed, or unpaid under a deadline that was cancelled
(the project terminated or procured again) or discharged by a settlement (R12), bears none; nor
does one while its deadline's clock is stopped (中止计时), nor one paid then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from states.enums import DeadlineStatus
from states.model import Contract, Deadline, Payment, PaymentDispute, Settlement
from states.policy import Policy

CENT = Decimal("0.01")
#: 条例 第十七条: 未作约定的，按照每日利率万分之五支付逾期利息 (0.05 % a day)
REGULATION_RATE_PER_DAY = Decimal("0.0005")
#: the suffix of the deadline of a tranche's disputed part found due
DISPUTED = "#disputed"

PartKind = Literal["tranche", "undisputed", "disputed", "resolved"]


def tranche_key(tranche: int) -> str:
    return f"payment_{tranche}"


def disputed_key(tranche: int) -> str:
    return f"payment_{tranche}{DISPUTED}"


@dataclass(frozen=True, slots=True)
class Part:
    """One amount of a tranche with a deadline of its own (or none yet)."""

    tranche: int
    #: the deadline it is due by: ``payment_n`` or ``payment_n#disputed``
    key: str
    #: ``tranche`` (no dispute), ``undisputed``, ``disputed`` (waiting for the resolution),
    #: ``resolved`` (the disputed amount found due)
    kind: PartKind
    amount: Decimal
    #: the day it is due by; None while disputed, or where no deadline is known
    due: date | None
    provisional: bool
    #: payable: not waiting for a resolution (whether the tranche is unlocked is the ``pay``
    #: guard's to say)
    payable: bool
    paid_on: date | None
    #: unpaid and still owed by an open deadline (not one cancelled, nor one a settlement
    #: discharged): it is overdue after its due day and bears interest until paid
    owed: bool = False

    @property
    def paid(self) -> bool:
        return self.paid_on is not None


@dataclass(frozen=True, slots=True)
class TrancheAccount:
    """A tranche's account: its amount, what was paid, its dispute, its parts."""

    tranche: int
    #: the tranche's amount: its share of the price (the last: the rest of the price)
    amount: Decimal
    paid: Decimal
    dispute: PaymentDispute | None
    #: what a resolved dispute found not owed
    waived: Decimal
    parts: tuple[Part, ...]

    @property
    def outstanding(self) -> Decimal:
        """Still owed or in dispute: the amount less what was paid and what was waived."""
        return self.amount - self.paid - self.waived

    @property
    def held(self) -> Decimal:
        """Held back by an open dispute."""
        d = self.dispute
        return d.amount if d is not None and d.status == "open" else Decimal(0)

    @property
    def payable_now(self) -> Decimal:
        """What may be paid now: the outstanding amount less the part in dispute."""
        return self.outstanding - self.held

    @property
    def complete(self) -> bool:
        """Nothing left to pay or to decide (R7: the tranche is paid)."""
        return self.outstanding <= 0 and self.held == 0

    @property
    def clear(self) -> bool:
        """All but a disputed part is paid: the next tranche may be paid (R20: a dispute over
        part of one tranche holds back no other payment)."""
        return self.payable_now <= 0

    def payable_amounts(self) -> list[Decimal]:
        """The amounts one payment may have: the first unpaid payable part, or it and the next,
        and so on (parts are paid whole and in order)."""
        out: list[Decimal] = []
        total = Decimal(0)
        for part in self.parts:
            if part.paid:
                continue
            if not part.payable:
                break
            total += part.amount
            out.append(total)
        return out

    def parts_for(self, amount: Decimal) -> list[Part]:
        """The unpaid parts a payment of ``amount`` pays (one of :meth:`payable_amounts`)."""
        chosen: list[Part] = []
        total = Decimal(0)
        for part in self.parts:
            if part.paid:
                continue
            if not part.payable or total >= amount:
                break
            chosen.append(part)
            total += part.amount
        return chosen if total == amount else []


def tranche_amounts(
    price: Decimal, policy: Policy, settlements: Sequence[Settlement]
) -> list[Decimal]:
    """Each tranche's amount (R7): its share of the price, half up to the fen; the last is the
    rest of the price less any settlement (R12)."""
    out: list[Decimal] = []
    count = len(policy.tranches)
    for n, tranche in enumerate(policy.tranches, start=1):
        if n < count:
            out.append((price * tranche.share_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP))
        else:
            settled = sum((s.amount for s in settlements), Decimal(0))
            out.append(price - sum(out, Decimal(0)) - settled)
    return out


def accounts(
    contract: Contract,
    policy: Policy,
    *,
    payments: Sequence[Payment],
    settlements: Sequence[Settlement] = (),
    disputes: Sequence[PaymentDispute] = (),
    deadlines: Sequence[Deadline] = (),
) -> list[TrancheAccount]:
    """Every tranche's account under ``contract``. ``deadlines``: the live contract's (a contract
    ended by ``reprocure`` keeps what its payments recorded, and no unpaid part's due day)."""
    by_key = {d.key: d for d in deadlines}
    paid_parts: dict[str, tuple[date, date | None]] = {}
    paid: dict[int, Decimal] = {}
    for p in payments:
        paid[p.tranche] = paid.get(p.tranche, Decimal(0)) + p.amount
        if p.parts:  # each with the due day it was paid against (None: its clock was stopped)
            for part in p.parts:
                paid_parts[part.key] = (p.on, part.due)
        else:  # recorded before parts existed: the whole tranche, by its deadline
            deadline = by_key.get(tranche_key(p.tranche))
            paid_parts[tranche_key(p.tranche)] = (p.on, deadline.due if deadline else None)
    out: list[TrancheAccount] = []
    for n, amount in enumerate(tranche_amounts(contract.price, policy, settlements), start=1):
        dispute = next((d for d in disputes if d.tranche == n), None)
        parts: list[Part] = []

        if dispute is None:
            parts.append(_part(n, tranche_key(n), "tranche", amount, by_key, paid_parts))
        else:
            parts.append(
                _part(n, tranche_key(n), "undisputed", amount - dispute.amount, by_key, paid_parts)
            )
            if dispute.status == "open":
                parts.append(
                    _part(n, disputed_key(n), "disputed", dispute.amount, by_key, paid_parts, True)
                )
            elif dispute.found_due:
                parts.append(
                    _part(n, disputed_key(n), "resolved", dispute.found_due, by_key, paid_parts)
                )
        out.append(
            TrancheAccount(
                tranche=n,
                amount=amount,
                paid=paid.get(n, Decimal(0)),
                dispute=dispute,
                waived=dispute.waived if dispute is not None else Decimal(0),
                parts=tuple(parts),
            )
        )
    return out


def _part(
    n: int,
    key: str,
    kind: PartKind,
    value: Decimal,
    by_key: dict[str, Deadline],
    paid_parts: dict[str, tuple[date, date | None]],
    waiting: bool = False,
) -> Part:
    deadline = by_key.get(key)
    paid_on, due = paid_parts.get(key, (None, None))
    is_open = deadline is not None and deadline.status is DeadlineStatus.OPEN
    # 中止计时: while a deadline's clock is stopped it has no due day (never late meanwhile)
    stopped = getattr(deadline, "suspended_on", None) is not None
    if paid_on is None and is_open and not stopped:
        assert deadline is not None
        due = deadline.due
    return Part(
        tranche=n,
        key=key,
        kind=kind,
        amount=value,
        due=None if waiting else due,
        provisional=bool(deadline and deadline.provisional and paid_on is None),
        payable=not waiting,
        paid_on=paid_on,
        owed=not waiting and paid_on is None and is_open,
    )


# -- late-payment interest (R20) ------------------------------------------------------------------


def rate_of(contract: Contract) -> Decimal:
    """The contract's daily rate, else the regulation's (条例 第十七条)."""
    rate = contract.late_interest_rate_per_day
    return REGULATION_RATE_PER_DAY if rate is None else rate


def days_late(due: date, end: date) -> int:
    """Calendar days late: from the day after ``due`` to ``end`` (the day paid, or today)."""
    return max((end - due).days, 0)


def interest(amount: Decimal, rate: Decimal, days: int) -> Decimal:
    """Simple interest, half up to the fen."""
    return (amount * rate * days).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class LateLine:
    """One part of a tranche against its due day: days late and the interest it bears."""

    part: Part
    #: calendar days late (to the day paid, or to today while unpaid)
    days_late: int
    #: the daily rate applied (None: not a small or medium enterprise)
    rate: Decimal | None
    #: the interest owed for it (None: not a small or medium enterprise)
    interest: Decimal | None

    @property
    def late(self) -> bool:
        return self.days_late > 0


def late_lines(
    contract: Contract, tranche_accounts: Sequence[TrancheAccount], today: date
) -> list[LateLine]:
    """Every part with a due day, paid or payable, against it (as of ``today``); the interest
    only where the contractor is a small or medium enterprise."""
    rate = rate_of(contract) if contract.sme else None
    out: list[LateLine] = []
    for account in tranche_accounts:
        for part in account.parts:
            if part.due is None or not (part.paid or part.owed):
                continue
            end = part.paid_on if part.paid_on is not None else today
            days = days_late(part.due, end)
            out.append(
                LateLine(
                    part=part,
                    days_late=days,
                    rate=rate,
                    interest=interest(part.amount, rate, days) if rate is not None else None,
                )
            )
    return out
