// The claimant's language: the page's own labels (DICT) and the names the API serves from their one home
// (GET /vocabulary: stages, plan items, alert kinds), fetched once per page load and language.
import { api, qs } from "../../api.js";
import { fmt } from "../../dom.js";
import { money, toMs } from "./common.js";


/** UI labels of the claimant's view; API texts (notice, plan reasons, notifications) come already translated. */
const DICT = {
  en: {
    my_case: "Your claim", claim: "Claim", loading: "Loading…", of_line: "{line} claim",
    "line.motor": "Motor", "line.health": "Health", "line.property": "Property",
    "state.open": "In progress", "state.closed": "Closed",
    paid: "Paid to you", arrival: "Expected to arrive", services: "Services",
    paid_on: "paid on {date}", between: "{a} – {b}",
    notice: "Payment notice", breakdown: "What was paid", item: "Item", amount: "Amount", total: "Total",
    deductible: "Your deductible (not part of this payment)", entitled: "What you are entitled to next",
    plan: "Your service plan", version: "version {v}", not_included: "Not in your plan, and why",
    "status.pending": "Not started", "status.active": "In progress", "status.done": "Done",
    timeline: "What has happened", newest_first: "newest first", nothing_yet: "Nothing yet",
    notifications: "Messages we sent you", no_messages: "No messages yet.",
    "delivery.delivered": "Sent", "delivery.pending": "Being sent",
    feedback: "Tell us how it went", satisfaction: "How satisfied are you? (1 = not at all, 5 = very)",
    recommend: "How likely are you to recommend us to a friend? (0-10)", comment: "Comment (optional)",
    send: "Send", sending: "Sending…", thanks: "Thank you for your feedback.", about: "About: ",
    no_feedback_yet: "We will ask for your opinion when a service is complete.", your_answers: "Your answers", done_planned: "done / planned",
    nav_case: "My claim", nav_progress: "My progress", logout: "Log out", role: "Claimant",
    answer_line: "{m}: satisfaction {s}/5, would recommend {r}/10",
    "milestone.repair": "the repair", "milestone.rehab": "your rehabilitation", "milestone.risk_review": "the risk review",
    "milestone.closure": "the whole claim",
    "method.bank_transfer": "bank transfer", "method.instant": "instant payment", "method.cheque": "cheque",
    "tl.payment": "We paid {amount} by {method}", "tl.opened": "Your case was opened",
    "tl.linked_job": "Repair job {id} now serves your claim", "tl.linked_patient": "Your rehabilitation has started",
    "tl.service": "{title}: {status}", "tl.closed": "Every service is done: your case is closed",
    "tl.feedback": "Your feedback on {m}: {s}/5", "tl.plan_version": "Service plan, version {v}",
    "tl.plan_changed": "Your service plan was changed", "tl.subrogation": "Recovery from the liable party: {stage}",
    "tl.stage": "Repair: {stage}", "tl.hold": "Repair paused", "tl.resume": "Repair resumed", "tl.photo": "Photo of your car ({stage})",
    "tl.adjustment": "Your rehab plan was reviewed", "tl.alert": "Notice from our monitoring",
    "src.payment": "Payment", "src.case": "Case", "src.plan": "Plan", "src.repair": "Repair", "src.photo": "Photo",
    "src.rehab": "Rehab", "src.alert": "Monitoring", "src.subrogation": "Recovery", "src.notification": "Message",
    "src.feedback": "Feedback", no_case: "No claim to show", no_case_text: "Your token is not linked to a claim.",
  },
  zh: {
    my_case: "我的理赔", claim: "理赔编号", loading: "加载中…", of_line: "{line}理赔",
    "line.motor": "车险", "line.health": "健康险", "line.property": "财产险",
    "state.open": "处理中", "state.closed": "已结案",
    paid: "已赔付金额", arrival: "预计到账", services: "服务",
    paid_on: "支付日期：{date}", between: "{a} 至 {b}",
    notice: "付款通知", breakdown: "赔款明细", item: "项目", amount: "金额", total: "合计",
    deductible: "免赔额（不包含在本次赔款中）", entitled: "您接下来可以享受的服务",
    plan: "您的服务计划", version: "第 {v} 版", not_included: "未包含的服务及原因",
    "status.pending": "未开始", "status.active": "进行中", "status.done": "已完成",
    timeline: "理赔进展", newest_first: "最新在前", nothing_yet: "暂无记录",
    notifications: "我们发给您的消息", no_messages: "暂无消息。",
    "delivery.delivered": "已发送", "delivery.pending": "发送中",
    feedback: "服务评价", satisfaction: "您的满意度（1 = 很不满意，5 = 非常满意）",
    recommend: "您向亲友推荐我们的可能性（0-10 分）", comment: "留言（选填）",
    send: "提交", sending: "提交中…", thanks: "感谢您的反馈！", about: "评价对象：",
    no_feedback_yet: "服务完成后，我们会邀请您评价。", your_answers: "您的评价", done_planned: "已完成 / 已安排",
    nav_case: "我的理赔", nav_progress: "我的进度", logout: "退出登录", role: "理赔客户",
    answer_line: "{m}：满意度 {s}/5，推荐意愿 {r}/10",
    "milestone.repair": "车辆维修", "milestone.rehab": "康复服务", "milestone.risk_review": "风险评估",
    "milestone.closure": "整个理赔",
    "method.bank_transfer": "银行转账", "method.instant": "即时到账", "method.cheque": "支票",
    "tl.payment": "已通过{method}向您支付 {amount}", "tl.opened": "您的理赔案件已开立",
    "tl.linked_job": "维修工单 {id} 已开始为您服务", "tl.linked_patient": "您的康复服务已启动",
    "tl.service": "{title}：{status}", "tl.closed": "所有服务均已完成，案件已结案",
    "tl.feedback": "您对{m}的评价：{s}/5 分", "tl.plan_version": "服务计划第 {v} 版",
    "tl.plan_changed": "您的服务计划已调整", "tl.subrogation": "向责任方追偿：{stage}",
    "tl.stage": "维修进度：{stage}", "tl.hold": "维修暂停", "tl.resume": "维修恢复", "tl.photo": "车辆照片（{stage}）",
    "tl.adjustment": "您的康复计划已复核", "tl.alert": "监测提醒",
    "src.payment": "付款", "src.case": "案件", "src.plan": "计划", "src.repair": "维修", "src.photo": "照片",
    "src.rehab": "康复", "src.alert": "提醒", "src.subrogation": "追偿", "src.notification": "消息",
    "src.feedback": "评价", no_case: "暂无理赔", no_case_text: "您的令牌未关联任何理赔案件。",
  },
};

const vocabularies = new Map();
/** The API's vocabulary in `lang` (`en` or `zh`): one request per language for as long as the page lives. */
export function vocabulary(lang) {
  const lg = lang === "zh" ? "zh" : "en";
  if (!vocabularies.has(lg)) {
    const answer = api(`vocabulary${qs({ lang: lg })}`);
    vocabularies.set(lg, answer);
    answer.catch(() => vocabularies.delete(lg));
  }
  return vocabularies.get(lg);
}

/**
 * A translator for `lang`: t(key, {vars}) with English as the fallback, term(word) for repair and recovery
 * stage names from `vocab` (the answer of GET /vocabulary in that language; the word itself without one).
 */
export function translator(lang, vocab = null) {
  const table = DICT[lang] || DICT.en;
  const t = (key, vars = {}) => String(table[key] ?? DICT.en[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ""));
  t.lang = DICT[lang] ? lang : "en";
  t.locale = t.lang === "zh" ? "zh-CN" : undefined;
  const names = vocab && vocab.lang === t.lang ? { ...vocab.recovery_stages, ...vocab.stages } : {};
  t.term = (w) => names[w] || fmt.label(w);
  t.money = (v, cur) => money(v, cur, t.locale);
  t.time = (ms) => (ms ? new Date(ms).toLocaleString(t.locale, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }) : "—");
  t.date = (v) => { const ms = toMs(v); return ms ? new Date(ms).toLocaleDateString(t.locale, { year: "numeric", month: "short", day: "numeric" }) : "—"; };
  return t;
}
