// Claims staff: one case (payment, claimant and loss, plan versions, timeline, notifications, recovery file,
// outcome and feedback, the risk report).
import { api, ApiError, items, maybe, qs, token } from "../../api.js";
import { h, mount, fmt, badge, empty, errorBox, toast, card } from "../../dom.js";
import { DEADLINE_OVER, DEADLINE_WARN_DAYS, STATUS_BADGE, dateStr, deadlineBadge, enc, kpi, lateness, money, timelineView } from "./common.js";
import { translator, vocabulary } from "./i18n.js";

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

export async function casePage(main, ctx, id) {
  const base = `cases/${enc(id)}`;
  const c = await api(base);
  if (!ctx.current()) return;
  const [plan, versions, timeline, notes, file, feedback, notice, job, vocab] = await Promise.all([
    maybe(`${base}/plan`, null, [404]), maybe(`${base}/plan/versions`, [], [404]), maybe(`${base}/timeline`, { entries: [] }, [404]),
    maybe(`${base}/notifications`, [], [404]), maybe(`${base}/subrogation`, null, [404]), maybe(`${base}/feedback`, [], [404]),
    maybe(`${base}/notice${qs({ lang: "en" })}`, null, [404]),
    c.job_id ? maybe(`repair-jobs/${enc(c.job_id)}`, null, [403, 404]) : null, vocabulary("en"),
  ]);
  if (!ctx.current()) return;
  const alertPage = await maybe(`alerts${qs({ state: "active", limit: 1000 })}`, null, [403, 404]);
  const alerts = items(alertPage).filter((a) => (c.job_id && a.job_id === c.job_id) || (c.patient_id && a.patient_id === c.patient_id) || a.subject === c.id);
  const late = lateness({ plan, job, alerts, kinds: vocab.alert_kinds });
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
      card("Timeline", timelineView(timeline.entries || [], translator("en", vocab), { staff: true }), { id: "case-timeline" }),
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
