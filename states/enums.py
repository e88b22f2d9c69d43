"""Persisted vocabularies. Enum values are stored: renaming one needs a migration."""

from __future__ import annotations

from enum import StrEnum


class ProjectState(StrEnum):
    """项目状态 / Project states (R1–R13)."""

    #: 草拟 plan being drafted (R1)
    DRAFT = "draft"
    #: 待审批 submitted for government approval and finance review (R1)
    PENDING_APPROVAL = "pending_approval"
    #: 已批准 approved, procurement may start (R1)
    APPROVED = "approved"
    #: 采购中 notice published, procurement running (R3)
    PROCURING = "procuring"
    #: 已确定承接主体 contractor awarded (R4, R5)
    AWARDED = "awarded"
    #: 已签约 contract signed (R6)
    CONTRACTED = "contracted"
    #: 服务中 staff dispatched, service running (R8)
    IN_SERVICE = "in_service"
    #: 限期整改 rectification ordered (R11)
    RECTIFYING = "rectifying"
    #: 临时接管 contractor removed, takeover plan running (R11, R12)
    TAKEOVER = "takeover"
    #: 已验收 inspected and accepted (R13)
    ACCEPTED = "accepted"
    #: 已结项 every tranche paid, closed (R7, R13)
    CLOSED = "closed"
    #: 已终止 contract ended for breach or fraud, or project abandoned (R12)
    TERMINATED = "terminated"


FINAL_STATES = frozenset({ProjectState.CLOSED, ProjectState.TERMINATED})
ACTIVE_STATES = tuple(s for s in ProjectState if s not in FINAL_STATES)


class Role(StrEnum):
    """角色 / Roles. Transitions are denied unless the event names the role."""

    PURCHASER = "purchaser"  #: 购买主体 (民政局, 镇政府, 街道办)
    GOVERNMENT = "government"  #: 本级人民政府 approves plans (R1)
    FINANCE = "finance"  #: 财政局 reviews budgets, pays (R1, R7)
    CONTRACTOR = "contractor"  #: 承接主体
    EVALUATOR = "evaluator"  #: 评价方 (third party)
    SUPERVISOR = "supervisor"  #: 监督 reads only
    ADMIN = "admin"  #: operator: calendar, policies, contractor register
    SYSTEM = "system"  #: the engine itself, for automatic events (R11)


class ProcurementMethod(StrEnum):
    """采购方式 (R3)."""

    OPEN_TENDER = "open_tender"  #: 公开招标
    INVITED_TENDER = "invited_tender"  #: 邀请招标
    COMPETITIVE_NEGOTIATION = "competitive_negotiation"  #: 竞争性谈判
    COMPETITIVE_CONSULTATION = "competitive_consultation"  #: 竞争性磋商
    SINGLE_SOURCE = "single_source"  #: 单一来源采购


class ContractForm(StrEnum):
    """合同形式 (R6)."""

    PURCHASE = "purchase"  #: 购买
    ENTRUSTMENT = "entrustment"  #: 委托
    LEASE = "lease"  #: 租赁
    FRANCHISE = "franchise"  #: 特许经营
    STRATEGIC_COOPERATION = "strategic_cooperation"  #: 战略合作


class OrgType(StrEnum):
    """承接主体类型 (R4)."""

    SOCIAL_ORGANIZATION = "social_organization"  #: 社会组织
    PUBLIC_INSTITUTION = "public_institution"  #: 公益二类事业单位
    ENTERPRISE = "enterprise"  #: 企业


class EvaluationKind(StrEnum):
    """评价类型 (R10)."""

    SEMIANNUAL = "semiannual"  #: 半年满意度测评
    MIDTERM = "midterm"  #: 中期评估
    FINAL = "final"  #: 终期评估


class EvaluatorRole(StrEnum):
    """评价主体 (R10)."""

    PURCHASER = "purchaser"  #: 购买主体
    STREET_OFFICE = "street_office"  #: 乡镇人民政府或街道办事处
    RECIPIENTS = "recipients"  #: 服务对象
    THIRD_PARTY = "third_party"  #: 第三方


class DeadlineKind(StrEnum):
    """期限种类 / Deadline kinds."""

    DISPATCH = "dispatch"  #: R8 人员派遣
    PAYMENT_1 = "payment_1"  #: R7 first tranche
    PAYMENT_2 = "payment_2"  #: R7 second tranche
    PAYMENT_3 = "payment_3"  #: R7 third tranche
    EVALUATION = "evaluation"  #: R10 periodic evaluation
    RECTIFICATION = "rectification"  #: R11 限期整改
    CONTRACT_END = "contract_end"  #: R13 end of term: renew or procure again
    TRAINING = "training"  #: R14 业务培训: before duty (``training#0``), then per period


class DeadlineStatus(StrEnum):
    OPEN = "open"
    MET = "met"
    CANCELLED = "cancelled"
    #: 中止计时: an open deadline whose clock is stopped (``Deadline.suspended_on``). A row's and
    #: a view's status only: the deadline itself stays ``open`` (it can still be met or cancelled)
    SUSPENDED = "suspended"


#: R4: the nine conditions of 003 第九条, as ``qualifications`` keys
QUALIFICATIONS = (
    "civil_liability",
    "governance",
    "finance",
    "capacity",
    "experience",
    "tax_social_insurance",
    "clean_record",
    "separated_from_government",
    "legal_other",
)

#: R6: the terms a contract must state (price, term and form are fields of their own)
CONTRACT_TERMS = (
    "scope",
    "quantity",
    "quality",
    "payment_schedule",
    "rights_and_duties",
    "liability",
    "exit_mechanism",
)

#: R8: education levels, lowest first
EDUCATION_LEVELS = ("高中", "大专", "本科", "硕士", "博士")
