"""Labels used by the notice templates, in the policy texts' terms, Chinese and English."""

from __future__ import annotations

STAGES = {
    "zh": {
        "reminder": "提醒",
        "overdue": "逾期通知",
        "escalation_1": "督办（一级）",
        "escalation_2": "督办（二级）",
    },
    "en": {
        "reminder": "Reminder",
        "overdue": "Overdue",
        "escalation_1": "Escalation (1)",
        "escalation_2": "Escalation (2)",
    },
}

OBLIGATIONS = {
    "zh": {
        "dispatch": "承接主体应在合同签订之日起15个工作日内完成人员招聘、培训并派遣到岗",
        "payment": "购买主体应按合同约定在期限内拨付本期服务资金",
        "evaluation": "购买主体应按期牵头组织绩效评价（含服务对象满意度测评）",
        "rectification": "承接主体应在限期内完成整改",
        "contract_end": "服务期即将届满：请决定续签，或重新组织采购",
        "training": "应组织入户核查员业务培训：上岗之前必须培训，并按政策每年定期轮训",
    },
    "en": {
        "dispatch": "the contractor must recruit, train and dispatch the staff within the window",
        "payment": "the purchaser must pay this tranche within the window",
        "evaluation": "the purchaser must hold the evaluation, recipients' satisfaction included",
        "rectification": "the contractor must complete the rectification by the due day",
        "contract_end": "the term ends soon: decide to renew or procure again",
        "training": "the staff must be trained: before duty, and regularly each year as the "
        "policy requires",
    },
}

ROLES = {
    "zh": {
        "contractor": "承接主体",
        "purchaser": "购买主体",
        "leader": "分管领导",
        "finance": "财政部门",
        "head": "财政局负责人",
        "audit": "审计部门",
        "government": "人民政府",
    },
    "en": {
        "contractor": "contractor",
        "purchaser": "purchaser",
        "leader": "leader",
        "finance": "finance bureau",
        "head": "finance bureau head",
        "audit": "audit bureau",
        "government": "government",
    },
}
