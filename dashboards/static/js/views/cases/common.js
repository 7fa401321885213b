// What the cases pages share: money and dates, small widgets, lateness of services and the case timeline.
import { h, fmt, badge, empty } from "../../dom.js";

export const DEADLINE_WARN_DAYS = 90;
export const DEADLINE_CRITICAL_DAYS = 30;
/** Recovery stages in which the limitation deadline no longer matters. */
export const DEADLINE_OVER = new Set(["recovered", "closed"]);
export const LINE_BADGE = { motor: "info", health: "brand", property: "warn" };
export const STATUS_BADGE = { pending: "", active: "info", done: "ok" };
export const enc = encodeURIComponent;

export function money(v, cur, locale) {
  if (v === undefined || v === null || Number.isNaN(Number(v))) return "—";
  try {
    return new Intl.NumberFormat(locale, { style: "currency", currency: cur || "XXX", currencyDisplay: "code" }).format(Number(v));
  } catch {
    return `${fmt.num(v, 2)} ${cur || ""}`.trim();
  }
}

/** Epoch ms from ms, an RFC 3339 string or a YYYY-MM-DD date (end of that day); null otherwise. */
export function toMs(v) {
  if (v === undefined || v === null || v === "") return null;
  if (typeof v === "number") return v;
  const s = String(v);
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(s) ? `${s}T23:59:59` : s);
  return Number.isNaN(ms) ? null : ms;
}

/** A date with the year, short month (staff pages): "Jan 13, 2027". */
export function dateStr(v) {
  const ms = toMs(v);
  return ms ? new Date(ms).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" }) : "—";
}

/** Run `fn` over `list` with at most `n` requests at a time. */
export async function pool(list, n, fn) {
  const out = new Array(list.length);
  let next = 0;
  const worker = async () => { while (next < list.length) { const i = next++; out[i] = await fn(list[i], i); } };
  await Promise.all(Array.from({ length: Math.min(n, list.length) }, worker));
  return out;
}

export function kpi(label, value, sub, id) {
  return h("div", { class: "card kpi", id }, h("div", { class: "label" }, label), h("div", { class: "value" }, value),
    sub ? h("div", { class: "small muted" }, sub) : null);
}

export function deadlineBadge(file) {
  if (!file) return h("span", { class: "muted small" }, "no recovery file");
  if (DEADLINE_OVER.has(file.stage)) return h("span", { class: "small muted" }, `${fmt.label(file.stage)}`);
  const d = file.days_to_deadline;
  const kind = d <= DEADLINE_CRITICAL_DAYS ? "bad" : d <= DEADLINE_WARN_DAYS ? "warn" : "ok";
  return h("span", { class: "deadline", "data-days": d, "data-near": String(d <= DEADLINE_WARN_DAYS) },
    badge(d < 0 ? `${-d} days past` : `${d} days left`, kind),
    h("div", { class: "small muted" }, `${fmt.label(file.stage)} · ${dateStr(file.deadline_ms)}`));
}


// --- lateness ------------------------------------------------------------------------------------

/**
 * Which services of a case are late, and why: an item detail's due/expected date passed, a rehab
 * milestone's target date passed, the repair promised earlier than it is (or will be) done, or an
 * alert of a kind flagged `late` (stall, SLA breach, long hold) active on the repair job. `kinds` is the
 * vocabulary's `alert_kinds` (GET /vocabulary). Returns Map(key -> [reasons]).
 */
export function lateness({ plan, job, alerts = [], kinds = {}, now = Date.now() }) {
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
    const kind = kinds[a.kind];
    if (a.state !== "resolved" && kind && kind.late) add(a.job_id ? "repair" : "rehab", `${kind.label}: ${a.message || ""}`);
  }
  return late;
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

export function timelineView(all, t, { staff = false, titles = new Map(), payment = null } = {}) {
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
