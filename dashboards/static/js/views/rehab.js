// Rehab: the manager's patient list and the patient page (charts, plan and versions, adjustments, alerts).
import { api, items, maybe, qs } from "../api.js";
import { h, mount, fmt, badge, empty, errorBox, toast, card, initials } from "../dom.js";
import { lineChart, barChart } from "../charts.js";
import { alertTable } from "./alerts.js";

const C = { hr: "#c0504d", spo2: "#3b6ea8", zone: "#2f7d4f", cap: "#b83c3c", steps: "#3c8f88", active: "#b7791f",
  reps: "#7a90c9", rom: "#6b5aa8" };

/** Adherence from whatever the metrics carry: a number, or an object of fractions. */
export function adherenceOf(m) {
  const a = m && m.adherence;
  if (a === undefined || a === null) return null;
  if (typeof a === "number") return a > 1 ? a / 100 : a;
  for (const k of ["overall", "score", "ratio", "fraction", "pct", "percent", "value"]) {
    if (typeof a[k] === "number") return a[k] > 1 ? a[k] / 100 : a[k];
  }
  const nums = Object.values(a).filter((v) => typeof v === "number" && v >= 0 && v <= 1);
  return nums.length ? nums.reduce((x, y) => x + y, 0) / nums.length : null;
}

export const sessionsOf = (m) => (m && (m.exercise_sessions || m.sessions)) || [];
const romOf = (s) => s.mean_rom_deg ?? s.rom_mean_deg ?? null;

async function lastData(pid) {
  const end = Date.now();
  const s = await maybe(`patients/${encodeURIComponent(pid)}/series/heart_rate${qs({ start: end - 86400e3, end, every: "5m" })}`, null, [404, 405, 422]);
  return s && s.t && s.t.length ? s.t[s.t.length - 1] : null;
}

export async function patientsPage(main, ctx) {
  const [page, alerts] = await Promise.all([api("patients?limit=200"), maybe("alerts?state=active&limit=500", { items: [] }, [403, 404])]);
  if (!ctx.current()) return;
  const open = new Map();
  for (const a of items(alerts)) if (a.patient_id) open.set(a.patient_id, (open.get(a.patient_id) || 0) + 1);
  const list = items(page);
  const grid = h("div", { class: "grid cols-3", id: "patient-list", role: "list", "aria-label": "Patients" });
  mount(main, h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Patients"),
    h("p", {}, `${list.length} patient${list.length === 1 ? "" : "s"} in rehabilitation${ctx.me.manager_id ? ` for manager ${ctx.me.manager_id}` : ""}`))),
  list.length ? grid : empty("No patients yet", "Patients assigned to you appear here once they are enrolled."));
  for (const p of list) {
    const stats = h("dl", { class: "stats" });
    const n = open.get(p.id) || 0;
    const tile = h("a", { class: "card tile", href: `#/patients/${encodeURIComponent(p.id)}`, role: "listitem",
      "data-patient": p.id, "aria-label": `Patient ${p.name} (${p.id})` },
    h("div", { class: "tile-head" }, h("div", { class: "avatar", "aria-hidden": "true" }, initials(p.name)),
      h("div", { style: { flex: 1 } }, h("div", { class: "name" }, p.name), h("div", { class: "sub" }, `${p.id}${p.claim_id ? ` · ${p.claim_id}` : ""}`)),
      n ? badge(`${n} alert${n > 1 ? "s" : ""}`, "bad") : badge("No alerts", "ok")),
    stats);
    grid.append(tile);
    const fill = (adh, last, rhr) => mount(stats,
      h("div", {}, h("dt", {}, "Adherence"), h("dd", {}, adh === null ? "—" : fmt.pct(adh))),
      h("div", {}, h("dt", {}, "Resting HR"), h("dd", {}, rhr ? `${fmt.num(rhr)} bpm` : "—")),
      h("div", {}, h("dt", {}, "Last data"), h("dd", { "data-last": last || "" }, last ? fmt.ago(last) : "none")));
    fill(null, null, null);
    Promise.all([maybe(`patients/${encodeURIComponent(p.id)}/metrics`, { days: [] }, [403, 404, 405, 422]).catch(() => ({ days: [] })),
      lastData(p.id).catch(() => null)]).then(([m, last]) => {
      const days = (m && m.days) || [];
      const latest = days.length ? days[days.length - 1].metrics || {} : {};
      fill(adherenceOf(latest), last, latest.resting_hr);
    });
  }
  ctx.live((kind, data) => { if (kind === "alert" && data.patient_id) patientsPage(main, ctx); });
}

function kpi(label, value, unit, id) {
  return h("div", { class: "card kpi", id }, h("div", { class: "label" }, label), h("div", { class: "value" }, value, unit ? h("small", {}, unit) : null));
}

export async function patientPage(main, ctx, pid, { readOnly = false } = {}) {
  const enc = encodeURIComponent(pid);
  const patient = await api(`patients/${enc}`);
  if (!ctx.current()) return;
  const canDecide = !readOnly && ["admin", "rehab_manager"].includes(ctx.me.role);
  const slots = {
    kpis: h("div", { class: "grid kpis", id: "kpis" }),
    hr: h("div", {}, h("p", { class: "loading" }, "Loading…")), spo2: h("div", {}, h("p", { class: "loading" }, "Loading…")),
    activity: h("div", {}, h("p", { class: "loading" }, "Loading…")), exercise: h("div", {}, h("p", { class: "loading" }, "Loading…")),
    plan: h("div", {}, h("p", { class: "loading" }, "Loading…")), adjustments: h("div", {}, h("p", { class: "loading" }, "Loading…")),
    alerts: h("div", {}, h("p", { class: "loading" }, "Loading…")),
  };
  let hours = 6;
  const range = h("div", { class: "seg", role: "group", "aria-label": "Chart time range" });
  const drawRange = () => mount(range, [1, 6, 24].map((x) => h("button", { class: hours === x ? "on" : "", "aria-pressed": String(hours === x),
    onclick: () => { hours = x; drawRange(); loadVitals(); } }, `${x} h`)));
  drawRange();
  mount(main,
    h("div", { class: "page-head" }, h("div", {},
      readOnly ? null : h("div", { class: "crumbs" }, h("a", { href: "#/patients" }, "Patients"), " / ", pid),
      h("h1", { id: "patient-name" }, readOnly ? "My rehabilitation" : patient.name),
      h("p", {}, readOnly ? `${patient.name} · your progress, updated live` : `${patient.id}${patient.claim_id ? ` · claim ${patient.claim_id}` : ""}${patient.manager_id ? ` · manager ${patient.manager_id}` : ""}`)),
    range),
    slots.kpis,
    h("div", { class: "grid cols-2" },
      card("Heart rate", slots.hr, { id: "chart-hr" }),
      card("Blood oxygen (SpO₂)", slots.spo2, { id: "chart-spo2" }),
      card("Daily steps and active minutes", slots.activity, { id: "chart-activity" }),
      card("Exercise: repetitions and range of motion", slots.exercise, { id: "chart-exercise" })),
    h("div", { class: "grid cols-2 section" },
      card("Rehab plan", slots.plan, { id: "plan" }),
      readOnly ? null : card("Proposed adjustments", slots.adjustments, { id: "adjustments" })),
    readOnly ? null : h("div", { class: "section" }, card("Alerts", slots.alerts, { id: "patient-alerts" })));

  let plan = null;
  const loadPlan = async () => {
    const [current, versions] = await Promise.all([maybe(`patients/${enc}/plans/current`, null), maybe(`patients/${enc}/plans`, [])]);
    if (!ctx.current()) return;
    plan = current;
    mount(slots.plan, planView(current, items(versions), readOnly));
  };
  const loadVitals = async () => {
    const end = Date.now(); const start = end - hours * 3600e3;
    const every = hours <= 1 ? "30s" : hours <= 6 ? "1m" : "5m";
    const get = (m, ev) => maybe(`patients/${enc}/series/${m}${qs({ start, end, every: ev })}`, null, [404, 405, 422]).catch((e) => ({ error: e }));
    let [hr, spo2] = await Promise.all([get("heart_rate", every), get("spo2", every)]);
    if (hr && hr.t && hr.t.length < 30) [hr, spo2] = await Promise.all([get("heart_rate", "5s"), get("spo2", "5s")]); // little data yet: finer buckets
    if (!ctx.current()) return;
    const zone = plan && (plan.hr_zone_bpm || zoneFromContent(plan.content));
    const cap = plan && plan.content && plan.content.medical && plan.content.medical.hr_cap_bpm;
    mount(slots.hr, seriesChart(hr, {
      id: "hr-chart", title: "Heart rate", unit: "bpm", color: C.hr, label: "heart rate", t0: start, t1: end,
      bands: zone ? [{ lo: zone[0], hi: zone[1], color: C.zone, label: `plan zone ${fmt.num(zone[0])}–${fmt.num(zone[1])} bpm` }] : [],
      rules: cap ? [{ y: cap, color: C.cap, label: `cap ${fmt.num(cap)} bpm` }] : [] }));
    mount(slots.spo2, seriesChart(spo2, { id: "spo2-chart", title: "SpO2", unit: "%", color: C.spo2, label: "SpO₂", t0: start, t1: end,
      rules: [{ y: 90, color: C.cap, label: "90 %" }], yMax: 100 }));
    const last = Math.max(hr && hr.t && hr.t.length ? hr.t[hr.t.length - 1] : 0, spo2 && spo2.t && spo2.t.length ? spo2.t[spo2.t.length - 1] : 0);
    const lastEl = document.getElementById("kpi-last");
    if (lastEl && last) lastEl.querySelector(".value").textContent = fmt.ago(last);
  };
  const loadDaily = async () => {
    const m = await maybe(`patients/${enc}/metrics`, { days: [] }, [404, 405]).catch((e) => ({ days: [], error: e }));
    if (!ctx.current()) return;
    const days = (m && m.days) || [];
    const latest = days.length ? days[days.length - 1].metrics || {} : {};
    const adh = adherenceOf(latest);
    mount(slots.kpis,
      kpi("Resting HR", fmt.num(latest.resting_hr), "bpm", "kpi-rhr"),
      kpi("HRV (RMSSD)", fmt.num(latest.rmssd_ms), "ms", "kpi-hrv"),
      kpi("Steps today", fmt.num(latest.steps), "", "kpi-steps"),
      kpi("Adherence", adh === null ? "—" : fmt.pct(adh), "", "kpi-adherence"),
      kpi("Below 90 % SpO₂", fmt.num(latest.minutes_below_90, 1), "min", "kpi-desat"),
      kpi("Last data", "—", "", "kpi-last"));
    if (m && m.error) { mount(slots.activity, errorBox(m.error)); mount(slots.exercise, errorBox(m.error)); return; }
    const labels = days.map((d) => fmt.day(Date.parse(`${d.day}T12:00:00`)));
    mount(slots.activity, days.length ? barChart({ id: "activity-chart", title: "Daily steps and active minutes", labels,
      bars: [{ label: "steps", color: C.steps, values: days.map((d) => num((d.metrics || {}).steps)) }],
      line: { label: "active minutes", color: C.active, unit: "min", values: days.map((d) => num((d.metrics || {}).active_minutes)) } })
      : empty("No daily metrics yet", "Daily steps and active minutes appear after the first day of wear."));
    const weeks = byWeek(days);
    mount(slots.exercise, weeks.length ? barChart({ id: "exercise-chart", title: "Reps and range of motion per week", labels: weeks.map((w) => w.label),
      bars: [{ label: "repetitions", color: C.reps, values: weeks.map((w) => w.reps) }],
      line: { label: "mean range of motion", color: C.rom, unit: "°", values: weeks.map((w) => w.rom) } })
      : empty("No exercise sessions yet", "Brace sessions (reps and range of motion) appear here week by week."));
  };
  const loadAdjustments = async () => {
    if (readOnly) return;
    const list = items(await maybe(`patients/${enc}/plan-adjustments${qs({ state: "proposed" })}`, []));
    if (!ctx.current()) return;
    mount(slots.adjustments, adjustmentList(list, canDecide, async () => { await loadPlan(); await loadAdjustments(); loadVitals(); }));
  };
  const loadAlerts = async () => {
    if (readOnly) return;
    const page = await maybe(`alerts${qs({ state: "active", limit: 500 })}`, { items: [] }, [403, 404]);
    if (!ctx.current()) return;
    mount(slots.alerts, alertTable(items(page).filter((a) => a.patient_id === pid), { readOnly: !canDecide && !ctx.staff, reload: loadAlerts, showSubject: false }));
  };
  await loadPlan().catch((err) => mount(slots.plan, errorBox(err)));
  await Promise.all([loadVitals(), loadDaily(), loadAdjustments(), loadAlerts()].map((p) => p.catch((err) => console.error(err))));
  ctx.every(30000, () => { loadVitals(); });
  ctx.live((kind, data) => {
    if (data.patient_id && data.patient_id !== pid) return;
    if (kind.startsWith("alert")) loadAlerts();
    if (kind.startsWith("adjustment")) loadAdjustments();
    if (kind === "plan_version" || kind === "adjustment_approved") loadPlan();
  });
}

const num = (v) => (v === null || v === undefined ? NaN : Number(v));

function zoneFromContent(content) {
  const z = content && content.medical && content.medical.hr_zone;
  if (!z || z.lo === undefined) return null;
  return z.hi > 1.5 ? [z.lo, z.hi] : null; // fractions of reserve need the patient's figures: the API gives hr_zone_bpm
}

function byWeek(days) {
  const weeks = new Map();
  for (const d of days) {
    const ss = sessionsOf(d.metrics || {});
    if (!ss.length) continue;
    const t = new Date(`${d.day}T00:00:00`);
    const monday = new Date(t); monday.setDate(t.getDate() - ((t.getDay() + 6) % 7));
    const key = monday.toISOString().slice(0, 10);
    const w = weeks.get(key) || { label: `wk ${fmt.day(monday.getTime())}`, reps: 0, roms: [] };
    for (const s of ss) {
      w.reps += Number(s.reps) || 0;
      const r = romOf(s); if (r !== null) w.roms.push(Number(r));
    }
    weeks.set(key, w);
  }
  return [...weeks.entries()].sort().map(([, w]) => ({ ...w, rom: w.roms.length ? w.roms.reduce((a, b) => a + b, 0) / w.roms.length : NaN }));
}

function seriesChart(data, o) {
  if (data && data.error) return errorBox(data.error);
  if (!data || !data.t || !data.t.length) return empty("No data in this window", "The wearable has not sent this signal recently.");
  const vals = data.values.map((v) => (Array.isArray(v) ? v[0] : v));
  const t0 = Math.max(o.t0, data.t[0] - 5 * 60e3); // zoom in when the data is younger than the window
  return lineChart({ id: o.id, title: o.title, unit: o.unit, t0, t1: o.t1, yMax: o.yMax, bands: o.bands, rules: o.rules,
    series: [{ t: data.t, v: vals, color: o.color, label: o.label }] });
}

function planView(plan, versions, readOnly) {
  if (!plan) return empty("No plan yet", "A rehab plan appears once the manager creates one.");
  const c = plan.content || {};
  const med = c.medical || {};
  const ex = Array.isArray(med.exercises) ? med.exercises : [];
  const zone = plan.hr_zone_bpm;
  const listOf = (x) => {
    if (!x) return null;
    if (Array.isArray(x)) return h("ul", { class: "changes" }, x.map((i) => h("li", {}, typeof i === "object" ? describe(i) : String(i))));
    if (typeof x === "object") return h("dl", { class: "kv small" }, Object.entries(x).map(([k, v]) => [h("dt", {}, fmt.label(k)), h("dd", {}, Array.isArray(v) ? h("ul", { class: "changes", style: { margin: 0 } }, v.map((i) => h("li", {}, describe(i)))) : typeof v === "object" ? describe(v) : String(v))]));
    return h("p", { class: "small" }, String(x));
  };
  return h("div", {},
    h("div", { class: "row" }, h("div", {}, badge(`version ${plan.version}`, "brand"), " ", h("span", { id: "plan-version", "data-version": plan.version, class: "small muted" }, `v${plan.version} · ${fmt.time(plan.created_ms)} by ${plan.created_by}`))),
    h("p", { class: "small muted" }, plan.reason),
    h("dl", { class: "kv" },
      h("dt", {}, "Heart-rate zone"), h("dd", {}, zone ? `${fmt.num(zone[0])}–${fmt.num(zone[1])} bpm` : med.hr_zone ? `${fmt.num(med.hr_zone.lo * 100)}–${fmt.num(med.hr_zone.hi * 100)} % of reserve` : "—"),
      h("dt", {}, "Heart-rate cap"), h("dd", {}, med.hr_cap_bpm ? `${fmt.num(med.hr_cap_bpm)} bpm` : "—"),
      med.daily_steps_target || med.steps_target ? [h("dt", {}, "Daily steps target"), h("dd", {}, fmt.num(med.daily_steps_target || med.steps_target))] : null),
    h("h3", { style: { marginTop: ".8rem" } }, "Exercises"),
    ex.length ? h("table", { "aria-label": "Exercises" }, h("thead", {}, h("tr", {}, h("th", {}, "Exercise"), h("th", {}, "Prescription"))),
      h("tbody", {}, ex.map((e) => h("tr", {}, h("td", {}, fmt.label(e.name || e.id || "exercise")), h("td", { class: "small" }, describe(e, ["name", "id"]))))))
      : h("p", { class: "small muted" }, "No exercises prescribed."),
    c.psychological ? [h("h3", { style: { marginTop: ".8rem" } }, "Psychological"), listOf(c.psychological)] : null,
    c.daily_life ? [h("h3", { style: { marginTop: ".8rem" } }, "Daily life"), listOf(c.daily_life)] : null,
    versions.length > 1 || !readOnly ? h("details", { style: { marginTop: ".8rem" }, id: "plan-versions" }, h("summary", {}, `All versions (${versions.length})`),
      h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Version"), h("th", {}, "When"), h("th", {}, "By"), h("th", {}, "Why"))),
        h("tbody", {}, [...versions].sort((a, b) => b.version - a.version).map((v) => h("tr", {}, h("td", {}, `v${v.version}`),
          h("td", { class: "small" }, fmt.time(v.created_ms)), h("td", { class: "small" }, v.created_by), h("td", { class: "small" }, v.reason)))))) : null);
}

function describe(o, skip = []) {
  if (o === null || o === undefined) return "—";
  if (typeof o !== "object") return String(o);
  if (Array.isArray(o)) return o.map((x) => describe(x)).join(", ");
  return Object.entries(o).filter(([k]) => !skip.includes(k)).map(([k, v]) => `${fmt.label(k).toLowerCase()}: ${typeof v === "object" ? describe(v) : v}`).join(" · ");
}

function change(c) {
  if (typeof c === "string") return c;
  if (c && typeof c === "object") {
    const what = c.field || c.path || c.item || c.name || c.target;
    if (what && ("from" in c || "to" in c || "old" in c || "new" in c)) return `${fmt.label(String(what))}: ${c.from ?? c.old ?? "—"} → ${c.to ?? c.new ?? "—"}${c.reason ? ` (${c.reason})` : ""}`;
    return describe(c);
  }
  return String(c);
}

function adjustmentList(list, canDecide, after) {
  if (!list.length) return empty("No proposals waiting", "The monitors propose plan changes from the week's data; they appear here for your decision.");
  return h("ul", { class: "list" }, list.map((a) => {
    const note = h("input", { "aria-label": `Decision note for adjustment ${a.id}`, placeholder: "Note (optional)" });
    const msg = h("div", {});
    const decide = async (verb) => {
      try {
        await api(`plan-adjustments/${encodeURIComponent(a.id)}/${verb}`, { method: "POST", body: { note: note.value || null } });
        toast(verb === "approve" ? "Adjustment approved" : "Adjustment rejected", verb === "approve" ? "A new plan version is in force." : a.rationale);
        await after();
      } catch (err) { mount(msg, errorBox(err)); }
    };
    const dir = String(a.direction || "change");
    return h("li", { "data-adjustment": a.id },
      h("div", { class: "row" }, h("div", {}, badge(fmt.label(dir), /up|progress|increase/.test(dir) ? "ok" : /down|regress|decrease|pause/.test(dir) ? "warn" : "info"),
        " ", h("span", { class: "small muted" }, `based on v${a.base_version} · ${fmt.ago(a.created_ms)}`))),
      h("p", { style: { margin: ".5rem 0" } }, a.rationale),
      (a.changes || []).length ? h("ul", { class: "changes" }, a.changes.map((c) => h("li", {}, change(c)))) : null,
      canDecide ? h("div", { class: "actions" }, note,
        h("button", { class: "primary", "aria-label": `Approve adjustment ${a.id}`, "data-action": "approve", onclick: () => decide("approve") }, "Approve"),
        h("button", { class: "danger", "aria-label": `Reject adjustment ${a.id}`, "data-action": "reject", onclick: () => decide("reject") }, "Reject"))
        : h("p", { class: "small muted" }, "Only the rehab manager decides."),
      msg);
  }));
}
