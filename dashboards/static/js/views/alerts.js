// Alerts: a table with the lifecycle actions (acknowledge, resolve, shelve with a reason and a duration).
import { api, items, qs } from "../api.js";
import { h, mount, fmt, badge, empty, errorBox, toast } from "../dom.js";

const SEV = { critical: "bad", high: "bad", warning: "warn", medium: "warn", info: "info", low: "info" };
const STATE = { open: "bad", acknowledged: "warn", shelved: "info", resolved: "ok" };

/** A table of alerts; actions unless read-only. `reload` is called after an action. */
export function alertTable(list, { readOnly = false, reload, showSubject = true } = {}) {
  if (!list.length) return empty("No alerts", "Nothing needs attention right now.");
  return h("table", { class: "alerts", "aria-label": "Alerts" },
    h("thead", {}, h("tr", {}, h("th", {}, "Severity"), h("th", {}, "Alert"), showSubject ? h("th", {}, "Subject") : null,
      h("th", {}, "Opened"), h("th", {}, "State"), readOnly ? null : h("th", {}, "Actions"))),
    h("tbody", {}, list.map((a) => alertRow(a, { readOnly, reload, showSubject }))));
}

function subjectLink(a) {
  if (a.patient_id) return h("a", { href: `#/patients/${encodeURIComponent(a.patient_id)}` }, a.patient_id);
  if (a.job_id) return h("a", { href: `#/jobs/${encodeURIComponent(a.job_id)}` }, a.job_id);
  return a.subject || a.shop_id || "—";
}

function alertRow(a, { readOnly, reload, showSubject }) {
  const actions = h("div", { class: "actions" });
  const act = async (verb, body) => {
    try {
      await api(`alerts/${encodeURIComponent(a.id)}/${verb}`, { method: "POST", body });
      toast(`Alert ${verb === "ack" ? "acknowledged" : verb === "resolve" ? "resolved" : "shelved"}`, a.message);
      if (reload) reload();
    } catch (err) { mount(actions, errorBox(err)); }
  };
  const shelveForm = () => {
    const reason = h("input", { "aria-label": `Shelve reason for ${a.id}`, placeholder: "Reason", required: true });
    const dur = h("select", { "aria-label": "Shelve for" }, [["3600", "1 hour"], ["14400", "4 hours"], ["86400", "1 day"],
      ["604800", "1 week"]].map(([v, l]) => h("option", { value: v }, l)));
    mount(actions, h("form", { class: "actions", onsubmit: (ev) => { ev.preventDefault();
      act("shelve", { reason: reason.value || "shelved from dashboard", for_seconds: Number(dur.value) }); } },
    reason, dur, h("button", { type: "submit", class: "small primary" }, "Shelve"),
    h("button", { type: "button", class: "small", onclick: () => mount(actions, buttons()) }, "Cancel")));
    reason.focus();
  };
  // what this caller may do now, as the API says (`actions`): a shop acknowledges but never closes an alert about
  // its own quality or fraud
  const may = (verb) => (a.actions ? a.actions.includes(verb) : verb !== "ack" || a.state === "open");
  const buttons = () => [
    may("ack") && a.state === "open" ? h("button", { class: "small", "aria-label": `Acknowledge alert ${a.id}`, onclick: () => act("ack") }, "Ack") : null,
    may("resolve") && a.state !== "resolved" ? h("button", { class: "small", "aria-label": `Resolve alert ${a.id}`, onclick: () => act("resolve", { note: "resolved from dashboard" }) }, "Resolve") : null,
    may("shelve") && a.state !== "resolved" && a.state !== "shelved" ? h("button", { class: "small", "aria-label": `Shelve alert ${a.id}`, onclick: shelveForm }, "Shelve") : null,
  ];
  if (!readOnly) mount(actions, buttons());
  return h("tr", { "data-alert": a.id, "data-state": a.state },
    h("td", {}, badge(a.severity || "—", SEV[a.severity] || "")),
    h("td", {}, h("div", {}, h("strong", {}, fmt.label(a.kind))), h("div", { class: "small muted" }, a.message || ""),
      a.occurrences > 1 ? h("div", { class: "small muted" }, `${a.occurrences} occurrences`) : null),
    showSubject ? h("td", {}, subjectLink(a)) : null,
    h("td", { class: "small" }, fmt.time(a.opened_ms), h("div", { class: "muted" }, fmt.ago(a.opened_ms))),
    h("td", {}, badge(a.state, STATE[a.state] || ""), a.shelved_until_ms ? h("div", { class: "small muted" }, `until ${fmt.time(a.shelved_until_ms)}`) : null),
    readOnly ? null : h("td", {}, actions));
}

export async function alertsPage(main, ctx) {
  let filter = "active";
  const body = h("div", {}, h("p", { class: "loading" }, "Loading…"));
  const seg = h("div", { class: "seg", role: "group", "aria-label": "Alert state filter" });
  const load = async () => {
    mount(seg, ["active", "open", "acknowledged", "shelved", "resolved"].map((s) =>
      h("button", { class: filter === s ? "on" : "", "aria-pressed": String(filter === s), onclick: () => { filter = s; load(); } }, fmt.label(s))));
    try {
      const page = await api(`alerts${qs({ state: filter, limit: 200 })}`);
      if (!ctx.current()) return;
      mount(body, alertTable(items(page), { readOnly: ctx.me.role === "claimant", reload: load }),
        page.total > items(page).length ? h("p", { class: "small muted" }, `Showing ${items(page).length} of ${page.total}`) : null);
    } catch (err) { mount(body, errorBox(err)); }
  };
  mount(main, h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Alerts"), h("p", {}, "Everything the monitors raised for you, newest first.")), seg),
    h("section", { class: "card", id: "alerts" }, body));
  ctx.live((kind) => { if (kind.startsWith("alert")) load(); });
  await load();
}
