"""Staffing ratios (R17): how many assistance staff a post needs, by the policy's rules.

Pure: a policy's :class:`~states.policy.StaffingRule` and the counts (people, recipients,
residents, children, open beds) in; the number of staff and how it was reached out. Counts are
whole numbers; every ratio is applied exactly (fractions, no float) and rounded up, since a part of
a person cannot be dispatched and a ratio of "not fewer than" is met only by a whole one more:

* a step rule (Jilin 000 三(三)): up to ``base`` → ``base_staff``; each further ``step`` or a part
  of one → ``step_staff`` more (35,000 people: 3 + 1 = 4);
* ratios (Nanyang 003 第三十五条): the sum over the rule's counts of count × staff ÷ per, rounded
  up once (a care home's residents of each kind share its staff: 20 self-care, 8 semi-care and
  3 full-care residents need ⌈2 + 2 + 2⌉ = 6), never fewer than ``min_staff``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from states.errors import InvalidInput
from states.policy import Policy, StaffingRule

#: the largest count accepted (a province's population fits)
MAX_COUNT = 10**9


@dataclass(frozen=True, slots=True)
class Staffing:
    """The staff a post needs (R17), with the reasoning in Chinese and English."""

    policy: str
    post: str
    name_zh: str
    name_en: str
    counts: dict[str, int]
    required: int
    #: where a rule says "2–3": the most it asks for (shown, never enforced)
    max_staff: int | None
    explain_zh: str
    explain_en: str
    source: str

    def to_dict(self) -> dict[str, object]:
        return {
            "policy": self.policy,
            "post": self.post,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "counts": dict(self.counts),
            "required": self.required,
            "max_staff": self.max_staff,
            "explain_zh": self.explain_zh,
            "explain_en": self.explain_en,
            "source": self.source,
            "rule": "R17",
        }


def _refuse(zh: str, en: str, field: str) -> InvalidInput:
    return InvalidInput(zh, en, field=field, rule="R17")


def rule_for(policy: Policy, post: str | None) -> StaffingRule:
    """The policy's rule for ``post``; without ``post``, its only rule (else refused, naming
    the posts it has)."""
    posts = ", ".join(r.post for r in policy.staffing)
    if not policy.staffing:
        raise _refuse(
            f"政策 {policy.name} 没有人员配备标准（R17）",
            f"policy {policy.name} states no staffing rules (R17)",
            "policy",
        )
    if post is None:
        if len(policy.staffing) == 1:
            return policy.staffing[0]
        raise _refuse(
            f"政策 {policy.name} 按岗位类别配备人员：请指定 post（{posts}）",
            f"policy {policy.name} staffs by kind of post: give post ({posts})",
            "post",
        )
    found = policy.staffing_rule(post)
    if found is None:
        raise _refuse(
            f"政策 {policy.name} 没有岗位类别 {post!r}（有：{posts}）",
            f"policy {policy.name} has no post {post!r} (it has: {posts})",
            "post",
        )
    return found


def _checked_counts(rule: StaffingRule, counts: Mapping[str, object]) -> dict[str, int]:
    known = rule.counts()
    out: dict[str, int] = {}
    for name, value in counts.items():
        if value is None:
            continue
        if name not in known:
            raise _refuse(
                f"岗位 {rule.post} 不按 {name} 计算（按：{', '.join(known) or '固定人数'}）",
                f"post {rule.post} is not staffed by {name} "
                f"(by: {', '.join(known) or 'a fixed number'})",
                name,
            )
        if not isinstance(value, int) or isinstance(value, bool):
            raise _refuse(f"{name} 须为整数", f"{name} must be a whole number", name)
        if not 0 <= value <= MAX_COUNT:
            raise _refuse(
                f"{name} 须在 0 至 {MAX_COUNT} 之间：{value}",
                f"{name} must be 0 to {MAX_COUNT}: {value}",
                name,
            )
        out[name] = value
    if rule.step is not None and rule.step.count not in out:
        raise _refuse(
            f"岗位 {rule.post} 按 {rule.step.count} 计算：请给出 {rule.step.count}",
            f"post {rule.post} is staffed by {rule.step.count}: give {rule.step.count}",
            rule.step.count,
        )
    if rule.ratios and not out:
        raise _refuse(
            f"岗位 {rule.post} 按 {', '.join(known)} 计算：请至少给出其中一项",
            f"post {rule.post} is staffed by {', '.join(known)}: give at least one",
            known[0],
        )
    return out


def required_staff(
    policy: Policy, post: str | None = None, counts: Mapping[str, object] | None = None
) -> Staffing:
    """The staff ``post`` needs under ``policy`` for ``counts`` (R17).

    Raises:
        InvalidInput: no rules, an unknown post or count, a count missing, negative or not whole.
    """
    rule = rule_for(policy, post)
    given = _checked_counts(rule, counts or {})
    zh: list[str] = []
    en: list[str] = []
    if rule.step is not None:
        step = rule.step
        n = given[step.count]
        over = max(0, n - step.base)
        steps = -(-over // step.step)  # a part of a step counts whole
        need = step.base_staff + steps * step.step_staff
        zh.append(
            f"{step.count} {n}：{step.base} 以内 {step.base_staff} 人"
            + (
                f"，超出 {over}（每 {step.step} 或不足 {step.step} 计 {step.step_staff} 人）"
                f"加 {steps * step.step_staff} 人"
                if over
                else ""
            )
        )
        en.append(
            f"{step.count} {n}: up to {step.base} needs {step.base_staff}"
            + (
                f", {over} more (each {step.step} or part of it: {step.step_staff}) add "
                f"{steps * step.step_staff}"
                if over
                else ""
            )
        )
    else:
        exact = Fraction(0)
        for name, ratio in rule.ratios.items():
            n = given.get(name, 0)
            part = Fraction(n) * Fraction(ratio.staff) / Fraction(ratio.per)
            exact += part
            zh.append(f"{name} {n} × {ratio.staff}/{ratio.per}")
            en.append(f"{name} {n} × {ratio.staff}/{ratio.per}")
        need = math.ceil(exact)
        shown = f"{float(exact):.4g}" if exact.denominator != 1 else str(exact.numerator)
        zh = [" + ".join(zh) + f" = {shown}，向上取整 {need} 人"] if zh else []
        en = [" + ".join(en) + f" = {shown}, rounded up to {need}"] if en else []
    if rule.min_staff > need:
        zh.append(f"最低不少于 {rule.min_staff} 人")
        en.append(f"at least {rule.min_staff}")
        need = rule.min_staff
    source = policy.source_of("staffing")
    return Staffing(
        policy=policy.name,
        post=rule.post,
        name_zh=rule.name_zh,
        name_en=rule.name_en,
        counts=given,
        required=need,
        max_staff=rule.max_staff,
        explain_zh=f"{rule.name_zh}：" + "；".join(zh) + f"，共需 {need} 人（R17）",
        explain_en=f"{rule.name_en}: " + "; ".join(en) + f": {need} staff (R17)",
        source=source,
    )
