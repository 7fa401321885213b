// Repair: the job board by stage, the job page, the spot-check queue, shop scorecards and the shop recommendation form.
import { api, ApiError, blobUrl, items, maybe, qs } from "../api.js";
import { h, mount, fmt, badge, empty, errorBox, toast, card } from "../dom.js";
import { alertTable } from "./alerts.js";

export const STAGES = ["intake", "estimate", "parts_ordered", "disassembly", "structural", "body", "paint", "reassembly",
  "adas_calibration", "quality_check", "detail", "ready", "delivered"];
const KNOWN = "aftercare.knownJobs";

const remember = (ids) => {
  const known = new Set(JSON.parse(sessionStorage.getItem(KNOWN) || "[]"));
  for (const id of ids) if (id) known.add(id);
  sessionStorage.setItem(KNOWN, JSON.stringify([...known].slice(-200)));
  return [...known];
};

const activeAlerts = (job) => (job.alerts || []).filter((a) => a.state !== "resolved");
const vehicle = (v) => (v ? `${v.make || ""} ${v.model || ""}${v.year ? ` (${v.year})` : ""}`.trim() : "vehicle");

/** Jobs the caller sees: GET /repair-jobs when the server has it, else the jobs named by alerts and pages seen. */
async function loadJobs(ctx) {
  let listed = null;
  try {
    listed = await api(`repair-jobs${qs({ limit: 200, shop_id: ctx.me.role === "shop" ? ctx.me.shop_id : undefined })}`);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) throw err;
    console.warn("no job list from the server, using the jobs named by alerts", err);
  }
  if (listed) {
    const list = items(listed);
    if (list.length && list[0].timeline !== undefined) return { jobs: list, complete: true };
    return { jobs: await fetchAll(list.map((j) => j.id)), complete: true };
  }
  const alerts = await maybe("alerts?limit=500", { items: [] }, [403, 404]);
  const ids = remember([...items(alerts).map((a) => a.job_id), ctx.me.job_id]);
  return { jobs: await fetchAll(ids), complete: false };
}

async function fetchAll(ids) {
  const got = await Promise.all(ids.map((id) => api(`repair-jobs/${encodeURIComponent(id)}`).catch(() => null)));
  return got.filter(Boolean);
}

export async function boardPage(main, ctx) {
  const { jobs, complete } = await loadJobs(ctx);
  if (!ctx.current()) return;
  const cols = new Map([["waiting", []]]);
  const used = new Set(jobs.flatMap((j) => j.required_stages || []));
  for (const s of STAGES) if (used.has(s) || !jobs.length) cols.set(s, []);
  for (const j of jobs) {
    const key = j.current_stage || "waiting";
    if (!cols.has(key)) cols.set(key, []);
    cols.get(key).push(j);
  }
  const stalls = jobs.filter((j) => j.on_hold || activeAlerts(j).length).length;
  const jump = h("form", { class: "actions", "aria-label": "Open a job by id", onsubmit: (ev) => { ev.preventDefault();
    const v = ev.target.elements.job.value.trim(); if (v) location.hash = `#/jobs/${encodeURIComponent(v)}`; } },
  h("input", { name: "job", placeholder: "Job id, e.g. J-sim-11", "aria-label": "Job id" }), h("button", { type: "submit" }, "Open"));
  mount(main,
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Repair jobs"),
      h("p", {}, `${jobs.length} job${jobs.length === 1 ? "" : "s"} · ${stalls} need${stalls === 1 ? "s" : ""} attention`)), jump),
    complete ? null : h("p", { class: "note" }, "This server has no job list yet: the board shows the jobs named by alerts and the jobs you opened."),
    jobs.length ? h("div", { class: "board", id: "job-board", "aria-label": "Job board by stage" },
      [...cols.entries()].filter(([k, v]) => v.length || k !== "waiting").map(([stage, list]) =>
        h("section", { class: "column", "data-stage": stage, "aria-label": `Stage ${fmt.label(stage)}` },
          h("h2", {}, h("span", {}, fmt.label(stage)), h("span", {}, String(list.length))),
          list.map(jobCard))))
      : empty("No jobs to show", "Repair jobs appear here when claims are assigned to a shop."));
  ctx.live((kind, data) => {
    if (data.job_id) remember([data.job_id]);
    if (kind === "stage_change" || kind.startsWith("alert")) boardPage(main, ctx);
  });
}

function jobCard(j) {
  const al = activeAlerts(j);
  return h("a", { class: `job-card ${al.length ? "alerting" : ""} ${j.on_hold ? "held" : ""}`, href: `#/jobs/${encodeURIComponent(j.id)}`,
    "data-job": j.id, "aria-label": `Job ${j.id}${al.length ? `, ${al.length} active alerts` : ""}` },
  h("div", { class: "row" }, h("span", { class: "title" }, j.id), badge(j.severity, { minor: "info", moderate: "warn", severe: "bad" }[j.severity] || "")),
  h("div", { class: "sub" }, `${vehicle(j.vehicle)} · ${j.shop_id}`),
  h("div", { class: "progress", role: "progressbar", "aria-valuenow": Math.round((j.progress || 0) * 100), "aria-valuemin": 0, "aria-valuemax": 100 },
    h("span", { style: { width: `${Math.round((j.progress || 0) * 100)}%` } })),
  h("div", { class: "row sub" }, h("span", {}, `${Math.round((j.progress || 0) * 100)}%`), h("span", {}, j.predicted_ms ? `due ${fmt.time(j.predicted_ms)}` : "")),
  j.on_hold ? h("div", { style: { marginTop: ".35rem" } }, badge(`On hold: ${j.hold_reason || "—"}`, "warn")) : null,
  al.length ? h("div", { style: { marginTop: ".35rem" } }, badge(`${al.length} alert${al.length > 1 ? "s" : ""}: ${fmt.label(al[0].kind)}`, "bad")) : null);
}

export async function jobPage(main, ctx, id, { readOnly = false } = {}) {
  const job = await api(`repair-jobs/${encodeURIComponent(id)}`);
  if (!ctx.current()) return;
  remember([job.id]);
  const pct = Math.round((job.progress || 0) * 100);
  const req = job.required_stages || [];
  const reported = [...(job.timeline || [])].reverse().find((e) => e.stage && /stage/.test(e.event));
  const stage = job.current_stage || (reported ? reported.stage : null);
  const cur = req.indexOf(stage);
  const late = job.promised_ms && job.predicted_ms && job.predicted_ms > job.promised_ms;
  const st = job.state || {};
  const photos = h("div", { class: "photos", id: "photos", "aria-label": "Checkpoint photos" });
  const alertsBox = h("div", {});
  mount(main,
    h("div", { class: "page-head" }, h("div", {},
      readOnly ? null : h("div", { class: "crumbs" }, h("a", { href: "#/jobs" }, "Job board"), " / ", job.id),
      h("h1", { id: "job-title" }, readOnly ? `Your ${vehicle(job.vehicle)}` : `${job.id} · ${vehicle(job.vehicle)}`),
      h("p", {}, `Claim ${job.claim_id} · shop ${job.shop_id} · ${job.severity} damage`)),
    job.delivered_ms ? badge("Delivered", "ok") : job.on_hold ? badge(`On hold: ${job.hold_reason || ""}`, "warn") : badge(fmt.label(stage || "waiting"), "brand")),
    h("section", { class: "card", id: "job-progress", "aria-label": "Repair progress" },
      h("div", { class: "row" }, h("div", {}, h("h3", {}, "Progress"), h("div", { style: { fontSize: "1.6rem", fontWeight: 700 }, id: "job-percent" }, `${pct}%`)),
        h("dl", { class: "kv" },
          h("dt", {}, "Current stage"), h("dd", { id: "job-stage" }, fmt.label(stage || "not started"), !job.current_stage && stage ? h("span", { class: "muted small" }, " (reported)") : null),
          h("dt", {}, "Predicted completion"), h("dd", { id: "job-predicted" }, job.delivered_ms ? `delivered ${fmt.time(job.delivered_ms)}` : fmt.time(job.predicted_ms), late ? [" ", badge("later than promised", "bad")] : null),
          job.promised_ms ? [h("dt", {}, "Promised"), h("dd", {}, fmt.time(job.promised_ms))] : null)),
      h("div", { class: "progress big", role: "progressbar", "aria-label": "Repair progress", "aria-valuenow": pct, "aria-valuemin": 0, "aria-valuemax": 100 },
        h("span", { style: { width: `${pct}%` } })),
      h("ol", { class: "stepper", "aria-label": "Repair stages" }, req.map((s, i) => h("li", {
        class: job.delivered_ms || i < cur ? "done" : i === cur ? "current" : "", "aria-current": i === cur ? "step" : null }, fmt.label(s))))),
    h("div", { class: "grid cols-2 section" },
      card("Checkpoint photos", photos, { id: "job-photos" }),
      card("Timeline", timeline(job.timeline || []), { id: "job-timeline" }),
      card("Repair details", h("dl", { class: "kv" },
        h("dt", {}, "Vehicle"), h("dd", {}, `${vehicle(job.vehicle)}${job.vehicle && job.vehicle.plate ? ` · ${job.vehicle.plate}` : ""}`),
        h("dt", {}, "Drivable"), h("dd", {}, job.vehicle && job.vehicle.drivable ? "yes" : "no"),
        h("dt", {}, "Warranty"), h("dd", { id: "job-warranty" }, warranty(st.warranty)),
        h("dt", {}, "Courtesy car"), h("dd", {}, st.courtesy_car === undefined ? "—" : describe(st.courtesy_car)),
        Object.entries(st).filter(([k]) => !["warranty", "courtesy_car"].includes(k)).map(([k, v]) => [h("dt", {}, fmt.label(k)), h("dd", {}, describe(v))])),
      { id: "job-details" }),
      card("Alerts", alertsBox, { id: "job-alerts" })));
  mount(alertsBox, alertTable(job.alerts || [], { readOnly: true, showSubject: false }));
  if (!readOnly && ctx.me.role !== "claimant") {
    maybe(`alerts${qs({ limit: 200 })}`, null, [403, 404]).then((p) => {
      if (p && ctx.current()) mount(alertsBox, alertTable(items(p).filter((a) => a.job_id === job.id && a.state !== "resolved"), { reload: () => jobPage(main, ctx, id), showSubject: false }));
    }).catch(() => {});
  }
  renderPhotos(photos, job.photos || []);
  ctx.live((kind, data) => { if (data.job_id === job.id) jobPage(main, ctx, id, { readOnly }); });
}

function describe(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v !== "object") return String(v);
  return Object.entries(v).map(([k, x]) => `${fmt.label(k).toLowerCase()}: ${k.endsWith("_ms") ? fmt.time(x) : typeof x === "object" ? JSON.stringify(x) : x}`).join(" · ");
}

function warranty(w) {
  if (!w) return "—";
  if (typeof w !== "object") return String(w);
  const until = w.until_ms || w.expires_ms || w.end_ms;
  return `${w.months ? `${w.months} months` : ""}${until ? ` until ${fmt.day(until)}` : ""}${w.terms ? ` · ${w.terms}` : ""}` || describe(w);
}

function timeline(list) {
  if (!list.length) return empty("Nothing yet", "The shop's gateway reports each stage as the work moves on.");
  return h("ol", { class: "timeline", "aria-label": "Job timeline" }, [...list].reverse().map((e) =>
    h("li", { class: /hold/.test(e.event) ? "hold" : /alert|stall/.test(e.event) ? "alert" : "" },
      h("time", {}, fmt.time(e.at_ms)),
      h("strong", {}, fmt.label(e.event)), e.stage ? ` · ${fmt.label(e.stage)}` : "", e.progress !== null && e.progress !== undefined ? h("span", { class: "muted" }, ` · ${Math.round(e.progress * 100)}%`) : null,
      e.note || e.reason ? h("div", { class: "small muted" }, [e.note, e.reason].filter(Boolean).join(" — ")) : null)));
}

function renderPhotos(box, photos) {
  if (!photos.length) {
    box.classList.remove("photos");
    mount(box, empty("No photos yet", "Checkpoint photos arrive with the stages that need evidence."));
    return;
  }
  mount(box, photos.map((p) => {
    const img = h("img", { alt: `${fmt.label(p.stage)} photo taken ${fmt.time(p.taken_ms)}`, "data-photo": p.id, loading: "lazy" });
    blobUrl(p.url).then((u) => { img.src = u; }).catch(() => { img.alt = "photo unavailable"; });
    const flags = p.flags || [];
    return h("figure", { class: `photo ${flags.length ? "flagged" : ""}` }, img,
      h("figcaption", {}, h("div", { class: "row" }, h("strong", {}, fmt.label(p.stage)), h("span", { class: "muted" }, fmt.time(p.taken_ms))),
        h("div", { class: "actions" }, !p.checked ? badge("checking…", "info") : flags.length ? flags.map((f) => badge(fmt.label(f), "bad")) : badge("quality ok", "ok"))));
  }));
}

export async function spotChecksPage(main, ctx) {
  const body = h("div", {}, h("p", { class: "loading" }, "Loading…"));
  mount(main, h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Spot checks"), h("p", {}, "Jobs picked for a check of the work; record whether it passed."))),
    h("section", { class: "card", id: "spot-checks" }, body));
  const load = async () => {
    let page;
    try {
      page = await api(`spot-checks${qs({ state: "pending" })}`);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) { mount(body, empty("Spot checks are not available", "This server does not offer the spot-check queue yet.")); return; }
      mount(body, errorBox(err)); return;
    }
    if (!ctx.current()) return;
    const list = items(page);
    if (!list.length) { mount(body, empty("Queue is empty", "No spot checks are waiting.")); return; }
    mount(body, h("ul", { class: "list" }, list.map((c) => {
      const note = h("input", { placeholder: "Note", "aria-label": `Note for spot check ${c.id}` });
      const msg = h("div", {});
      const send = async (passed) => {
        try {
          await api(`spot-checks/${encodeURIComponent(c.id)}/result`, { method: "POST", body: { passed, note: note.value || null } });
          toast(passed ? "Spot check passed" : "Spot check failed", c.job_id || c.id); load();
        } catch (err) { mount(msg, errorBox(err)); }
      };
      return h("li", { "data-spot-check": c.id }, h("div", { class: "row" },
        h("div", {}, h("strong", {}, c.job_id ? h("a", { href: `#/jobs/${encodeURIComponent(c.job_id)}` }, c.job_id) : c.id),
          h("div", { class: "small muted" }, [c.shop_id && `shop ${c.shop_id}`, c.stage && fmt.label(c.stage), c.reason, (c.created_ms || c.requested_ms) && fmt.ago(c.created_ms || c.requested_ms)].filter(Boolean).join(" · "))),
        ctx.me.role === "claimant" ? null : h("div", { class: "actions" }, note,
          h("button", { class: "primary", "aria-label": `Pass spot check ${c.id}`, onclick: () => send(true) }, "Pass"),
          h("button", { class: "danger", "aria-label": `Fail spot check ${c.id}`, onclick: () => send(false) }, "Fail"))), msg);
    })));
  };
  await load();
}

export async function shopsPage(main, ctx) {
  const shops = items(await api("shops?limit=200"));
  if (!ctx.current()) return;
  const grid = h("div", { class: "grid cols-3", id: "scorecards" });
  mount(main, h("div", { class: "page-head" }, h("div", {}, h("h1", {}, ctx.me.role === "shop" ? "Scorecard" : "Shop scorecards"),
    h("p", {}, "Certified shops: capacity, certifications and how their repairs are going."))),
  shops.length ? grid : empty("No shops", "Certified shops appear here once registered."));
  for (const s of shops) {
    const score = h("div", {}, h("p", { class: "loading small" }, "Loading score…"));
    grid.append(h("section", { class: "card", "data-shop": s.id, "aria-label": `Shop ${s.name}` },
      h("div", { class: "row" }, h("h2", {}, s.name), s.certified === false ? badge("not certified", "bad") : badge("certified", "ok")),
      h("p", { class: "small muted", style: { marginTop: 0 } }, `${s.id} · ${(s.makes || []).join(", ")} · capacity ${s.capacity ?? "—"} · ${(s.severities || []).join(", ")}`),
      s.last_heartbeat_ms !== undefined ? h("p", { class: "small muted" }, `gateway seen ${fmt.ago(s.last_heartbeat_ms)}`) : null,
      score));
    maybe(`shops/${encodeURIComponent(s.id)}/score`, null, [403, 404, 405]).then((sc) => {
      if (!sc) { mount(score, h("p", { class: "small muted" }, "No scorecard yet.")); return; }
      const numbers = Object.entries(sc).filter(([k, v]) => typeof v === "number" && !k.endsWith("_ms") && k !== "shop_id");
      mount(score, h("dl", { class: "stats" }, numbers.slice(0, 9).map(([k, v]) => h("div", {}, h("dt", {}, fmt.label(k)),
        h("dd", {}, v <= 1 && /rate|ratio|share|score|pct|fraction/.test(k) ? fmt.pct(v) : fmt.num(v, 1))))));
    }).catch((err) => mount(score, errorBox(err)));
  }
}

export async function recommendPage(main, ctx) {
  const out = h("div", { id: "recommendations" }, empty("Find shops for a new claim", "Enter where the car is, its make and the damage severity."));
  const f = {
    lat: h("input", { name: "lat", type: "number", step: "any", value: "31.23", required: true, id: "rec-lat" }),
    lon: h("input", { name: "lon", type: "number", step: "any", value: "121.47", required: true, id: "rec-lon" }),
    make: h("input", { name: "make", value: "Toyota", required: true, id: "rec-make" }),
    severity: h("select", { name: "severity", id: "rec-severity" }, ["minor", "moderate", "severe"].map((s) => h("option", { value: s }, fmt.label(s)))),
  };
  const submit = async (ev) => {
    ev.preventDefault();
    mount(out, h("p", { class: "loading" }, "Scoring shops…"));
    try {
      const res = await api(`shops/recommendations${qs({ lat: f.lat.value, lon: f.lon.value, make: f.make.value, severity: f.severity.value })}`);
      const list = items(res);
      mount(out, list.length ? h("div", { class: "grid cols-3" }, list.map((r, i) => h("section", { class: "card", "data-shop": r.shop_id },
        h("div", { class: "row" }, h("h2", {}, `${i + 1}. ${r.name || r.shop_id}`), badge(`score ${fmt.num(r.score, 2)}`, "brand")),
        h("p", { class: "small muted", style: { marginTop: 0 } }, `${r.shop_id} · ${fmt.num(r.distance_km, 1)} km away`),
        h("ul", { class: "changes" }, (r.reasons || []).map((x) => h("li", {}, typeof x === "string" ? x : JSON.stringify(x)))))))
        : empty("No certified shop fits", "Try another make or severity."));
    } catch (err) { mount(out, errorBox(err)); }
  };
  mount(main, h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Recommend shops for a new claim"), h("p", {}, "The three best certified shops, scored on distance, certification, capacity and track record."))),
    h("form", { class: "card", id: "recommend-form", "aria-label": "Shop recommendation", onsubmit: submit },
      h("div", { class: "form-row" }, h("label", { for: "rec-lat" }, "Latitude", f.lat), h("label", { for: "rec-lon" }, "Longitude", f.lon),
        h("label", { for: "rec-make" }, "Vehicle make", f.make), h("label", { for: "rec-severity" }, "Severity", f.severity),
        h("button", { class: "primary", type: "submit" }, "Recommend"))),
    h("div", { class: "section" }, out));
  return ctx;
}
