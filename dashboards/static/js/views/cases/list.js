// Claims staff: the list of cases (services and their lateness, recovery deadlines, KPIs) and the NPS.
import { api, ApiError, items, maybe, qs } from "../../api.js";
import { h, mount, fmt, badge, empty, errorBox, card } from "../../dom.js";
import { DEADLINE_OVER, DEADLINE_WARN_DAYS, LINE_BADGE, deadlineBadge, enc, kpi, lateness, money, pool } from "./common.js";
import { vocabulary } from "./i18n.js";

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
async function enrich(c, alertsBy, kinds) {
  const [plan, file, job] = await Promise.all([
    maybe(`cases/${enc(c.id)}/plan`, null, [403, 404]),
    maybe(`cases/${enc(c.id)}/subrogation`, null, [403, 404]),
    c.job_id ? maybe(`repair-jobs/${enc(c.job_id)}`, null, [403, 404]) : null,
  ]);
  const alerts = [
    ...(alertsBy.get(`job:${c.job_id}`) || []), ...(alertsBy.get(`patient:${c.patient_id}`) || []),
    ...(alertsBy.get(`subject:${c.id}`) || []), ...((job && job.alerts) || []),
  ].filter((a, i, all) => all.findIndex((b) => b.id === a.id) === i && a.state !== "resolved");
  return { plan, file, job, alerts, late: lateness({ plan, job, alerts, kinds }) };
}

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
    const [alertPage, vocab] = await Promise.all([maybe(`alerts${qs({ state: "active", limit: 1000 })}`, null, [403, 404]), vocabulary("en")]);
    if (!ctx.current() || mine !== seq) return;
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
      const x = await enrich(c, alertsBy, vocab.alert_kinds).catch(() => ({ plan: null, file: null, job: null, alerts: [], late: new Map() }));
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
