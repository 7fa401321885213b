// Post-claim cases: the claims staff's list (services, lateness, recovery deadlines, NPS), the staff case page,
// and the claimant's own case read in their language (English or Chinese) with the feedback form.
import { api, ApiError, items, maybe, qs, token } from "../api.js";
import { h, mount, fmt, badge, empty, errorBox, toast, card } from "../dom.js";

const DAY_MS = 86_400_000;
const DEADLINE_WARN_DAYS = 90;
const DEADLINE_CRITICAL_DAYS = 30;
/** Repair alerts that mean the work is behind: the service is late while one of them is active. */
const LATE_ALERTS = new Set(["stall", "sla_breach", "long_hold"]);
/** Recovery stages in which the limitation deadline no longer matters. */
const DEADLINE_OVER = new Set(["recovered", "closed"]);
const LINE_BADGE = { motor: "info", health: "brand", property: "warn" };
const STATUS_BADGE = { pending: "", active: "info", done: "ok" };
const enc = encodeURIComponent;
const APP_LANG = document.documentElement.lang || "en";

// --- language -------------------------------------------------------------------------------------

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
const ZH_TERMS = {
  intake: "接车", estimate: "定损估价", parts_ordered: "订购配件", disassembly: "拆解", structural: "结构修复", body: "钣金",
  paint: "喷漆", reassembly: "组装", adas_calibration: "ADAS 校准", quality_check: "质检", detail: "精洗", ready: "待取车",
  delivered: "已交车", investigation: "调查", evidence: "取证", demand: "索赔", negotiation: "协商", settlement: "和解",
  litigation: "诉讼", recovered: "已追回", closed: "已结束",
};

/** A translator for `lang`: t(key, {vars}) with English as the fallback, term(word) for stage names. */
export function translator(lang) {
  const table = DICT[lang] || DICT.en;
  const t = (key, vars = {}) => String(table[key] ?? DICT.en[key] ?? key).replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? ""));
  t.lang = DICT[lang] ? lang : "en";
  t.locale = t.lang === "zh" ? "zh-CN" : undefined;
  t.term = (w) => (t.lang === "zh" && ZH_TERMS[w]) || fmt.label(w);
  t.money = (v, cur) => money(v, cur, t.locale);
  t.time = (ms) => (ms ? new Date(ms).toLocaleString(t.locale, { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }) : "—");
  t.date = (v) => { const ms = toMs(v); return ms ? new Date(ms).toLocaleDateString(t.locale, { year: "numeric", month: "short", day: "numeric" }) : "—"; };
  return t;
}

// --- small helpers -------------------------------------------------------------------------------

function money(v, cur, locale) {
  if (v === undefined || v === null || Number.isNaN(Number(v))) return "—";
  try {
    return new Intl.NumberFormat(locale, { style: "currency", currency: cur || "XXX", currencyDisplay: "code" }).format(Number(v));
  } catch {
    return `${fmt.num(v, 2)} ${cur || ""}`.trim();
  }
}

/** Epoch ms from ms, an RFC 3339 string or a YYYY-MM-DD date (end of that day); null otherwise. */
function toMs(v) {
  if (v === undefined || v === null || v === "") return null;
  if (typeof v === "number") return v;
  const s = String(v);
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T23:59:59` : s);
  return Number.isNaN(ms) ? null : ms;
}

/** A date with the year, short month (staff pages): "Jan 13, 2027". */
function dateStr(v) {
  const ms = toMs(v);
  return ms ? new Date(ms).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" }) : "—";
}

/** Run `fn` over `list` with at most `n` requests at a time. */
async function pool(list, n, fn) {
  const out = new Array(list.length);
  let next = 0;
  const worker = async () => { while (next < list.length) { const i = next++; out[i] = await fn(list[i], i); } };
  await Promise.all(Array.from({ length: Math.min(n, list.length) }, worker));
  return out;
}

function kpi(label, value, sub, id) {
  return h("div", { class: "card kpi", id }, h("div", { class: "label" }, label), h("div", { class: "value" }, value),
    sub ? h("div", { class: "small muted" }, sub) : null);
}

function deadlineBadge(file) {
  if (!file) return h("span", { class: "muted small" }, "no recovery file");
  if (DEADLINE_OVER.has(file.stage)) return h("span", { class: "small muted" }, `${fmt.label(file.stage)}`);
  const d = file.days_to_deadline;
  const kind = d <= DEADLINE_CRITICAL_DAYS ? "bad" : d <= DEADLINE_WARN_DAYS ? "warn" : "ok";
  return h("span", { class: "deadline", "data-days": d, "data-near": String(d <= DEADLINE_WARN_DAYS) },
    badge(d < 0 ? `${-d} days past` : `${d} days left`, kind),
    h("div", { class: "small muted" }, `${fmt.label(file.stage)} · ${dateStr(file.deadline_ms)}`));
}

/** Open a bearer-protected document (the risk report) in a new tab, or download it. */
async function openDocument(url, { download } = {}) {
  const win = download ? null : window.open("", "_blank");
  try {
    const res = await fetch(url, { headers: { Authorization: `Bearer ${token.get()}` } });
    if (!res.ok) throw new ApiError(res.status, `${res.status} ${res.statusText}`, url);
    const href = URL.createObjectURL(await res.blob());
    if (win) { win.location.href = href; return; }
    const a = h("a", { href, download: download || "" });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (err) {
    if (win) win.close();
    toast("Cannot open the report", err.message || String(err), "alert");
  }
}

// --- lateness ------------------------------------------------------------------------------------

/**
 * Which services of a case are late, and why: an item detail's due/expected date passed, a rehab
 * milestone's target date passed, the repair promised earlier than it is (or will be) done, or a
 * stall / SLA / long-hold alert active on the repair job. Returns Map(key -> [reasons]).
 */
export function lateness({ plan, job, alerts = [], now = Date.now() }) {
  const late = new Map();
  const add = (key, why) => { if (!late.has(key)) late.set(key, []); late.get(key).push(why); };
  for (const it of (plan && plan.items) || []) {
    if (it.status === "done") continue;
    const d = it.details || {};
    for (const f of ["due_ms", "due_at", "due_date", "due", "expected_ms", "expected_date", "deadline_ms", "deadline"]) {
      const ms = toMs(d[f]);
      if (ms && ms < now) add(it.key, `${fmt.label(f.replace(/_(ms|at|date)$/, ""))} ${fmt.day(ms)} passed`);
    }
    const milestones = (d.plan && d.plan.daily_life && d.plan.daily_life.milestones) || [];
    for (const m of milestones) {
      const ms = toMs(m.target_date);
      if (!m.done && ms && ms < now) add(it.key, `milestone “${m.name}” was due ${m.target_date}`);
    }
  }
  if (job && !job.delivered_ms && job.current_stage !== "delivered") {
    if (job.promised_ms && now > job.promised_ms) add("repair", `promised for ${fmt.time(job.promised_ms)}, not delivered yet`);
    else if (job.promised_ms && job.predicted_ms && job.predicted_ms > job.promised_ms) {
      add("repair", `predicted ${fmt.time(job.predicted_ms)}, later than promised (${fmt.time(job.promised_ms)})`);
    }
  }
  for (const a of alerts) {
    if (a.state !== "resolved" && LATE_ALERTS.has(a.kind)) add(a.job_id ? "repair" : "rehab", `${fmt.label(a.kind)}: ${a.message || ""}`);
  }
  return late;
}

function serviceChips(plan, late) {
  if (!plan) return h("span", { class: "muted small" }, "—");
  return h("div", { class: "chips" }, plan.items.map((it) => {
    const why = late.get(it.key);
    return h("span", { class: `chip ${it.status || "pending"}${why ? " late" : ""}`, "data-service": it.key, "data-status": it.status,
      "data-late": why ? "true" : null, title: why ? why.join("\n") : `${it.title}: ${it.status}` },
    fmt.label(it.key), h("em", {}, why ? "late" : it.status));
  }));
}

/** Everything the list shows about one case beyond the case itself: plan, recovery file, job and alerts. */
async function enrich(c, alertsBy) {
  const [plan, file, job] = await Promise.all([
    maybe(`cases/${enc(c.id)}/plan`, null, [403, 404]),
    maybe(`cases/${enc(c.id)}/subrogation`, null, [403, 404]),
    c.job_id ? maybe(`repair-jobs/${enc(c.job_id)}`, null, [403, 404]) : null,
  ]);
  const alerts = [
    ...(alertsBy.get(`job:${c.job_id}`) || []), ...(alertsBy.get(`patient:${c.patient_id}`) || []),
    ...(alertsBy.get(`subject:${c.id}`) || []), ...((job && job.alerts) || []),
  ].filter((a, i, all) => all.findIndex((b) => b.id === a.id) === i && a.state !== "resolved");
  return { plan, file, job, alerts, late: lateness({ plan, job, alerts }) };
}

// --- claims staff: the list -----------------------------------------------------------------------

export async function casesPage(main, ctx) {
  const filters = { state: "open", line: "" };
  const kpis = h("div", { class: "grid kpis", id: "case-kpis" });
  const body = h("div", {}, h("p", { class: "loading" }, "Loading…"));
  const deadlines = h("div", {}, h("p", { class: "loading" }, "Loading…"));
  const nps = h("div", {});
  const seg = h("div", { class: "seg", role: "group", "aria-label": "Case state filter" });
  const npsSeg = h("div", { class: "seg small-seg", role: "group", "aria-label": "NPS grouping" });
  const line = h("select", { id: "case-line", "aria-label": "Line of business", onchange: () => { filters.line = line.value; load(); } },
    [["", "All lines"], ["motor", "Motor"], ["health", "Health"], ["property", "Property"]].map(([v, l]) => h("option", { value: v }, l)));
  mount(main,
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Cases"),
      h("p", {}, "Paid claims and the services that follow them: what is late, what is due, what claimants say.")),
    h("div", { class: "actions" }, line, seg)),
    kpis,
    h("section", { class: "card", id: "cases", "aria-label": "Cases" }, body),
    h("div", { class: "grid cols-2 section" },
      card("Recovery deadlines", deadlines, { id: "case-deadlines" }),
      card("Net promoter score", nps, { id: "nps", actions: npsSeg })));

  let seq = 0;
  const load = async () => {
    const mine = ++seq;
    mount(seg, [["open", "Open"], ["closed", "Closed"], ["", "All"]].map(([s, l]) =>
      h("button", { class: filters.state === s ? "on" : "", "aria-pressed": String(filters.state === s), "data-state": s || "all",
        onclick: () => { filters.state = s; load(); } }, l)));
    let list;
    let total = 0;
    try {
      const page = await api(`cases${qs({ state: filters.state, line: filters.line, limit: 200 })}`);
      list = items(page);
      total = page.total ?? list.length;
    } catch (err) { mount(body, errorBox(err)); mount(deadlines); return; }
    if (!ctx.current() || mine !== seq) return;
    const alertPage = await maybe(`alerts${qs({ state: "active", limit: 1000 })}`, null, [403, 404]);
    const alertsBy = new Map();
    for (const a of items(alertPage)) {
      for (const k of [a.job_id && `job:${a.job_id}`, a.patient_id && `patient:${a.patient_id}`, a.subject && `subject:${a.subject}`]) {
        if (k) { if (!alertsBy.has(k)) alertsBy.set(k, []); alertsBy.get(k).push(a); }
      }
    }
    if (!list.length) {
      mount(body, empty("No cases", filters.state === "open" ? "No open case: cases appear when claims staff open one for a paid claim." : "No case matches."));
      mount(kpis); mount(deadlines, empty("No recovery files", ""));
      return;
    }
    const rows = new Map();
    mount(body, h("table", { class: "cases", id: "cases-table", "aria-label": "Cases" },
      h("thead", {}, h("tr", {}, ["Case", "Line", "Claimant", "Paid", "State", "Services", "Recovery deadline", "Updated"].map((x) => h("th", { class: x === "Paid" ? "num" : null }, x)))),
      h("tbody", {}, list.map((c) => {
        const cells = { services: h("td", {}, h("span", { class: "loading small" }, "…")), deadline: h("td", {}, h("span", { class: "loading small" }, "…")) };
        const tr = h("tr", { "data-case": c.id, "data-line": c.line, "data-state": c.state, tabindex: "0",
          onclick: (ev) => { if (!ev.target.closest("a")) location.hash = `#/case/${enc(c.id)}`; },
          onkeydown: (ev) => { if (ev.key === "Enter") location.hash = `#/case/${enc(c.id)}`; } },
        h("td", {}, h("a", { href: `#/case/${enc(c.id)}`, "aria-label": `Open case ${c.id}` }, h("strong", {}, c.id)), h("div", { class: "small muted nowrap" }, c.claim_id)),
        h("td", {}, badge(fmt.label(c.line), LINE_BADGE[c.line] || "")),
        h("td", {}, h("div", {}, c.claimant.name), h("div", { class: "small muted" },
          [c.claimant.age !== undefined ? `${c.claimant.age} y` : null, (c.claimant.language || "").toUpperCase(), c.claimant.channel].filter(Boolean).join(" · "))),
        h("td", { class: "num" }, money(c.payment.amount, c.payment.currency), h("div", { class: "small muted" }, fmt.label(c.payment.method))),
        h("td", {}, badge(fmt.label(c.state), c.state === "open" ? "brand" : "ok")),
        cells.services, cells.deadline,
        h("td", { class: "small muted" }, fmt.ago(c.updated_ms)));
        rows.set(c.id, { tr, cells });
        return tr;
      }))),
    total > list.length ? h("p", { class: "small muted" }, `Showing ${list.length} of ${total}`) : null);

    const extra = await pool(list, 6, async (c) => {
      const x = await enrich(c, alertsBy).catch(() => ({ plan: null, file: null, job: null, alerts: [], late: new Map() }));
      if (!ctx.current() || mine !== seq) return x;
      const { tr, cells } = rows.get(c.id);
      mount(cells.services, serviceChips(x.plan, x.late),
        x.alerts.length ? h("div", { class: "small", style: { marginTop: ".3rem" } }, badge(`${x.alerts.length} active alert${x.alerts.length > 1 ? "s" : ""}`, "bad")) : null);
      mount(cells.deadline, deadlineBadge(x.file));
      tr.dataset.late = String(x.late.size > 0);
      tr.classList.toggle("late", x.late.size > 0);
      tr.dataset.enriched = "true";
      return x;
    });
    if (!ctx.current() || mine !== seq) return;
    const byCur = new Map();
    for (const c of list) byCur.set(c.payment.currency, (byCur.get(c.payment.currency) || 0) + Number(c.payment.amount || 0));
    const [cur, sum] = [...byCur.entries()].sort((a, b) => b[1] - a[1])[0] || ["", 0];
    const lateCases = list.filter((c, i) => extra[i].late.size > 0);
    const files = list.map((c, i) => ({ c, f: extra[i].file })).filter((x) => x.f && !DEADLINE_OVER.has(x.f.stage))
      .sort((a, b) => a.f.days_to_deadline - b.f.days_to_deadline);
    const near = files.filter((x) => x.f.days_to_deadline <= DEADLINE_WARN_DAYS);
    mount(kpis,
      kpi(filters.state === "closed" ? "Closed cases" : filters.state === "open" ? "Open cases" : "Cases", fmt.num(total), filters.line ? fmt.label(filters.line) : "all lines", "kpi-cases"),
      kpi("Paid", money(sum, cur), byCur.size > 1 ? `and ${byCur.size - 1} other currenc${byCur.size > 2 ? "ies" : "y"}` : `${list.length} case${list.length === 1 ? "" : "s"}`, "kpi-paid"),
      kpi("Late services", h("span", { class: lateCases.length ? "bad-text" : "" }, fmt.num(lateCases.length)), lateCases.length ? lateCases.map((c) => c.id).slice(0, 3).join(", ") : "none behind", "kpi-late"),
      kpi("Deadlines ≤ 90 days", h("span", { class: near.length ? "bad-text" : "" }, fmt.num(near.length)), `${files.length} active recovery file${files.length === 1 ? "" : "s"}`, "kpi-deadlines"));
    mount(deadlines, files.length ? h("ul", { class: "list", "aria-label": "Recovery deadlines" }, files.map(({ c, f }) =>
      h("li", { "data-deadline-case": c.id, class: f.days_to_deadline <= DEADLINE_WARN_DAYS ? "near" : "" }, h("div", { class: "row" },
        h("div", {}, h("a", { href: `#/case/${enc(c.id)}` }, h("strong", {}, c.id)), " ", h("span", { class: "muted small" }, `vs ${f.third_party.name || "—"}${f.third_party.insurer ? ` (${f.third_party.insurer})` : ""}`),
          h("div", { class: "small muted" }, `outstanding ${money(f.outstanding, f.currency)} of ${money(f.total_due, f.currency)}`)),
        deadlineBadge(f)))))
      : empty("No active recovery file", "Open one from a case whose loss a third party caused."));
  };

  let by = "line";
  const shopNames = new Map();
  const loadNps = async () => {
    mount(npsSeg, [["line", "Line"], ["shop", "Shop"], ["manager", "Manager"]].map(([v, l]) =>
      h("button", { class: by === v ? "on" : "", "aria-pressed": String(by === v), "data-by": v, onclick: () => { by = v; loadNps(); } }, l)));
    const out = h("div", { id: "nps-body" }, h("p", { class: "loading" }, "Loading…"));
    mount(nps, h("p", { class: "small muted", style: { marginTop: 0 } }, `% promoters (9-10) minus % detractors (0-6) in claimants' surveys, by ${by}.`), out);
    try {
      if (by === "shop" && !shopNames.size) for (const s of items(await maybe("shops?limit=500", null, [403, 404]))) shopNames.set(s.id, s.name);
      const res = await api(`cases/nps${qs({ by })}`);
      if (!ctx.current()) return;
      mount(out, npsTable(res.rows || [], by, shopNames));
    } catch (err) {
      mount(out, err instanceof ApiError && err.status === 403 ? empty("Not available", "Only claims staff see the NPS.") : errorBox(err));
    }
  };

  let pending = null;
  ctx.live((kind) => {
    if (!kind.startsWith("case_")) return;
    clearTimeout(pending);
    pending = setTimeout(() => { load(); if (kind === "case_feedback") loadNps(); }, 800);
  });
  await Promise.all([load(), loadNps()]);
}

function npsTable(rows, by, names) {
  if (!rows.length) return empty("No survey answers yet", "Claimants answer after the repair, the rehabilitation, the risk review and the close.");
  const label = (k) => (k === null || k === undefined ? "(none)" : by === "line" ? fmt.label(k) : by === "shop" && names.get(k) ? `${names.get(k)} · ${k}` : k);
  return h("table", { class: "nps", "aria-label": `NPS by ${by}` },
    h("thead", {}, h("tr", {}, h("th", {}, fmt.label(by)), h("th", {}, "Answers"), h("th", {}, "Satisfaction"), h("th", {}, "Answer mix"), h("th", { class: "num" }, "NPS"))),
    h("tbody", {}, rows.map((r) => {
      const n = Math.max(1, r.answers);
      const pct = (x) => `${(100 * x) / n}%`;
      return h("tr", { "data-nps": r.key ?? "" },
        h("td", {}, h("strong", {}, label(r.key))),
        h("td", {}, fmt.num(r.answers)),
        h("td", {}, `${fmt.num(r.satisfaction_mean, 1)} / 5`),
        h("td", {}, h("div", { class: "nps-bar", role: "img", "aria-label": `${r.promoters} promoters, ${r.passives} passives, ${r.detractors} detractors` },
          h("span", { class: "pro", style: { width: pct(r.promoters) } }), h("span", { class: "pas", style: { width: pct(r.passives) } }),
          h("span", { class: "det", style: { width: pct(r.detractors) } })),
        h("div", { class: "small muted" }, `${r.promoters} promoter${r.promoters === 1 ? "" : "s"} · ${r.passives} passive${r.passives === 1 ? "" : "s"} · ${r.detractors} detractor${r.detractors === 1 ? "" : "s"}`)),
        h("td", { class: "num" }, badge(`${r.nps > 0 ? "+" : ""}${fmt.num(r.nps, 0)}`, r.nps >= 30 ? "ok" : r.nps >= 0 ? "warn" : "bad")));
    })));
}

// --- claims staff: one case -----------------------------------------------------------------------

export async function casePage(main, ctx, id) {
  const base = `cases/${enc(id)}`;
  const c = await api(base);
  if (!ctx.current()) return;
  const [plan, versions, timeline, notes, file, feedback, notice, job] = await Promise.all([
    maybe(`${base}/plan`, null, [404]), maybe(`${base}/plan/versions`, [], [404]), maybe(`${base}/timeline`, { entries: [] }, [404]),
    maybe(`${base}/notifications`, [], [404]), maybe(`${base}/subrogation`, null, [404]), maybe(`${base}/feedback`, [], [404]),
    maybe(`${base}/notice${qs({ lang: "en" })}`, null, [404]),
    c.job_id ? maybe(`repair-jobs/${enc(c.job_id)}`, null, [403, 404]) : null,
  ]);
  if (!ctx.current()) return;
  const alertPage = await maybe(`alerts${qs({ state: "active", limit: 1000 })}`, null, [403, 404]);
  const alerts = items(alertPage).filter((a) => (c.job_id && a.job_id === c.job_id) || (c.patient_id && a.patient_id === c.patient_id) || a.subject === c.id);
  const late = lateness({ plan, job, alerts });
  const p = c.payment || {};
  const loss = c.loss || {};
  const cl = c.claimant || {};
  const done = plan ? plan.items.filter((i) => i.status === "done").length : 0;
  const planBox = h("div", {});
  const subroBox = h("div", {});

  const showPlan = (version) => {
    const v = versions.find((x) => x.version === version) || plan;
    const seg = versions.length > 1 ? h("div", { class: "seg", role: "group", "aria-label": "Plan version" }, versions.map((x) =>
      h("button", { class: x.version === v.version ? "on" : "", "aria-pressed": String(x.version === v.version), onclick: () => showPlan(x.version) }, `v${x.version}`))) : null;
    mount(planBox, v ? planView(v, v.version === c.plan_version ? late : new Map(), seg) : empty("No plan", "The plan is made by the rules when the case opens."));
  };
  showPlan(c.plan_version);
  const reload = () => casePage(main, ctx, id);
  mount(subroBox, subrogationView(file, c, ctx, reload));

  mount(main,
    h("div", { class: "page-head" }, h("div", {},
      h("div", { class: "crumbs" }, h("a", { href: "#/cases" }, "Cases"), " / ", c.id),
      h("h1", { id: "case-title" }, `${c.id} · ${cl.name || "—"}`),
      h("p", {}, `Claim ${c.claim_id} · ${fmt.label(c.line)} · ${loss.cause || "—"}, ${loss.severity || "—"} · opened ${fmt.time(c.opened_ms)} by ${c.opened_by}`)),
    h("div", { class: "actions" },
      badge(fmt.label(c.state), c.state === "open" ? "brand" : "ok"),
      h("button", { class: "small", id: "risk-html", "aria-label": `Open the risk report of case ${c.id} as a web page`,
        onclick: () => openDocument(`/api/v1/${base}/risk-report?format=html`) }, "Risk report (HTML)"),
      h("button", { class: "small", id: "risk-pdf", "aria-label": `Download the risk report of case ${c.id} as PDF`,
        onclick: () => openDocument(`/api/v1/${base}/risk-report?format=pdf`, { download: `risk-report-${c.id}.pdf` }) }, "PDF"))),
    h("div", { class: "grid kpis" },
      kpi("Paid", money(p.amount, p.currency), `${fmt.label(p.method)} · ${dateStr(p.paid_at)}`, "kpi-paid"),
      kpi("Services", `${done} / ${plan ? plan.items.length : 0}`, late.size ? h("span", { class: "bad-text" }, `${late.size} late`) : "done / planned", "kpi-services"),
      kpi("Plan version", `v${c.plan_version}`, plan ? `by ${plan.created_by}` : "", "kpi-plan"),
      kpi("Recovery deadline", file && !DEADLINE_OVER.has(file.stage) ? h("span", { class: file.days_to_deadline <= DEADLINE_WARN_DAYS ? "bad-text" : "" }, `${file.days_to_deadline} d`) : "—",
        file ? fmt.label(file.stage) : "no recovery file", "kpi-deadline"),
      kpi("Notifications", `${notes.filter((n) => n.state === "delivered").length} / ${notes.length}`, "delivered / written", "kpi-notes")),
    h("div", { class: "grid cols-2" },
      card("Payment", paymentView(c, notice), { id: "case-payment" }),
      card("Claimant and loss", claimantView(c, job), { id: "case-claimant" }),
      card(`Service plan`, planBox, { id: "case-plan", cls: "span-all" }),
      card("Timeline", timelineView(timeline.entries || [], translator("en"), { staff: true }), { id: "case-timeline" }),
      card("Notifications", notificationsTable(notes), { id: "case-notifications" }),
      card("Recovery from the third party", subroBox, { id: "case-subrogation" }),
      card("Outcome and feedback", outcomeView(c, feedback), { id: "case-outcome" })));

  let pending = null;
  ctx.live((kind, data) => {
    if (!kind.startsWith("case_") || data.case_id !== c.id) return;
    clearTimeout(pending);
    pending = setTimeout(reload, 800);
  });
}

function paymentView(c, notice) {
  const p = c.payment || {};
  const comps = p.components || [];
  return h("div", {},
    h("table", { class: "breakdown", "aria-label": "Payment breakdown" },
      h("thead", {}, h("tr", {}, h("th", {}, "Item"), h("th", {}, "Note"), h("th", { class: "num" }, "Amount"))),
      h("tbody", {}, comps.map((x) => h("tr", { "data-component": x.item }, h("td", {}, x.item), h("td", { class: "muted small" }, x.note || ""), h("td", { class: "num" }, money(x.amount, p.currency))))),
      h("tfoot", {},
        h("tr", {}, h("th", { colspan: 2 }, "Paid"), h("th", { class: "num" }, money(p.amount, p.currency))),
        p.deductible ? h("tr", {}, h("td", { colspan: 2, class: "muted" }, "Deductible borne by the claimant"), h("td", { class: "num muted" }, money(p.deductible, p.currency))) : null)),
    h("dl", { class: "kv", style: { marginTop: ".8rem" } },
      h("dt", {}, "Method"), h("dd", {}, fmt.label(p.method)),
      h("dt", {}, "Paid at"), h("dd", {}, p.paid_at ? `${dateStr(p.paid_at)}, ${new Date(p.paid_at).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })}` : "—"),
      notice ? [h("dt", {}, "Expected arrival"), h("dd", {}, notice.arrival.earliest === notice.arrival.latest ? dateStr(notice.arrival.earliest) : `${dateStr(notice.arrival.earliest)} – ${dateStr(notice.arrival.latest)}`)] : null),
    notice ? h("details", { style: { marginTop: ".6rem" } }, h("summary", {}, "The notice the claimant received"), h("pre", { class: "letter" }, notice.text)) : null);
}

function claimantView(c, job) {
  const cl = c.claimant || {};
  const loss = c.loss || {};
  const v = loss.vehicle;
  return h("dl", { class: "kv" },
    h("dt", {}, "Claimant"), h("dd", {}, `${cl.name}${cl.age !== undefined ? `, ${cl.age}` : ""}${cl.mobility === "reduced" ? " · reduced mobility" : ""}`),
    h("dt", {}, "Language · channel"), h("dd", {}, `${(cl.language || "").toUpperCase()} · ${fmt.label(cl.channel)}`),
    h("dt", {}, "Contact"), h("dd", {}, [cl.phone, cl.email].filter(Boolean).join(" · ") || "—"),
    h("dt", {}, "Loss"), h("dd", {}, `${fmt.label(loss.cause)} · ${loss.severity || "—"}${loss.occurred_at ? ` · ${dateStr(loss.occurred_at)}` : ""}`),
    h("dt", {}, "Third party liable"), h("dd", {}, loss.third_party_liable ? "yes" : "no"),
    v ? [h("dt", {}, "Vehicle"), h("dd", {}, `${v.make} ${v.model}${v.year ? ` (${v.year})` : ""} · ${v.drivable ? "drivable" : "not drivable"}`)] : null,
    loss.injury ? [h("dt", {}, "Injury"), h("dd", {}, `${loss.injury.description}${loss.injury.body_part ? ` (${loss.injury.body_part})` : ""}`)] : null,
    loss.prior_claims_same_cause ? [h("dt", {}, "Earlier claims, same cause"), h("dd", {}, String(loss.prior_claims_same_cause))] : null,
    h("dt", {}, "Repair job"), h("dd", {}, c.job_id ? [h("a", { href: `#/jobs/${enc(c.job_id)}` }, c.job_id),
      job ? h("span", { class: "muted small" }, ` · ${fmt.label(job.current_stage || "not started")} · ${Math.round((job.progress || 0) * 100)}%`) : null] : "—"),
    h("dt", {}, "Rehab patient"), h("dd", {}, c.patient_id ? h("a", { href: `#/patients/${enc(c.patient_id)}` }, c.patient_id) : "—"));
}

function planView(plan, late, seg) {
  return h("div", { id: "plan-view", "data-version": plan.version },
    h("div", { class: "row", style: { marginBottom: ".6rem" } },
      h("span", { class: "small muted" }, `Version ${plan.version} · ${plan.reason} · ${fmt.time(plan.created_ms)} by ${plan.created_by}`), seg),
    plan.changes && plan.changes.length ? h("div", { class: "note", style: { marginBottom: ".7rem" } }, h("strong", {}, "What changed in this version"),
      h("ul", { class: "changes" }, plan.changes.map((d) => h("li", {}, h("strong", {}, `${fmt.label(d.key)} ${d.change}: `), d.reason)))) : null,
    h("table", { class: "plan-items", "aria-label": "Plan items" },
      h("thead", {}, h("tr", {}, h("th", {}, "Service"), h("th", {}, "Status"), h("th", {}, "Why (as the claimant reads it)"), h("th", {}, "Rule"))),
      h("tbody", {}, plan.items.map((it) => {
        const why = late.get(it.key);
        return h("tr", { "data-item": it.key, "data-status": it.status, class: why ? "late" : "" },
          h("td", {}, h("strong", {}, it.title), h("div", { class: "small muted" }, [it.key, it.part_of ? `part of ${it.part_of}` : null, `via ${it.channel}`].filter(Boolean).join(" · ")),
            itemDetails(it)),
          h("td", {}, badge(fmt.label(it.status), STATUS_BADGE[it.status] || ""), why ? h("div", {}, badge("late", "bad")) : null),
          h("td", {}, h("div", {}, it.reason), why ? h("ul", { class: "changes late-why" }, why.map((w) => h("li", {}, w))) : null),
          h("td", {}, h("code", { class: "mono" }, it.rule)));
      }))),
    plan.omitted && plan.omitted.length ? h("details", { style: { marginTop: ".7rem" } }, h("summary", {}, `Not in the plan (${plan.omitted.length})`),
      h("ul", { class: "changes" }, plan.omitted.map((o) => h("li", { "data-omitted": o.key }, h("strong", {}, fmt.label(o.key)), `: ${o.reason}`)))) : null,
    plan.preferences && Object.keys(plan.preferences).length ? h("p", { class: "small muted" }, `Preferences kept: ${Object.entries(plan.preferences).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", ")}`) : null);
}

function itemDetails(it) {
  const d = it.details || {};
  if (it.key === "repair" && d.offers) {
    return h("div", { class: "small" }, `Chosen: ${d.shop_name || d.shop_id} (rank ${d.rank}, ${d.chosen_by})`,
      h("ol", { class: "offers" }, d.offers.map((o) => h("li", { class: o.shop_id === d.shop_id ? "chosen" : "" },
        `${o.name} · ${fmt.num(o.distance_km, 1)} km · score ${fmt.num(o.score, 2)}`))));
  }
  if (it.key === "extended_warranty" && d.months) return h("div", { class: "small muted" }, `${d.months} months (${d.base_months} × ${d.factor})`);
  const ms = d.plan && d.plan.daily_life && d.plan.daily_life.milestones;
  if (ms && ms.length) return h("div", { class: "small muted" }, ms.map((m) => `${m.name} by ${m.target_date}${m.done ? " ✓" : ""}`).join(" · "));
  return null;
}

function notificationsTable(notes) {
  if (!notes.length) return empty("No notifications", "");
  return h("table", { "aria-label": "Notifications" },
    h("thead", {}, h("tr", {}, h("th", {}, "Message"), h("th", {}, "Channel"), h("th", {}, "Delivery"))),
    h("tbody", {}, [...notes].reverse().map((n) => h("tr", { "data-notification": n.id, "data-kind": n.kind, "data-delivery": n.state },
      h("td", {}, h("strong", {}, n.subject || fmt.label(n.kind)), h("div", { class: "small muted" }, `${fmt.label(n.kind)} · ${fmt.time(n.created_ms)}`),
        n.text ? h("details", {}, h("summary", {}, "Text"), h("pre", { class: "letter" }, n.text)) : null),
      h("td", { class: "small" }, `${fmt.label(n.channel)} · ${(n.language || "").toUpperCase()}`),
      h("td", {}, badge(n.state === "delivered" ? "delivered" : n.last_error ? "retrying" : n.state, n.state === "delivered" ? "ok" : n.last_error ? "bad" : "warn"),
        h("div", { class: "small muted" }, n.state === "delivered" ? fmt.time(n.delivered_ms)
          : [`${n.attempts} attempt${n.attempts === 1 ? "" : "s"}`, n.last_status ? `HTTP ${n.last_status}` : null, n.next_attempt_ms ? (n.next_attempt_ms <= Date.now() ? "queued" : `retry ${fmt.ago(n.next_attempt_ms)}`) : null].filter(Boolean).join(" · ")),
        n.last_error ? h("div", { class: "small bad-text" }, n.last_error) : null)))));
}

function subrogationView(file, c, ctx, reload) {
  if (!file) {
    if (!ctx.staff || c.state !== "open") return empty("No recovery file", c.loss && c.loss.third_party_liable ? "A third party is liable: a recovery file can be opened." : "");
    const name = h("input", { id: "subro-name", required: true, placeholder: "Liable party", "aria-label": "Liable party's name" });
    const insurer = h("input", { id: "subro-insurer", placeholder: "Their insurer (optional)", "aria-label": "Liable party's insurer" });
    const msg = h("div", {});
    return h("div", {}, empty("No recovery file", c.loss && c.loss.third_party_liable ? "A third party is liable for this loss." : "The loss is not marked as caused by a third party."),
      h("form", { class: "form-row", style: { marginTop: ".8rem" }, "aria-label": "Open a recovery file", onsubmit: async (ev) => {
        ev.preventDefault();
        try {
          await api(`cases/${enc(c.id)}/subrogation`, { method: "POST", body: { third_party: { name: name.value, insurer: insurer.value || null } } });
          toast("Recovery file opened", c.id);
          reload();
        } catch (err) { mount(msg, errorBox(err)); }
      } }, name, insurer, h("button", { class: "primary", type: "submit" }, "Open recovery file")), msg);
  }
  const cur = file.currency;
  return h("div", { id: "subrogation", "data-stage": file.stage },
    h("div", { class: "row", style: { marginBottom: ".6rem" } },
      h("div", {}, h("strong", {}, file.third_party.name), file.third_party.insurer ? h("span", { class: "muted" }, ` · ${file.third_party.insurer}`) : null,
        file.third_party.reference ? h("span", { class: "muted small" }, ` · ref ${file.third_party.reference}`) : null),
      deadlineBadge(file)),
    h("dl", { class: "stats" },
      h("div", {}, h("dt", {}, "Claimed"), h("dd", {}, money(file.claimed, cur))),
      h("div", {}, h("dt", {}, `Interest (${fmt.num(file.interest_rate * 100, 1)} %)`), h("dd", {}, money(file.interest, cur))),
      h("div", {}, h("dt", {}, "Recovered"), h("dd", {}, money(file.recovered, cur))),
      h("div", {}, h("dt", {}, "Outstanding"), h("dd", {}, money(file.outstanding, cur))),
      h("div", {}, h("dt", {}, "Deductible refund"), h("dd", {}, `${money(file.deductible_refunded, cur)} / ${money(file.deductible_refund_due, cur)}`)),
      h("div", {}, h("dt", {}, "Deadline"), h("dd", {}, dateStr(file.deadline_ms)))),
    h("p", { class: "small muted" }, `Stage ${fmt.label(file.stage)}${file.allowed_next.length ? ` · next: ${file.allowed_next.map(fmt.label).join(", ")}` : ""} · last progress ${fmt.ago(file.last_progress_ms)}`),
    file.steps.length ? h("ol", { class: "timeline compact", "aria-label": "Recovery steps" }, [...file.steps].reverse().map((s) => h("li", {},
      h("time", {}, `${fmt.time(s.at_ms)} · ${s.by}`),
      h("strong", {}, s.from_stage && s.from_stage !== s.stage ? `${fmt.label(s.from_stage)} → ${fmt.label(s.stage)}` : fmt.label(s.stage)),
      [s.claimed !== null ? ` · claimed ${money(s.claimed, cur)}` : "", s.recovered !== null ? ` · recovered ${money(s.recovered, cur)}` : ""].join(""),
      s.note ? h("div", { class: "small muted" }, s.note) : null))) : null);
}

function outcomeView(c, feedback) {
  const f = c.figures || {};
  return h("div", {},
    h("dl", { class: "stats" },
      h("div", {}, h("dt", {}, "Days to keys"), h("dd", {}, fmt.num(f.days_to_keys, 1))),
      h("div", {}, h("dt", {}, "Rehab adherence"), h("dd", {}, f.rehab_adherence === null || f.rehab_adherence === undefined ? "—" : fmt.pct(f.rehab_adherence))),
      h("div", {}, h("dt", {}, "Recovered"), h("dd", {}, f.amount_recovered === null || f.amount_recovered === undefined ? "—" : money(f.amount_recovered, c.payment.currency)))),
    h("p", { class: "small muted" }, `Milestones reached: ${(c.milestones || []).map(fmt.label).join(", ") || "none yet"}${c.closed_ms ? ` · closed ${fmt.time(c.closed_ms)}` : ""}`),
    feedback.length ? h("ul", { class: "list", "aria-label": "Feedback" }, feedback.map((x) => h("li", { "data-feedback": x.milestone },
      h("div", { class: "row" }, h("strong", {}, fmt.label(x.milestone)), h("span", {}, badge(`${x.satisfaction}/5`, x.satisfaction >= 4 ? "ok" : x.satisfaction >= 3 ? "warn" : "bad"), " ",
        badge(`recommend ${x.would_recommend}/10`, x.would_recommend >= 9 ? "ok" : x.would_recommend >= 7 ? "" : "bad"))),
      x.comment ? h("div", { class: "small muted" }, `“${x.comment}”`) : null)))
      : h("p", { class: "small muted" }, "No survey answer yet."));
}

// --- timeline, shared by staff and claimant --------------------------------------------------------

/** One timeline entry's text: the API's summary for staff in English, rebuilt from kind and data otherwise. */
function entryText(e, t, { staff, titles, payment }) {
  const d = e.data || {};
  if (staff) return e.summary;
  switch (e.source) {
    case "payment":
      return payment ? t("tl.payment", { amount: t.money(payment.amount, payment.currency), method: t(`method.${d.method || payment.method}`) }) : e.summary;
    case "case":
      if (e.kind === "opened") return t("tl.opened");
      if (e.kind === "linked") return d.job_id ? t("tl.linked_job", { id: d.job_id }) : t("tl.linked_patient");
      if (e.kind === "service") return t("tl.service", { title: titles.get(d.key) || fmt.label(d.key), status: t(`status.${d.status}`) });
      if (e.kind === "closed") return t("tl.closed");
      if (e.kind === "feedback") return t("tl.feedback", { m: t(`milestone.${d.milestone}`), s: d.satisfaction ?? "—" });
      if (e.kind === "plan_changed") return t("tl.plan_changed");
      if (e.kind === "subrogation") return t("tl.subrogation", { stage: t.term(d.stage || "") });
      return e.summary;
    case "plan": return t("tl.plan_version", { v: d.version });
    case "repair":
      if (e.kind === "stage") return t("tl.stage", { stage: t.term(d.stage) });
      return e.kind === "hold" ? t("tl.hold") : e.kind === "resume" ? t("tl.resume") : e.summary;
    case "photo": return t("tl.photo", { stage: t.term(d.stage) });
    case "rehab": return t("tl.adjustment");
    case "alert": return t("tl.alert");
    case "subrogation": return t("tl.subrogation", { stage: t.term(d.stage) });
    case "feedback": return t("tl.feedback", { m: t(`milestone.${d.milestone}`), s: (/(\d)\/5/.exec(e.summary) || [])[1] || "—" });
    default: return e.summary;
  }
}

function timelineView(all, t, { staff = false, titles = new Map(), payment = null } = {}) {
  // The API lists an answer twice (the case log's line and the answer itself): keep the answer.
  const answered = new Set(all.filter((e) => e.source === "feedback").map((e) => e.data && e.data.milestone));
  const entries = all.filter((e) => !(e.source === "case" && e.kind === "feedback" && answered.has(e.data && e.data.milestone)));
  if (!entries.length) return empty(t("nothing_yet"), "");
  const cls = (e) => (e.source === "alert" ? "alert" : e.kind === "hold" ? "hold" : e.source === "payment" ? "money" : e.source === "notification" ? "message" : "");
  return h("div", {},
    h("p", { class: "small muted", style: { marginTop: 0 } }, t("newest_first")),
    h("div", { class: "timeline-scroll" }, h("ol", { class: "timeline", id: "timeline", "aria-label": t("timeline") }, [...entries].reverse().map((e) =>
      h("li", { class: cls(e), "data-source": e.source, "data-kind": e.kind },
        h("time", { datetime: e.at }, `${t.time(e.at_ms)} · ${t(`src.${e.source}`)}`),
        h("span", { class: "entry" }, entryText(e, t, { staff, titles, payment })),
        staff && e.source === "notification" ? h("span", { class: "small muted" }, ` · ${fmt.label(e.kind)} · ${e.data.state}${e.data.attempts ? `, ${e.data.attempts} attempts` : ""}`) : null,
        staff && e.source === "plan" && e.data.changes && e.data.changes.length ? h("div", { class: "small muted" }, e.data.changes.map((x) => `${x.key} ${x.change}`).join(" · ")) : null,
        !staff && e.source === "alert" && e.summary ? h("div", { class: "small muted" }, e.summary) : null)))));
}

// --- the claimant's own case ----------------------------------------------------------------------

export async function myCasePage(main, ctx) {
  let id = ctx.me.case_id;
  if (!id) {
    const mine = items(await maybe("cases?limit=1", null, [403, 404]));
    id = mine.length ? mine[0].id : null;
  }
  if (!id) {
    const t = translator("en");
    mount(main, h("div", { class: "page-head" }, h("h1", {}, t("my_case"))), empty(t("no_case"), t("no_case_text")));
    return;
  }
  const base = `cases/${enc(id)}`;
  const c = await api(base);
  if (!ctx.current()) return;
  const t = translator(c.claimant && c.claimant.language);
  const [notice, plan, timeline, notes, feedback] = await Promise.all([
    api(`${base}/notice${qs({ lang: t.lang })}`), maybe(`${base}/plan`, null, [404]), maybe(`${base}/timeline${qs({ lang: t.lang })}`, { entries: [] }, [404]),
    maybe(`${base}/notifications`, [], [404]), maybe(`${base}/feedback`, [], [403, 404]),
  ]);
  if (!ctx.current()) return;
  const titles = new Map(((plan && plan.items) || []).map((i) => [i.key, i.title]));
  const done = plan ? plan.items.filter((i) => i.status === "done").length : 0;
  const arrival = notice.arrival || {};
  // The page's language follows the claimant's (fonts and screen readers); back to the app's on leaving.
  document.documentElement.lang = t.lang === "zh" ? "zh-CN" : "en";
  localizeChrome(t, c.id);
  window.addEventListener("hashchange", () => { document.documentElement.lang = APP_LANG; }, { once: true });

  mount(main, h("div", { id: "my-case", class: `my-case lang-${t.lang}`, "data-case": c.id, "data-lang": t.lang, lang: t.lang === "zh" ? "zh-CN" : "en" },
    h("div", { class: "page-head" }, h("div", {},
      h("h1", { id: "my-case-title" }, t("my_case")),
      h("p", {}, `${t("claim")} ${c.claim_id} · ${t("of_line", { line: t(`line.${c.line}`) })}`)),
    badge(t(`state.${c.state}`), c.state === "open" ? "brand" : "ok")),
    h("div", { class: "grid kpis" },
      kpi(t("paid"), t.money(notice.amount, notice.currency), t("paid_on", { date: t.date(notice.paid_at) }), "my-paid"),
      kpi(t("arrival"), arrival.earliest === arrival.latest ? t.date(arrival.earliest) : t("between", { a: t.date(arrival.earliest), b: t.date(arrival.latest) }), t(`method.${notice.method}`), "my-arrival"),
      kpi(t("services"), `${done} / ${plan ? plan.items.length : 0}`, t("done_planned"), "my-services")),
    h("div", { class: "grid cols-2" },
      card(t("timeline"), timelineView(timeline.entries || [], t, { titles, payment: c.payment }), { id: "my-timeline" }),
      card(t("notice"), noticeView(notice, t), { id: "my-notice" }),
      card(t("plan"), myPlanView(plan, t), { id: "my-plan" }),
      card(t("notifications"), myNotifications(notes, t), { id: "my-notifications" }),
      card(t("feedback"), feedbackForm(c, feedback, t, () => myCasePage(main, ctx)), { id: "my-feedback", cls: "span-all" }))));

  let pending = null;
  ctx.live((kind, data) => {
    if (!kind.startsWith("case_") || data.case_id !== c.id) return;
    clearTimeout(pending);
    pending = setTimeout(() => myCasePage(main, ctx), 800);
  });
}

/** The top bar's claimant links and log-out button in the claimant's language (the chrome is redrawn on each route). */
function localizeChrome(t, caseId) {
  const set = (sel, text) => { const el = document.querySelector(sel); if (el) el.textContent = text; };
  set("#nav a[href='#/my-case']", t("nav_case"));
  set("#nav a[href='#/mine']", t("nav_progress"));
  set("#logout", t("logout"));
  set("#role", `${t("role")} · ${caseId}`);
}

function noticeView(n, t) {
  return h("article", { class: "notice-letter", id: "notice", "data-lang": n.language },
    h("h3", { class: "letter-title" }, n.title),
    h("p", {}, n.greeting), h("p", {}, n.why),
    h("h3", {}, t("breakdown")),
    h("table", { class: "breakdown", "aria-label": t("breakdown") },
      h("thead", {}, h("tr", {}, h("th", {}, t("item")), h("th", { class: "num" }, t("amount")))),
      h("tbody", {}, n.components.map((x) => h("tr", {}, h("td", {}, x.item), h("td", { class: "num" }, t.money(x.amount, n.currency))))),
      h("tfoot", {}, h("tr", {}, h("th", {}, t("total")), h("th", { class: "num" }, t.money(n.amount, n.currency))))),
    h("p", { class: "arrival" }, n.arrival.text),
    n.entitlements.length ? [h("h3", {}, t("entitled")), h("ul", { class: "changes" }, n.entitlements.map((e) => h("li", {}, h("strong", {}, e.title), t.lang === "zh" ? "：" : ": ", e.text)))] : null);
}

function myPlanView(plan, t) {
  if (!plan) return empty(t("nothing_yet"), "");
  return h("div", { id: "my-plan-items", "data-version": plan.version },
    h("p", { class: "small muted", style: { marginTop: 0 } }, t("version", { v: plan.version })),
    h("ul", { class: "list" }, plan.items.map((it) => h("li", { "data-item": it.key, "data-status": it.status },
      h("div", { class: "row" }, h("strong", {}, it.title), badge(t(`status.${it.status}`), STATUS_BADGE[it.status] || "")),
      h("div", { class: "small", style: { marginTop: ".25rem" } }, it.reason)))),
    plan.omitted && plan.omitted.length ? h("details", { style: { marginTop: ".7rem" } }, h("summary", {}, t("not_included")),
      h("ul", { class: "changes" }, plan.omitted.map((o) => h("li", {}, o.reason)))) : null);
}

function myNotifications(notes, t) {
  if (!notes.length) return h("p", { class: "muted" }, t("no_messages"));
  return h("ul", { class: "list", "aria-label": t("notifications") }, [...notes].reverse().map((n) => h("li", { "data-notification": n.id, "data-kind": n.kind },
    h("div", { class: "row" }, h("strong", {}, n.subject), badge(t(`delivery.${n.state === "delivered" ? "delivered" : "pending"}`), n.state === "delivered" ? "ok" : "")),
    h("div", { class: "small muted" }, t.time(n.created_ms)),
    n.text && n.kind !== "payment_notice" ? h("div", { class: "small", style: { marginTop: ".25rem", whiteSpace: "pre-line" } }, n.text) : null)));
}

/** The survey: one form per milestone reached and not answered yet (the API refuses the others with 409). */
function feedbackForm(c, answers, t, reload) {
  const answered = new Set(answers.map((a) => a.milestone));
  const open = (c.milestones || []).filter((m) => !answered.has(m));
  const given = answers.length ? h("div", { id: "my-answers" }, h("h3", {}, t("your_answers")), h("ul", { class: "changes" }, answers.map((a) =>
    h("li", { "data-answer": a.milestone }, t("answer_line", { m: t(`milestone.${a.milestone}`), s: a.satisfaction, r: a.would_recommend }), a.comment ? ` — “${a.comment}”` : "")))) : null;
  if (!open.length) return h("div", {}, given || h("p", { class: "muted", id: "no-survey" }, t("no_feedback_yet")));
  const milestone = open[0];
  const scale = (name, from, to, legend) => h("fieldset", { class: "scale", "aria-label": legend }, h("legend", {}, legend),
    h("div", { class: "scale-options" }, Array.from({ length: to - from + 1 }, (_, i) => from + i).map((v) =>
      h("label", { class: "scale-option" }, h("input", { type: "radio", name, value: String(v), required: true, "data-value": v }), h("span", {}, String(v))))));
  const comment = h("textarea", { id: "fb-comment", name: "comment", maxlength: 4000, rows: 3, "aria-label": t("comment") });
  const msg = h("div", { id: "fb-msg" });
  const send = h("button", { class: "primary", type: "submit", id: "fb-send" }, t("send"));
  const form = h("form", { id: "feedback-form", "data-milestone": milestone, "aria-label": t("feedback"), onsubmit: async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    send.disabled = true;
    send.textContent = t("sending");
    try {
      await api(`cases/${enc(c.id)}/feedback`, { method: "POST", body: { milestone, satisfaction: Number(data.get("satisfaction")),
        would_recommend: Number(data.get("would_recommend")), comment: comment.value.trim() || null } });
      toast(t("thanks"), t(`milestone.${milestone}`));
      reload();
    } catch (err) {
      send.disabled = false;
      send.textContent = t("send");
      mount(msg, errorBox(err));
    }
  } },
  h("p", { style: { marginTop: 0 } }, t("about"), h("strong", {}, t(`milestone.${milestone}`))),
  scale("satisfaction", 1, 5, t("satisfaction")),
  scale("would_recommend", 0, 10, t("recommend")),
  h("label", { for: "fb-comment" }, t("comment"), comment),
  h("div", { class: "actions", style: { marginTop: ".8rem" } }, send), msg);
  return h("div", {}, form, given);
}
