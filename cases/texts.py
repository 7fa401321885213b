"""Claimant-facing text templates in English and Simplified Chinese, and the formatting of money and dates.

Every sentence the claimant reads (the payment notice, plan items and their reasons, notifications)
comes from `TEXTS` through `say`, so a wording change or a third language is an edit here only.
Templates are `str.format` strings; a missing placeholder is a bug the tests catch.
"""

# The Chinese texts use full-width punctuation on purpose.
# ruff: noqa: RUF001, RUF002
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Final

from cases.money import to_money

LANGUAGES: Final = ("en", "zh")

TEXTS: Final[dict[str, dict[str, str]]] = {
    "en": {
        # payment notice
        "notice.title": "Payment notice for your claim {claim_id}",
        "notice.greeting": "Dear {name},",
        "notice.why": "We have paid {amount} for your {line} claim {claim_id} ({cause}, {severity} damage), "
        "by {method} on {paid_date}.",
        "notice.components": "What was paid, item by item:",
        "notice.component": "- {item}: {amount}",
        "notice.component_note": "- {item}: {amount} ({note})",
        "notice.arrival_instant": "As an instant payment it should reach your account within minutes (by {latest}).",
        "notice.arrival_days": "By {method} it should reach you between {earliest} and {latest} "
        "({lo} to {hi} business days; weekends and bank holidays are not counted).",
        "notice.arrival_days_weekends": "By {method} it should reach you between {earliest} and {latest} "
        "({lo} to {hi} business days; weekends are not counted, and a bank "
        "holiday may add a day).",
        "notice.next": "What you are entitled to next:",
        "notice.entitlement": "- {title}: {text}",
        "notice.none": "- No further services are planned for this claim.",
        "notice.contact": "We will keep you informed by {channel}.",
        "notice.deductible": "Your deductible of {amount} was not part of this payment.",
        # names
        "line.motor": "motor",
        "line.health": "health",
        "line.property": "property",
        "severity.minor": "minor",
        "severity.moderate": "moderate",
        "severity.severe": "severe",
        "method.bank_transfer": "bank transfer",
        "method.instant": "instant payment",
        "method.cheque": "cheque",
        "channel.app": "the app",
        "channel.sms": "SMS",
        "channel.email": "email",
        # plan items
        "item.repair": "Repair at a certified shop",
        "item.courtesy_car": "Courtesy car",
        "item.extended_warranty": "Extended repair warranty",
        "item.pickup_delivery": "Pick-up and delivery of your car",
        "item.rehab": "Rehabilitation programme",
        "item.wearable_kit": "Wearable kit",
        "item.home_visits": "Home rehab visits",
        "item.risk_review": "Risk review",
        "reason.repair": "Your {vehicle} needs a {severity} repair. We offer the {n} best certified shops near you "
        "for this make ({shops}); {chosen} is chosen{chooser}.",
        "reason.repair_no_shop": "Your {vehicle} needs a {severity} repair. No certified shop for this make is "
        "within {radius} km; your claims handler will assign one.",
        "reason.chosen_by_you": " as you asked",
        "reason.chosen_by_staff": " by your claims handler",
        "reason.chosen_best": " as the best match",
        "reason.courtesy_car": "Your vehicle cannot be driven, so a courtesy car is provided until the repaired "
        "car is back with you.",
        "reason.extended_warranty": "Repairs at a certified shop carry a {base}-month warranty; after your claim "
        "it is extended 1.5 times, to {months} months.",
        "reason.pickup_age": "Because you are {age}, we collect your car and bring it back once repaired.",
        "reason.pickup_mobility": "Because your mobility is reduced, we collect your car and bring it back "
        "once repaired.",
        "reason.pickup_asked": "You asked for your car to be collected and brought back.",
        "reason.rehab_health": "Your health claim ({injury}) comes with a rehabilitation programme and a plan in "
        "three parts: {dimensions}.",
        "reason.rehab_injury": "The loss report records an injury ({injury}), so you are enrolled in a "
        "rehabilitation programme with a plan in three parts: {dimensions}.",
        "reason.wearable_kit": "A wearable (heart rate, oxygen, movement) lets your rehab manager follow your "
        "progress and adjust the plan safely.",
        "reason.home_age": "Because you are {age}, the rehab sessions come to your home.",
        "reason.home_mobility": "Because your mobility is reduced, the rehab sessions come to your home.",
        "reason.home_asked": "You asked for the rehab sessions to come to your home.",
        "reason.risk_property": "After a {cause} loss we review the risks at your property with you and give you "
        "a prevention checklist.",
        "reason.risk_recurring": "This is claim number {n} for {cause}: a risk review helps stop it happening again.",
        "omit.courtesy_car_drivable": "Your vehicle can still be driven.",
        "omit.declined_by_you": "You declined it.",
        "omit.declined_by_staff": "Declined by your claims handler.",
        "omit.pickup_not_needed": "Offered when mobility is reduced, from age 70, or on request.",
        "omit.home_not_needed": "Offered when mobility is reduced, from age 70, or on request.",
        "omit.repair_no_vehicle": "The loss report names no vehicle.",
        "omit.risk_not_needed": "Offered for property losses and for causes that recur.",
        "diff.shop": "Shop changed from {before} to {after}.",
        "entitle.warranty": "{months}-month warranty on the repair (1.5 times the standard {base} months).",
        "entitle.courtesy_car": "A courtesy car until your repaired car is back.",
        # notifications
        "n.payment_notice": "Payment notice for claim {claim_id}",
        "n.plan_ready": "Your service plan is ready",
        "n.plan_ready.text": "Your service plan (version {version}): {items}.",
        "n.plan_changed": "Your service plan changed",
        "n.plan_changed.text": "Version {version} of your plan: {changes}",
        "n.change.added": "added {title}: {reason}",
        "n.change.removed": "removed {title}: {reason}",
        "n.change.changed": "changed {title}: {reason}",
        "n.repair_stage": "Repair update: {stage}",
        "n.repair_stage.text": 'Your car has reached the stage "{stage}".',
        "n.repair_late": "Your repair is running late",
        "n.repair_late.text": "We noticed a delay in your repair ({stage}). We are on it and will tell you "
        "the new date.",
        "n.car_ready": "Your car is ready",
        "n.car_ready.text": "Your car is repaired and ready to be collected.",
        "n.car_ready.delivery": "Your car is repaired; we will bring it to you.",
        "n.warranty": "Your repair warranty",
        "n.warranty.text": "Your repair is covered by a {months}-month warranty, until {until}.",
        "n.rehab_plan": "Your rehab plan is ready",
        "n.rehab_plan.text": "Your rehab plan (version {version}) is ready: {reason}",
        "n.rehab_plan_changed": "Your rehab plan changed",
        "n.rehab_plan_changed.text": "Your rehab plan was updated to version {version}: {reason}",
        "n.subrogation_progress": "Recovery from the liable party: {stage}",
        "n.subrogation_progress.text": "We are recovering your loss from {party}. Stage: {stage}. Recovered so far: "
        "{recovered}. Refund of your deductible so far: {refunded}.",
        "n.subrogation_progress.reminder": "No change this month; we are still working on it.",
        "n.feedback_request": "How did we do?",
        "n.feedback_request.text": "{milestone} is done. Please rate it from 1 to 5 and tell us whether you "
        "would recommend us (0-10).",
        "n.service_done": "{title}: done",
        "n.service_done.text": "{title} is complete.",
        "n.case_closed": "Your case is closed",
        "n.case_closed.text": "Every service of your claim {claim_id} is complete. Thank you for your trust.",
        "n.risk_report": "Your prevention report",
        "n.risk_report.text": "Based on your case, our advice: {advice}",
        "milestone.repair": "Your repair",
        "milestone.rehab": "Your rehabilitation",
        "milestone.risk_review": "Your risk review",
        "milestone.closure": "Your claim",
    },
    "zh": {
        "notice.title": "理赔 {claim_id} 付款通知",
        "notice.greeting": "尊敬的{name}：",
        "notice.why": "我们已于{paid_date}通过{method}向您支付{line}理赔 {claim_id}（{cause}，{severity}损失）"
        "的赔款{amount}。",
        "notice.components": "赔款明细：",
        "notice.component": "- {item}：{amount}",
        "notice.component_note": "- {item}：{amount}（{note}）",
        "notice.arrival_instant": "即时支付预计几分钟内到账（最晚{latest}）。",
        "notice.arrival_days": "通过{method}支付，预计于{earliest}至{latest}之间到账（{lo}至{hi}个工作日，"
        "周末及法定节假日不计）。",
        "notice.arrival_days_weekends": "通过{method}支付，预计于{earliest}至{latest}之间到账（{lo}至{hi}个工作日，"
        "周末不计，银行假日可能顺延一天）。",
        "notice.next": "您接下来可以享受的服务：",
        "notice.entitlement": "- {title}：{text}",
        "notice.none": "- 本次理赔没有后续服务。",
        "notice.contact": "我们将通过{channel}与您保持联系。",
        "notice.deductible": "您承担的免赔额{amount}未包含在本次赔款中。",
        "line.motor": "车险",
        "line.health": "健康险",
        "line.property": "财产险",
        "severity.minor": "轻微",
        "severity.moderate": "中度",
        "severity.severe": "严重",
        "method.bank_transfer": "银行转账",
        "method.instant": "即时支付",
        "method.cheque": "支票",
        "channel.app": "应用",
        "channel.sms": "短信",
        "channel.email": "电子邮件",
        "item.repair": "认证维修厂维修",
        "item.courtesy_car": "代步车",
        "item.extended_warranty": "延长维修保修",
        "item.pickup_delivery": "上门取送车",
        "item.rehab": "康复计划",
        "item.wearable_kit": "可穿戴设备套件",
        "item.home_visits": "上门康复服务",
        "item.risk_review": "风险评估",
        "reason.repair": "您的{vehicle}需要{severity}维修。我们为您推荐附近该品牌最好的{n}家认证维修厂（{shops}），"
        "已选择{chosen}{chooser}。",
        "reason.repair_no_shop": "您的{vehicle}需要{severity}维修。{radius}公里内没有该品牌的认证维修厂，"
        "理赔专员将为您指定一家。",
        "reason.chosen_by_you": "（按您的选择）",
        "reason.chosen_by_staff": "（由理赔专员选择）",
        "reason.chosen_best": "（综合评分最高）",
        "reason.courtesy_car": "您的车辆无法行驶，在修好的车辆交还给您之前，我们为您提供代步车。",
        "reason.extended_warranty": "认证维修厂的维修享有{base}个月保修；理赔后保修期延长至1.5倍，即{months}个月。",
        "reason.pickup_age": "考虑到您已{age}岁，我们将上门取车，修好后送还。",
        "reason.pickup_mobility": "考虑到您行动不便，我们将上门取车，修好后送还。",
        "reason.pickup_asked": "应您的要求，我们将上门取车并送还。",
        "reason.rehab_health": "您的健康险理赔（{injury}）包含康复计划，计划分为三个方面：{dimensions}。",
        "reason.rehab_injury": "事故报告记录了您的伤情（{injury}），因此为您安排康复计划，计划分为三个方面："
        "{dimensions}。",
        "reason.wearable_kit": "可穿戴设备（心率、血氧、运动）让您的康复经理随时了解您的进展，并安全地调整计划。",
        "reason.home_age": "考虑到您已{age}岁，康复治疗将上门进行。",
        "reason.home_mobility": "考虑到您行动不便，康复治疗将上门进行。",
        "reason.home_asked": "应您的要求，康复治疗将上门进行。",
        "reason.risk_property": "发生{cause}损失后，我们将与您一起评估房屋风险，并提供预防清单。",
        "reason.risk_recurring": "这是您第{n}次因{cause}索赔：风险评估有助于避免再次发生。",
        "omit.courtesy_car_drivable": "您的车辆仍可行驶。",
        "omit.declined_by_you": "您已谢绝。",
        "omit.declined_by_staff": "理赔专员已取消。",
        "omit.pickup_not_needed": "适用于行动不便、70岁及以上或主动要求的客户。",
        "omit.home_not_needed": "适用于行动不便、70岁及以上或主动要求的客户。",
        "omit.repair_no_vehicle": "事故报告中没有车辆信息。",
        "omit.risk_not_needed": "适用于财产险损失及重复发生的事故原因。",
        "diff.shop": "维修厂由{before}改为{after}。",
        "entitle.warranty": "维修保修{months}个月（标准{base}个月的1.5倍）。",
        "entitle.courtesy_car": "在修好的车辆交还之前提供代步车。",
        "n.payment_notice": "理赔 {claim_id} 付款通知",
        "n.plan_ready": "您的服务计划已生成",
        "n.plan_ready.text": "您的服务计划（第{version}版）：{items}。",
        "n.plan_changed": "您的服务计划已更新",
        "n.plan_changed.text": "服务计划第{version}版：{changes}",
        "n.change.added": "新增{title}：{reason}",
        "n.change.removed": "取消{title}：{reason}",
        "n.change.changed": "调整{title}：{reason}",
        "n.repair_stage": "维修进度：{stage}",
        "n.repair_stage.text": "您的车辆已进入“{stage}”阶段。",
        "n.repair_late": "您的维修有所延误",
        "n.repair_late.text": "我们注意到您的维修出现延误（{stage}）。我们正在处理，并会告知您新的交车日期。",
        "n.car_ready": "您的车辆已修好",
        "n.car_ready.text": "您的车辆已修好，可以取车了。",
        "n.car_ready.delivery": "您的车辆已修好，我们将为您送车上门。",
        "n.warranty": "您的维修保修",
        "n.warranty.text": "您的维修享有{months}个月保修，有效期至{until}。",
        "n.rehab_plan": "您的康复计划已制定",
        "n.rehab_plan.text": "您的康复计划（第{version}版）已制定：{reason}",
        "n.rehab_plan_changed": "您的康复计划已调整",
        "n.rehab_plan_changed.text": "您的康复计划已更新为第{version}版：{reason}",
        "n.subrogation_progress": "向责任方追偿进展：{stage}",
        "n.subrogation_progress.text": "我们正在向{party}追偿您的损失。当前阶段：{stage}。已追回：{recovered}。"
        "已退还您的免赔额：{refunded}。",
        "n.subrogation_progress.reminder": "本月暂无新进展，我们仍在跟进。",
        "n.feedback_request": "请评价我们的服务",
        "n.feedback_request.text": "{milestone}已完成。请为此打分（1-5分），并告诉我们您是否愿意推荐我们（0-10分）。",
        "n.service_done": "{title}：已完成",
        "n.service_done.text": "{title}已完成。",
        "n.case_closed": "您的案件已结案",
        "n.case_closed.text": "您的理赔 {claim_id} 的所有服务均已完成。感谢您的信任。",
        "n.risk_report": "您的风险预防报告",
        "n.risk_report.text": "根据您的案件，我们的建议：{advice}",
        "milestone.repair": "您的车辆维修",
        "milestone.rehab": "您的康复",
        "milestone.risk_review": "您的风险评估",
        "milestone.closure": "您的理赔",
    },
}

STAGE_NAMES: Final[dict[str, dict[str, str]]] = {
    "en": {
        "intake": "received at the shop",
        "estimate": "estimate",
        "parts_ordered": "parts ordered",
        "disassembly": "disassembly",
        "structural": "structural repair",
        "body": "bodywork",
        "paint": "paint",
        "reassembly": "reassembly",
        "adas_calibration": "driver-assistance calibration",
        "quality_check": "quality check",
        "detail": "cleaning and detailing",
        "ready": "ready",
        "delivered": "delivered",
    },
    "zh": {
        "intake": "接车",
        "estimate": "定损",
        "parts_ordered": "订购配件",
        "disassembly": "拆解",
        "structural": "结构修复",
        "body": "钣金",
        "paint": "喷漆",
        "reassembly": "装配",
        "adas_calibration": "驾驶辅助系统校准",
        "quality_check": "质检",
        "detail": "清洁美容",
        "ready": "待取车",
        "delivered": "已交车",
    },
}

SUBROGATION_STAGE_NAMES: Final[dict[str, dict[str, str]]] = {
    "en": {
        "investigation": "investigation",
        "evidence": "gathering evidence",
        "demand": "demand sent",
        "negotiation": "negotiation",
        "settlement": "settlement",
        "litigation": "in court",
        "recovered": "recovered",
        "closed": "closed",
    },
    "zh": {
        "investigation": "调查",
        "evidence": "取证",
        "demand": "已发出索赔函",
        "negotiation": "协商",
        "settlement": "和解",
        "litigation": "诉讼中",
        "recovered": "已追回",
        "closed": "已结案",
    },
}

_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "zh": ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"),
}
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def lang_of(language: str | None) -> str:
    return language if language in LANGUAGES else "en"


def say(lang: str, key: str, **values: object) -> str:
    """The template `key` in `lang` (English when the language lacks it), filled with `values`."""
    table = TEXTS[lang_of(lang)]
    template = table.get(key) or TEXTS["en"][key]
    return template.format(**values)


def money(amount: Decimal | float | str, currency: str) -> str:
    """An amount as the claimant reads it: ``1,234.50 CNY`` (in cents, exact for a Decimal or a stored string)."""
    return f"{to_money(amount):,.2f} {currency}"


def day_text(day: date, lang: str) -> str:
    """A date as a claimant reads it: 'Monday 6 January 2025' or '2025年1月6日（星期一）'."""
    weekday = _WEEKDAYS[lang_of(lang)][day.weekday()]
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日（{weekday}）"
    return f"{weekday} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def time_text(moment: datetime, lang: str) -> str:
    clock = moment.strftime("%H:%M")
    return f"{day_text(moment.date(), lang)} {clock}"


def stage_name(stage: str | None, lang: str) -> str:
    if stage is None:
        return "-"
    return STAGE_NAMES[lang_of(lang)].get(stage, stage)


def subrogation_stage_name(stage: str, lang: str) -> str:
    return SUBROGATION_STAGE_NAMES[lang_of(lang)].get(stage, stage)


def item_names(lang: str) -> dict[str, str]:
    """The name of every service-plan item (the ``item.<key>`` texts) in ``lang``, by item key."""
    return {key.removeprefix("item."): say(lang, key) for key in TEXTS["en"] if key.startswith("item.")}


def joined(parts: list[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(parts)


#: names of the rehab plan's dimensions (the parts of monitor.rehab.plan.RehabPlanContent)
DIMENSION_NAMES: Final[dict[str, dict[str, str]]] = {
    "en": {
        "medical": "medical (exercises, walking and a safe heart-rate zone)",
        "psychological": "psychological (regular check-ins)",
        "daily_life": "daily life (milestones back to your usual activities)",
    },
    "zh": {
        "medical": "医疗（训练、步行与安全心率区间）",
        "psychological": "心理（定期回访）",
        "daily_life": "日常生活（逐步恢复日常活动的里程碑）",
    },
}


def dimension_name(key: str, lang: str) -> str:
    return DIMENSION_NAMES[lang_of(lang)].get(key, key.replace("_", " "))
