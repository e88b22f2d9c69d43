"""The dashboard's words: Chinese (the default) in the policy texts' terms, and English.

Every label a page shows comes from here, by key: :class:`Translator` is what templates call
(``_("overview")``, ``_.state("in_service")``, ``_.event("pay")``, ``_.field("amount")``,
``_.value("method", "open_tender")``, ``_.rule("R7")``). Event names come from the one event table
(``states.machine.EVENTS``), the notice words from ``notifications.texts``; a key this module does
not know is shown as it is, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notifications.texts import ROLES as NOTICE_ROLES
from notifications.texts import STAGES
from states.errors import WorkflowError
from states.machine import EVENTS
from workflow.services.details import STATE_LABELS

#: the languages the pages speak; the first is the default
LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

#: page words: key -> (Chinese, English)
TEXT: dict[str, tuple[str, str]] = {
    "app_name": ("政府购买社会救助服务工作流", "Government Purchase Workflow"),
    "app_short": ("gpw 监管平台", "gpw dashboard"),
    "overview": ("总览", "Overview"),
    "projects": ("项目", "Projects"),
    "project": ("项目", "Project"),
    "deadlines": ("期限", "Deadlines"),
    "contractors": ("承接主体", "Contractors"),
    "contractor": ("承接主体", "Contractor"),
    "inbox": ("收件箱", "Inbox"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "login_name": ("登录名", "Login"),
    "password": ("密码", "Password"),
    "login_title": ("登录监管平台", "Log in to the dashboard"),
    "login_required": ("请先登录", "Please log in first"),
    "logged_out": ("已退出登录", "You have logged out"),
    "language": ("语言", "Language"),
    "switch_lang": ("English", "中文"),
    "user": ("用户", "User"),
    "role": ("角色", "Role"),
    "org": ("单位", "Organisation"),
    "skip_to_content": ("跳到正文", "Skip to content"),
    "colon": ("：", ": "),
    # overview
    "by_state": ("各状态项目数", "Projects by state"),
    "state": ("状态", "State"),
    "count": ("数量", "Count"),
    "total": ("合计", "Total"),
    "league": ("各单位期限情况", "Deadlines by organisation"),
    "league_hint": (
        "逾期按工作日计；督办指已发出督办通知的逾期期限",
        "Overdue counted in working days; escalated: overdue deadlines whose escalation was sent",
    ),
    "organisation": ("单位", "Organisation"),
    "side": ("身份", "Side"),
    "open": ("未完成", "Open"),
    "overdue": ("逾期", "Overdue"),
    "escalated": ("已督办", "Escalated"),
    "overdue_days": ("逾期工作日", "Working days overdue"),
    "due_soon": ("五个工作日内到期", "Due within five working days"),
    "open_deadlines": ("未完成期限", "Open deadlines"),
    "overdue_deadlines": ("逾期期限", "Overdue deadlines"),
    "overdue_projects": ("有逾期的项目", "Projects with overdue deadlines"),
    "provisional_projects": ("有暂定期限的项目", "Projects with provisional deadlines"),
    "league_more": ("共 {n} 个单位有未完成期限", "{n} organisations have open deadlines"),
    # R19, R18 on the overview (issue #10)
    "slipping": ("计划进度偏差最大的项目（R19）", "Projects slipping most behind plan (R19)"),
    "slipping_hint": (
        "按政策计划进度（立项年度）计算，偏差按工作日计；仅列进行中的项目",
        "Against the policy's planned timeline in the year of initiation, in working days; "
        "active projects only",
    ),
    "slip_step": ("偏差最大的节点", "Step slipping most"),
    "ms_created": ("立项申请", "initiation"),
    "ms_notice_published": ("组织购买", "procurement"),
    "ms_contract_signed": ("签订合同", "contract"),
    "ms_first_payment": ("资金拨付", "funds"),
    "ms_staff_dispatched": ("人员派遣", "dispatch"),
    "budget_shares": (
        "购买经费占社会救助专项经费比例（R18）",
        "Purchase budgets as a share of the assistance funds (R18)",
    ),
    "budget_shares_hint": (
        "本年度已提交或批准、写明专项经费的实施方案；吉林省：原则上不低于 1%",
        "This year's plans submitted or approved that state the funds; Jilin: at least 1 %",
    ),
    "plans": ("方案数", "Plans"),
    "budgets": ("购买预算", "Purchase budgets"),
    "funds": ("专项经费", "Assistance funds"),
    "budget_share": ("占比", "Share"),
    "funds_differ": ("各方案所列经费不一致", "the plans state different funds"),
    "until": ("截至", "until"),
    "notices_failing": ("发送失败或无法送达的通知", "Notices failed or undeliverable"),
    "health": ("引擎运行状况", "Engine health"),
    "health_ok": ("正常", "OK"),
    "health_problem": ("异常", "Problem"),
    "last_tick": ("最近一次扫描期限", "Last tick"),
    "last_relay": ("最近一次发送通知", "Last relay"),
    "oldest_due_wait": ("最久未发的到期提醒（秒）", "Oldest due stage waiting (s)"),
    "dead_letters": ("死信", "Dead letters"),
    "outbox": ("通知发件箱", "Outbox"),
    "none": ("无", "None"),
    "never": ("从未", "never"),
    # lists
    "all": ("全部", "All"),
    "filter": ("筛选", "Filter"),
    "clear_filter": ("清除筛选", "Clear"),
    "search": ("搜索", "Search"),
    "sort": ("排序", "Sort"),
    "next_page": ("下一页", "Next"),
    "first_page": ("第一页", "First page"),
    "no_results": ("没有符合条件的记录", "Nothing matches"),
    "id": ("编号", "ID"),
    "title": ("项目名称", "Title"),
    "purchaser": ("购买主体", "Purchaser"),
    "policy": ("政策", "Policy"),
    "version": ("版本", "Version"),
    "updated_at": ("更新时间", "Updated"),
    "created_at": ("创建时间", "Created"),
    "budget": ("预算", "Budget"),
    "price": ("合同价", "Price"),
    "paid": ("已拨付", "Paid"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "any": ("不限", "any"),
    "only_overdue": ("仅逾期", "overdue only"),
    "only_provisional": ("仅暂定", "provisional only"),
    "sort_-updated": ("最近更新在前", "recently updated first"),
    "sort_-created": ("最近创建在前", "newest first"),
    "sort_-id": ("编号从大到小", "ID, highest first"),
    "sort_id": ("编号从小到大", "ID, lowest first"),
    "sort_title": ("按名称", "by title"),
    "sort_state": ("按状态", "by state"),
    "not_overdue": ("无逾期", "not overdue"),
    "not_provisional": ("无暂定", "not provisional"),
    "contractor_id": ("承接主体编号", "Contractor ID"),
    "from_on": ("禁入起", "From"),
    "ban_current": ("禁入中", "in force"),
    "ban_expired": ("已到期", "expired"),
    "ban_future": ("未开始", "not yet in force"),
    "next_due": ("最近到期", "Next due"),
    # deadlines
    "deadline": ("期限", "Deadline"),
    "kind": ("种类", "Kind"),
    "owner": ("责任方", "Responsible"),
    "due": ("到期日", "Due"),
    "status": ("状态", "Status"),
    "working_days_left": ("剩余工作日", "Working days left"),
    "working_days_late": ("逾期工作日", "Working days late"),
    "wd_left": ("剩 {n} 个工作日", "{n} working days left"),
    "wd_late": ("逾期 {n} 个工作日", "{n} working days late"),
    "wd_today": ("今日到期", "due today"),
    "provisional": ("暂定", "provisional"),
    "provisional_hint": (
        "该年度国务院节假日安排尚未发布，到期日为暂定，发布后重新计算",
        "the State Council has not published that year's holidays: the due day is provisional "
        "and will be recomputed",
    ),
    "met_on": ("完成日", "Met on"),
    "late": ("迟延", "late"),
    "rule": ("依据", "Rule"),
    "notices": ("通知", "Notices"),
    "deliveries": ("送达记录", "Deliveries"),
    "stage": ("阶段", "Stage"),
    "recipients": ("收件方", "Recipients"),
    "channel": ("渠道", "Channel"),
    "attempts": ("尝试次数", "Attempts"),
    "error": ("错误", "Error"),
    "sent_at": ("发送时间", "Sent"),
    "fire_at": ("计划发送", "Scheduled"),
    # project page
    "diagram": ("状态图", "State diagram"),
    "diagram_text": ("状态图（文本）", "State diagram (text)"),
    "current_state": ("当前状态", "Current state"),
    "plan_vs_actual": ("计划与实际（R19）", "Planned against actual (R19)"),
    "milestone": ("节点", "Milestone"),
    "planned": ("计划", "Planned"),
    "actual": ("实际", "Actual"),
    "difference": ("偏差", "Difference"),
    "payments": ("资金拨付台账", "Payment ledger"),
    "tranche": ("期次", "Tranche"),
    "amount": ("金额", "Amount"),
    "on": ("日期", "Date"),
    "by": ("经办", "By"),
    "evaluations": ("绩效评价", "Evaluations"),
    "period": ("期间", "Period"),
    "score": ("得分", "Score"),
    "satisfaction": ("满意度", "Satisfaction"),
    "passed": ("通过", "passed"),
    "failed": ("未通过", "failed"),
    "subcontracts": ("分包申请与份额", "Subcontract requests and shares"),
    "share": ("份额", "Share"),
    "to": ("分包给", "To"),
    "part": ("分包内容", "Part"),
    "shares_total": ("已批准份额合计", "Approved shares in all"),
    "trail": ("审计留痕", "Audit trail"),
    "verify": ("留痕校验", "Trail verification"),
    "verify_ok": ("校验通过：记录链完整", "Verified: the chain is intact"),
    "verify_bad": ("校验未通过", "Verification failed"),
    "event": ("操作", "Event"),
    "actor": ("操作人", "Actor"),
    "at": ("时间", "Time"),
    "seq": ("序号", "Seq"),
    "hash": ("哈希", "Hash"),
    "data": ("数据", "Data"),
    "actions": ("可执行的操作", "What you may do now"),
    "no_actions": (
        "您当前不能对该项目执行任何操作",
        "There is nothing you may do on this project now",
    ),
    "submit_event": ("执行", "Submit"),
    "required": ("必填", "required"),
    "optional": ("可选", "optional"),
    "choose": ("请选择", "choose"),
    "one_per_line": ("每行一项", "one per line"),
    "key_value_lines": ("每行一项：键=值", "one per line: key=value"),
    "json_hint": ("JSON 格式", "as JSON"),
    "done": ("已执行：{event}", "Done: {event}"),
    "refused": ("未能执行", "Not done"),
    "stale": (
        "该项目已被他人修改，以下为最新状态。请核对后再提交。",
        "Someone else changed this project; below is its current state. Check it, then submit "
        "again.",
    ),
    "your_input_kept": ("您填写的内容已保留", "Your input is kept"),
    "field": ("字段", "Field"),
    "no_plan": ("该政策未规定计划进度", "The policy sets no planned timeline"),
    "plan_on_time": ("按期", "on time"),
    "plan_late_by": ("晚 {n} 个工作日", "{n} working days late"),
    "met_late_by": ("已完成，迟 {n} 个工作日", "met {n} working days late"),
    # 中止计时、恢复计时、延长: a deadline's clock, drawn as a timeline under it
    "clock_timeline": ("计时变更", "Clock changes"),
    "clock_suspended": ("中止计时", "suspended"),
    "clock_resumed": ("恢复计时", "resumed"),
    "clock_extended": ("延长", "extended"),
    "clock_corrected": ("更正截止日", "due day corrected"),
    "clock_left": ("尚余 {n} 个工作日", "{n} working days left"),
    "clock_added": ("{n} 个工作日", "by {n} working days"),
    "clock_due": ("截止 {day}", "due {day}"),
    "suspended_since": ("自 {day} 暂停计时", "suspended since {day}"),
    "plan_early_by": ("早 {n} 个工作日", "{n} working days early"),
    "plan_late": ("晚于计划", "late"),
    "plan_early": ("早于计划", "early"),
    "plan_pending": ("未到期", "pending"),
    "plan_overdue": ("已逾期未完成", "overdue"),
    "plan_not_reached": ("未进行", "not reached"),
    "share_percent": ("比例", "Share"),
    "amount_due": ("应付金额", "Amount due"),
    "unlocked_by": ("拨付条件", "Unlocked by"),
    "unlock_contract_effective": ("合同生效", "the contract takes effect"),
    "unlock_midterm_passed": ("中期评估合格", "mid-term evaluation passed"),
    "unlock_final_passed": ("终期评估合格", "final evaluation passed"),
    "tranche_paid": ("已拨付", "paid"),
    "tranche_overdue": ("逾期未拨付", "overdue"),
    "tranche_due": ("待拨付", "due"),
    "tranche_locked": ("未到拨付条件", "locked"),
    "tranche_disputed": ("争议部分待解决", "disputed part pending"),
    "late_interest": ("逾期利息（R20）", "Late interest (R20)"),
    "late_interest_rate": ("逾期利息日利率", "Late interest a day"),
    "dispute_note": (
        "争议 {amount} 元（{status}）",
        "{amount} disputed ({status})",
    ),
    "dispute_open": ("待解决", "open"),
    "dispute_resolved": ("已解决", "resolved"),
    "settlements": ("结算（R12）", "Settlements (R12)"),
    "remaining": ("未拨付", "Remaining"),
    "prior_paid": ("前合同已拨付", "Paid under earlier contracts"),
    "consecutive_low": (
        "连续低分评价 {n} 次（{limit} 次即清退，R11）",
        "{n} low reviews in a row ({limit} remove the contractor, R11)",
    ),
    "result": ("结果", "Result"),
    "low": ("低分", "low"),
    "completed": ("已完成", "completed"),
    "sub_requested": ("待审批", "requested"),
    "sub_approved": ("已批准", "approved"),
    "sub_rejected": ("已驳回", "rejected"),
    "sub_executed": ("已分包", "executed"),
    "shares_line": (
        "已批准份额 {approved}，待批 {pending}，上限 {limit}，尚余 {headroom}",
        "approved {approved}, pending {pending}, limit {limit}, headroom {headroom}",
    ),
    "entries": ("共 {n} 条记录", "{n} entries"),
    "details": ("详情", "Details"),
    "contract": ("合同", "Contract"),
    "items": ("服务事项", "Service items"),
    # contractors
    "name": ("名称", "Name"),
    "org_type": ("类型", "Type"),
    "sme": ("中小企业", "SME"),
    "qualifications": ("资格条件（R4）", "Qualifications (R4)"),
    "credit_record": ("信用记录", "Credit record"),
    "bans": ("禁入记录（R12）", "Bans (R12)"),
    "banned_until": ("禁入至", "Banned until"),
    "reason": ("原因", "Reason"),
    "banned": ("禁入中", "banned"),
    "eligible": ("符合条件", "eligible"),
    "not_eligible": ("不符合条件", "not eligible"),
    # inbox
    "unread_only": ("仅未读", "unread only"),
    "unread": ("未读", "unread"),
    "read": ("已读", "read"),
    "acknowledge": ("确认收到", "Acknowledge"),
    "acknowledged": ("已确认", "acknowledged"),
    "acknowledged_by": ("确认人", "Acknowledged by"),
    "read_by": ("阅读人", "Read by"),
    "subject": ("标题", "Subject"),
    "body": ("正文", "Body"),
    "open_notice": ("打开", "Open"),
    "back": ("返回", "Back"),
    # errors
    "error_title": ("出错了", "Something went wrong"),
    "error_400": ("请求无效", "Bad request"),
    "error_401": ("未登录或登录失败", "Not logged in"),
    "error_403": ("无权访问", "Forbidden"),
    "error_404": ("未找到", "Not found"),
    "error_405": ("不支持该请求方式", "Method not allowed"),
    "error_409": ("冲突", "Conflict"),
    "error_422": ("未能执行", "Refused"),
    "error_429": ("请求过于频繁", "Too many attempts"),
    "error_500": ("服务器内部错误", "Server error"),
    "error_500_text": (
        "服务器处理请求时出错，已记录。请稍后重试。",
        "The server failed to handle the request; it is logged. Try again later.",
    ),
    "csrf_refused": (
        "表单已失效或来源不明（缺少或错误的 CSRF 令牌），请刷新页面后重试。",
        "The form has expired or did not come from this site (missing or wrong CSRF token); "
        "reload the page and try again.",
    ),
    "not_in_scope": (
        "您所在单位无权查看该项目",
        "Your organisation may not read this project",
    ),
    "not_found_text": ("请求的页面或对象不存在", "The page or record you asked for does not exist"),
    "home": ("返回总览", "Back to the overview"),
    # the public face (全程公开, R15, issue #9): no login
    "public_site": ("政府购买社会救助服务公示", "Purchased social assistance services: disclosure"),
    "public_projects": ("公示项目", "Public projects"),
    "public_projects_hint": (
        "经批准实施的购买项目：购买内容、承接主体、购买金额、实施过程与服务绩效（R15）",
        "Approved purchases: what is bought, from whom, for how much, how it went, how well (R15)",
    ),
    "privacy_note": (
        "依法隐去个人姓名、身份证号码、电话号码与住址（R15）",
        "Personal names, identity numbers, phone numbers and addresses are withheld (R15)",
    ),
    "public_home": ("返回公示项目", "Back to the public projects"),
    "open_data": ("开放数据", "Open data"),
    "open_data_hint": (
        "开放合同数据标准（OCDS 1.1）发布包与汇编记录、审计链锚点，JSON 格式，可按 ETag 增量获取",
        "Open Contracting Data Standard (OCDS 1.1) release packages and records, and the audit "
        "chain's anchors, as JSON; fetch only what changed with ETag",
    ),
    "ocds_releases": ("OCDS 发布包", "OCDS releases"),
    "ocds_record": ("OCDS 汇编记录", "OCDS record"),
    "anchors": ("审计链锚点", "Audit chain anchors"),
    "staff_login": ("工作人员登录", "Staff login"),
    "what_is_bought": ("购买内容", "What is bought"),
    "amount_col": ("金额（元）", "Amount (yuan)"),
    "unit_of": ("计量单位", "Unit"),
    "standard": ("服务标准", "Standard"),
    "was_late": ("是否逾期", "Late"),
    "late_yes": ("有逾期", "late"),
    "late_no": ("无逾期", "none late"),
    "late_items": ("有逾期：{n} 项", "{n} late"),
    "quantity_col": ("数量", "Quantity"),
    "notice_col": ("采购公告", "Notice"),
    "findings_col": ("发现的问题", "Findings"),
    "topic_col": ("培训内容", "Topic"),
    "attendees_col": ("参训人数", "Attendees"),
    "hours_col": ("培训时长（小时）", "Hours"),
    "overdue_open": ("逾期未完成", "overdue, not done"),
    "on_time": ("按期", "on time"),
    "timeline_title": ("时间线：计划与实际", "Timeline: planned and actual"),
    "key_dates": ("主要节点", "Key dates"),
    "step": ("事项", "Step"),
    "planned_due": ("计划（期限）", "Planned (due)"),
    "actual_on": ("实际", "Actual"),
    "approved_on": ("批准立项", "Approved"),
    "contract_signed_on": ("签订合同", "Contract signed"),
    "contract_effective_on": ("合同生效", "Contract in effect"),
    "term_months": ("服务期（月）", "Term (months)"),
    "dispatched_on": ("人员派遣", "Staff dispatched"),
    "accepted_on": ("验收", "Accepted"),
    "staff_count": ("派遣服务人员", "Staff dispatched"),
    "payments_made": ("资金拨付", "Payments made"),
    "paid_total": ("已拨付合计", "Paid in all"),
    "none_yet": ("尚无", "None yet"),
    "evaluation_results": ("绩效评价结果", "Evaluation results"),
    "rectifications": ("限期整改", "Rectifications"),
    "ordered_on": ("责令整改", "Ordered"),
    "completed_on": ("整改完成", "Completed"),
    "trainings": ("业务培训（R14）", "Training (R14)"),
    "termination_reason": ("终止原因", "Why it was terminated"),
    "removal_reason": ("清退原因", "Why the contractor was removed"),
    "method_col": ("采购方式", "Method"),
}

#: project states (``states.enums.ProjectState``): the read models' one table
STATES: dict[str, tuple[str, str]] = STATE_LABELS

#: what the audit trail records besides the events of the machine
OTHER_EVENTS: dict[str, tuple[str, str]] = {
    "create_project": ("立项", "create the project"),
    "register_contractor": ("登记承接主体", "register the contractor"),
    "ban": ("列入禁入名单（R12）", "ban (R12)"),
    "acknowledge": ("确认收到通知", "acknowledge a notice"),
    "resend": ("重发通知", "resend a notice"),
    "add_year": ("载入年度工作日安排", "load a year's working days"),
    "replace_year": ("更新年度工作日安排", "replace a year's working days"),
    "recompute_deadlines": ("重新计算暂定期限", "recompute provisional deadlines"),
}

#: roles of users and of deadline owners
ROLES: dict[str, tuple[str, str]] = {
    "purchaser": ("购买主体", "purchaser"),
    "government": ("本级人民政府", "government"),
    "finance": ("财政部门", "finance bureau"),
    "contractor": ("承接主体", "contractor"),
    "evaluator": ("评价方", "evaluator"),
    "supervisor": ("监督方", "supervisor"),
    "admin": ("管理员", "administrator"),
    "system": ("系统", "system"),
}
for _key, _zh in NOTICE_ROLES["zh"].items():
    ROLES.setdefault(_key, (_zh, NOTICE_ROLES["en"].get(_key, _key)))

#: deadline kinds (``states.enums.DeadlineKind``)
DEADLINE_KINDS: dict[str, tuple[str, str]] = {
    "dispatch": ("人员派遣", "staff dispatch"),
    "payment_1": ("第一期资金拨付", "first tranche"),
    "payment_2": ("第二期资金拨付", "second tranche"),
    "payment_3": ("第三期资金拨付", "third tranche"),
    "evaluation": ("绩效评价", "evaluation"),
    "rectification": ("限期整改", "rectification"),
    "contract_end": ("服务期届满", "end of term"),
    "training": ("业务培训（R14）", "staff training (R14)"),
}

DEADLINE_STATUS: dict[str, tuple[str, str]] = {
    "open": ("未完成", "open"),
    "met": ("已完成", "met"),
    "cancelled": ("已取消", "cancelled"),
    "suspended": ("暂停中", "suspended"),
    "overdue": ("逾期", "overdue"),
    "due_soon": ("五个工作日内到期", "due within five working days"),
    "escalated": ("已督办", "escalated"),
    "all": ("全部", "all"),
}

NOTICE_STAGES: dict[str, tuple[str, str]] = {
    key: (zh, STAGES["en"].get(key, key)) for key, zh in STAGES["zh"].items()
}

NOTICE_STATUS: dict[str, tuple[str, str]] = {
    "pending": ("待发送", "pending"),
    "sending": ("发送中", "sending"),
    "sent": ("已发送", "sent"),
    "failed": ("发送失败", "failed"),
    "dead": ("多次失败已放弃", "dead (gave up)"),
    "undeliverable": ("无法送达", "undeliverable"),
    "delivered": ("已送达", "delivered"),
    "cancelled": ("已取消", "cancelled"),
    "failing": ("失败或无法送达", "failed or undeliverable"),
    "all": ("全部", "all"),
}

#: event data fields
FIELDS: dict[str, tuple[str, str]] = {
    "title": ("项目名称", "title"),
    "budget": ("预算（元）", "budget (yuan)"),
    "items": ("服务事项", "service items"),
    "approved": ("审核通过", "approved"),
    "note": ("备注", "note"),
    "reason": ("理由", "reason"),
    "method": ("采购方式", "procurement method"),
    "notice": ("公告内容", "notice"),
    "reviewers": ("评审专家", "reviewers"),
    "criteria": ("评审因素及权重", "criteria and weights"),
    "scores": ("候选承接主体得分（编号=得分）", "candidates' scores (id=score)"),
    "contractor_id": ("承接主体编号", "contractor ID"),
    "signed_on": ("签订日期", "signed on"),
    "effective_on": ("生效日期", "effective on"),
    "price": ("合同价（元）", "price (yuan)"),
    "form": ("合同形式", "contract form"),
    "term_months": ("服务期（月）", "term (months)"),
    "terms": ("合同条款", "contract terms"),
    "sme_payment_days": ("中小企业付款期限（日，R20）", "SME payment days (R20)"),
    "late_interest_rate_per_day": (
        "逾期利息日利率（如 0.0005 即万分之五，R20）",
        "late interest a day (0.0005 = 0.05 %, R20)",
    ),
    "dispute": ("争议编号", "dispute ID"),
    "found_due": ("认定应付金额（元）", "amount found due (yuan)"),
    "on": ("日期", "date"),
    "staff": ("派遣人员", "staff"),
    "tranche": ("期次", "tranche"),
    "amount": ("金额（元）", "amount (yuan)"),
    "kind": ("评价类型", "kind of evaluation"),
    "score": ("综合得分", "score"),
    "satisfaction": ("满意度得分", "satisfaction"),
    "evaluators": ("评价主体", "evaluators"),
    "due": ("整改期限", "due"),
    "findings": ("发现的问题", "findings"),
    "part": ("分包内容", "part"),
    "to": ("分包给", "to"),
    "share": ("份额（0–1）", "share (0-1)"),
    "request_id": ("分包申请编号", "request ID"),
    "ban_until": ("禁入至", "banned until"),
    "key": ("期限", "deadline"),
    "anchor_on": ("起算日", "anchor day"),
    "actor.org": ("单位", "organisation"),
    "actor.role": ("角色", "role"),
    "expected_version": ("版本", "version"),
    # contract terms (R6)
    "scope": ("服务范围", "scope"),
    "quantity": ("数量", "quantity"),
    "quality": ("质量标准", "quality"),
    "payment_schedule": ("资金支付方式", "payment schedule"),
    "rights_and_duties": ("权利义务", "rights and duties"),
    "liability": ("违约责任", "liability"),
    "exit_mechanism": ("退出机制", "exit mechanism"),
    # R14 trainings, R17 offices, R18 funds (issue #10)
    "topic": ("培训内容", "topic"),
    "attendees": ("参训人数", "attendees"),
    "hours": ("培训时长（小时）", "hours"),
    "assistance_funds": (
        "本年度社会救助专项经费（元，R18）",
        "the year's assistance funds (yuan, R18)",
    ),
    "office": ("服务单位", "office"),
}

#: labels of enumerated values, by field
VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "method": {
        "open_tender": ("公开招标", "open tender"),
        "invited_tender": ("邀请招标", "invited tender"),
        "competitive_negotiation": ("竞争性谈判", "competitive negotiation"),
        "competitive_consultation": ("竞争性磋商", "competitive consultation"),
        "single_source": ("单一来源采购", "single source"),
    },
    "form": {
        "purchase": ("购买", "purchase"),
        "entrustment": ("委托", "entrustment"),
        "lease": ("租赁", "lease"),
        "franchise": ("特许经营", "franchise"),
        "strategic_cooperation": ("战略合作", "strategic cooperation"),
    },
    "kind": {
        "semiannual": ("半年满意度测评", "half-yearly review"),
        "midterm": ("中期评估", "mid-term evaluation"),
        "final": ("终期评估", "final evaluation"),
    },
    "evaluators": {
        "purchaser": ("购买主体", "purchaser"),
        "street_office": ("乡镇人民政府或街道办事处", "town or street office"),
        "recipients": ("服务对象", "recipients"),
        "third_party": ("第三方", "third party"),
    },
    "org_type": {
        "social_organization": ("社会组织", "social organisation"),
        "public_institution": ("公益二类事业单位", "class-II public institution"),
        "enterprise": ("企业", "enterprise"),
    },
    "qualifications": {
        "civil_liability": ("独立承担民事责任", "independent civil liability"),
        "governance": ("治理结构健全", "sound governance"),
        "finance": ("独立财务核算", "independent finance and accounts"),
        "capacity": ("具备设施、人员和专业能力", "facilities, staff and skills"),
        "experience": ("服务经验与良好信誉", "experience and good reputation"),
        "tax_social_insurance": ("依法纳税和缴纳社保", "tax and social insurance paid"),
        "clean_record": ("三年内无重大违法记录", "no major violation in three years"),
        "separated_from_government": ("政社分开", "separated from government"),
        "legal_other": ("其他法定条件", "other legal conditions"),
    },
    "approved": {"true": ("是", "yes"), "false": ("否", "no")},
}

#: the rules (R1-R20), shortly, as DOMAIN.md names them
RULES: dict[str, tuple[str, str]] = {
    "R1": ("立项须经政府批准、财政审核预算", "initiation: approval and budget review"),
    "R2": ("行政管理性事务不得购买", "administrative duties may not be bought"),
    "R3": ("采购方式与公告", "procurement methods and notice"),
    "R4": ("承接主体资格条件", "eligible contractor"),
    "R5": ("不得以价格作为唯一标准", "not the lowest price alone"),
    "R6": ("合同内容与形式", "the contract's content and form"),
    "R7": ("按期分期拨付资金", "payment tranches"),
    "R8": ("人员派遣", "staff dispatch"),
    "R9": ("禁止转包，分包须经批准", "no transfer; subcontracting only with approval"),
    "R10": ("绩效评价", "evaluation"),
    "R11": ("限期整改或清退", "rectify or remove"),
    "R12": ("退出与临时接管、信用记录", "exit, takeover and the credit record"),
    "R13": ("检查验收与续签", "acceptance and renewal"),
    "R14": ("培训", "training"),
    "R15": ("全程留痕、公示、监督", "trace, disclose, supervise"),
    "R16": ("台账", "ledgers"),
    "R17": ("人员配备", "staffing"),
    "R18": ("资金来源", "budget"),
    "R19": ("计划进度", "planned timeline"),
    "R20": ("保障中小企业款项支付", "paying small and medium enterprises"),
}

#: what kind of refusal an error is, in plain words
ERROR_KINDS: dict[str, tuple[str, str]] = {
    "invalid_input": ("填写的内容有误", "Something in the form is not right"),
    "illegal_transition": (
        "项目当前状态下不能执行该操作",
        "This cannot be done in the project's current state",
    ),
    "forbidden": ("您的角色或单位无权执行该操作", "Your role or organisation may not do this"),
    "guard_refused": ("政策规则不允许该操作", "A policy rule does not allow this"),
    "concurrent_update": ("项目已被他人修改", "Someone else changed the project"),
    "project_not_found": ("项目不存在", "No such project"),
    "contractor_not_found": ("承接主体不存在", "No such contractor"),
    "not_found": ("对象不存在", "Not found"),
    "unauthenticated": ("登录失败", "Login failed"),
    "login_throttled": ("登录尝试过多", "Too many login attempts"),
}


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def normalise_lang(value: object) -> str | None:
    """``zh`` or ``en`` for a known language tag (``zh-CN``, ``EN``), else None."""
    if not isinstance(value, str):
        return None
    tag = value.strip().lower().split("-", 1)[0]
    return tag if tag in LANGS else None


#: every state's name per language
_STATE_NAMES = {lang: {s: pick(pair, lang) for s, pair in STATES.items()} for lang in LANGS}


class Translator:
    """The words of one language, for templates and handlers: ``_("key")``, ``_.state(s)`` …"""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else DEFAULT_LANG

    def __call__(self, key: str, **values: Any) -> str:
        pair = TEXT.get(key)
        text = pick(pair, self.lang) if pair else key
        return text.format(**values) if values else text

    def _of(self, table: Mapping[str, tuple[str, str]], key: object) -> str:
        text = str(key) if key is not None else ""
        pair = table.get(text)
        return pick(pair, self.lang) if pair else text

    def state(self, state: object) -> str:
        return self._of(STATES, state)

    def states(self) -> dict[str, str]:
        """Every state's name in this language (a list page looks each row's up here)."""
        return _STATE_NAMES[self.lang]

    def role(self, role: object) -> str:
        return self._of(ROLES, role)

    def kind(self, kind: object) -> str:
        """A deadline kind."""
        return self._of(DEADLINE_KINDS, kind)

    def deadline_status(self, status: object) -> str:
        return self._of(DEADLINE_STATUS, status)

    def stage(self, stage: object) -> str:
        return self._of(NOTICE_STAGES, stage)

    def notice_status(self, status: object) -> str:
        return self._of(NOTICE_STATUS, status)

    def event(self, event: object) -> str:
        spec = EVENTS.get(str(event))
        if spec is None:
            return self._of(OTHER_EVENTS, event)
        return (spec.en if self.lang == "en" else spec.zh) or spec.name

    def field(self, name: object) -> str:
        text = str(name) if name is not None else ""
        pair = FIELDS.get(text) or FIELDS.get(text.split(".")[-1].split("[")[0])
        return pick(pair, self.lang) if pair else text

    def value(self, field: str, value: object) -> str:
        return self._of(VALUES.get(field, {}), value)

    def rule(self, rule: object) -> str:
        """``R7 按期分期拨付资金``: a rule's number and short name."""
        if not rule:
            return ""
        name = RULES.get(str(rule))
        return f"{rule} {pick(name, self.lang)}" if name else str(rule)

    def error_kind(self, code: object) -> str:
        return self._of(ERROR_KINDS, code)

    def message(self, error: WorkflowError) -> str:
        """An engine error's own message, in this language."""
        return error.message_en if self.lang == "en" else error.message_zh

    def pick_pair(self, pair: tuple[str, str]) -> str:
        return pick(pair, self.lang)

    def yes_no(self, value: object) -> str:
        return self("yes") if value else self("no")

    def wd(self, left: object) -> str:
        """Working days left (positive), due today (0) or late (negative)."""
        if not isinstance(left, int):
            return ""
        if left > 0:
            return self("wd_left", n=left)
        if left == 0:
            return self("wd_today")
        return self("wd_late", n=-left)
