"""Value types shared by the domain's models and event payloads.

Money is a :class:`~decimal.Decimal` in yuan, canonical with two places ("1200000.00"): an integer,
a ``Decimal`` or a plain ASCII decimal string with at most two places. Floats (inexact), exponent
notation ("1E+6"), full-width digits ("１２００") and a third decimal place are refused, naming the
field. Names and titles are one line without control characters; free texts may hold line breaks
and tabs but no other control characters. Lists have documented maximum lengths.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

CENT = Decimal("0.01")

#: list limits (README "Data conventions")
MAX_ITEMS = 200
MAX_STAFF = 500
MAX_REVIEWERS = 50
MAX_CANDIDATES = 100
MAX_CRITERIA = 20
MAX_EVALUATORS = 10
MAX_NAME = 200
MAX_TEXT = 4000

_PLAIN_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def exact_decimal(value: Any) -> Any:
    """An exact decimal from an int, a Decimal or a plain ASCII decimal string."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError("must be a Decimal, an integer or a decimal string, not a float")
    if isinstance(value, str):
        text = value.strip()
        if not _PLAIN_DECIMAL.fullmatch(text):
            raise ValueError(
                "is not a plain decimal number (digits 0-9 and one point; no exponent, no "
                "full-width digits)"
            )
        try:
            return Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the pattern rules it out
            raise ValueError("is not a decimal number") from exc
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError("must be a finite number")
    return value


def _two_places(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("must be a finite number")
    if value != value.quantize(CENT):
        raise ValueError("at most two decimal places (fen)")
    return value.quantize(CENT)


def _no_control(value: str, *, line_breaks: bool) -> str:
    for ch in value:
        if ch in "\n\t" and line_breaks:
            continue
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") or ch in "\u2028\u2029":
            raise ValueError(f"contains a control character U+{ord(ch):04X}")
    return value


def _name(value: str) -> str:
    return _no_control(value, line_breaks=False)


def _text(value: str) -> str:
    return _no_control(value, line_breaks=True)


#: an amount of money in yuan, exact to the fen, stored and shown with two places
Money = Annotated[
    Decimal,
    BeforeValidator(exact_decimal),
    Field(ge=0, max_digits=18),
    AfterValidator(_two_places),
]
#: an exact decimal (a quantity, a share)
ExactDecimal = Annotated[Decimal, BeforeValidator(exact_decimal)]
#: a score or a percentage, 0..100, at most two places
Score = Annotated[
    Decimal, BeforeValidator(exact_decimal), Field(ge=0, le=100, max_digits=5, decimal_places=2)
]
#: a title or a name: one line, no control characters
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME), AfterValidator(_name)]
#: a reason, a note, findings: line breaks allowed, no other control characters
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT), AfterValidator(_text)]
#: an optional note (may be empty)
Note = Annotated[str, Field(max_length=MAX_TEXT), AfterValidator(_text)]
