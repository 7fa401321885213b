// The dashboards' entry point: who is logged in, the navigation for that role, hash routes, live toasts.
import { api, ApiError, items, maybe, token } from "./api.js";
import { h, mount, toast, fmt, errorBox } from "./dom.js";
import { isLive, onEvent, startEvents, stopEvents } from "./events.js";
import { loginPage } from "./views/login.js";
import { patientsPage, patientPage } from "./views/rehab.js";
import { alertsPage } from "./views/alerts.js";
import { boardPage, jobPage, spotChecksPage, shopsPage, recommendPage } from "./views/repair.js";
import { claimantPage } from "./views/claimant.js";
import { casesPage } from "./views/cases/list.js";
import { casePage } from "./views/cases/detail.js";
import { myCasePage } from "./views/cases/claimant.js";

const STAFF = ["admin", "claims_handler"];
const NAV = {
  admin: [["#/cases", "Cases"], ["#/patients", "Patients"], ["#/jobs", "Job board"], ["#/spot-checks", "Spot checks"], ["#/shops", "Shops"],
    ["#/recommend", "New claim"], ["#/alerts", "Alerts"]],
  claims_handler: [["#/cases", "Cases"], ["#/patients", "Patients"], ["#/jobs", "Job board"], ["#/spot-checks", "Spot checks"],
    ["#/shops", "Shops"], ["#/recommend", "New claim"], ["#/alerts", "Alerts"]],
  rehab_manager: [["#/patients", "Patients"], ["#/alerts", "Alerts"]],
  shop: [["#/jobs", "Job board"], ["#/spot-checks", "Spot checks"], ["#/shops", "Scorecard"], ["#/alerts", "Alerts"]],
  claimant: [["#/my-case", "My claim"], ["#/mine", "My progress"]],
};
const HOME = { admin: "#/jobs", claims_handler: "#/jobs", rehab_manager: "#/patients", shop: "#/jobs", claimant: "#/mine" };
/** Where a caller lands: a claimant whose token names a case lands on that case. */
const home = (me) => (me && me.role === "claimant" && me.case_id ? "#/my-case" : HOME[me && me.role] || "#/alerts");
const ROLE_LABEL = { admin: "Administrator", claims_handler: "Claims staff", rehab_manager: "Rehab manager",
  shop: "Repair shop", claimant: "Claimant" };

const state = { me: null, cleanups: [], seq: 0 };

/** Who the token belongs to: GET /me, or inferred from what the token can list when /me is missing. */
async function whoAmI() {
  const me = await maybe("me", null);
  if (me && me.role) return me;
  const patients = await maybe("patients?limit=1", null, [403, 404]);
  const shops = await maybe("shops?limit=2", null, [403, 404]);
  if (shops && items(shops).length && shops.total > 1) return { role: patients ? "claims_handler" : "shop", inferred: true };
  if (shops && items(shops).length === 1 && !patients) return { role: "shop", shop_id: items(shops)[0].id, inferred: true };
  if (patients) return { role: "rehab_manager", inferred: true };
  return { role: "claimant", inferred: true };
}

function renderChrome() {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  if (!state.me) { mount(nav); mount(who); return; }
  const path = location.hash.split("/").slice(0, 2).join("/");
  const here = path === "#/case" ? "#/cases" : path;
  mount(nav, (NAV[state.me.role] || []).map(([href, label]) =>
    h("a", { href, class: href === here ? "active" : "", "aria-current": href === here ? "page" : null }, label)));
  const tenant = state.me.manager_id || state.me.shop_id || state.me.job_id || state.me.patient_id || state.me.case_id;
  mount(who,
    h("span", { id: "live-dot", class: `live-dot${isLive() ? " on" : ""}`, title: "live updates", "aria-label": "live updates" }),
    h("span", { id: "role", "data-role": state.me.role }, ROLE_LABEL[state.me.role] || state.me.role, tenant ? ` · ${tenant}` : ""),
    h("button", { class: "small", id: "logout", onclick: logout, "aria-label": "Log out" }, "Log out"));
}

function logout() {
  token.clear();
  state.me = null;
  stopEvents();
  location.hash = "#/login";
}

export async function login(t) {
  token.set(t);
  try {
    state.me = await whoAmI();
  } catch (err) {
    token.clear();
    state.me = null;
    throw err;
  }
  startEvents();
  location.hash = home(state.me);
  renderChrome();
}

/** What a view gets: the caller, a way to subscribe to live events for as long as it is shown, and a staleness check. */
function context(seq) {
  return {
    me: state.me,
    staff: STAFF.includes(state.me?.role),
    live(fn) { state.cleanups.push(onEvent(fn)); },
    every(ms, fn) { const id = setInterval(fn, ms); state.cleanups.push(() => clearInterval(id)); },
    current: () => seq === state.seq,
  };
}

async function route() {
  state.seq += 1;
  const seq = state.seq;
  for (const fn of state.cleanups.splice(0)) fn();
  const main = document.getElementById("main");
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (!token.get() || parts[0] === "login") {
    state.me = null;
    renderChrome();
    return loginPage(main, { login });
  }
  if (!state.me) {
    try {
      state.me = await whoAmI();
      startEvents();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) { token.clear(); location.hash = "#/login"; return undefined; }
      return mount(main, errorBox(err));
    }
    if (seq !== state.seq) return undefined;
  }
  if (!parts[0]) { location.replace(home(state.me)); return undefined; }
  renderChrome();
  const ctx = context(seq);
  const pages = {
    patients: () => (parts[1] ? patientPage(main, ctx, parts[1]) : patientsPage(main, ctx)),
    alerts: () => alertsPage(main, ctx),
    jobs: () => (parts[1] ? jobPage(main, ctx, parts[1]) : boardPage(main, ctx)),
    "spot-checks": () => spotChecksPage(main, ctx),
    shops: () => shopsPage(main, ctx),
    recommend: () => recommendPage(main, ctx),
    mine: () => claimantPage(main, ctx),
    cases: () => casesPage(main, ctx),
    case: () => (parts[1] ? casePage(main, ctx, parts[1]) : casesPage(main, ctx)),
    "my-case": () => myCasePage(main, ctx),
  };
  const page = pages[parts[0]];
  mount(main, h("p", { class: "loading" }, "Loading…"));
  try {
    if (!page) return mount(main, h("div", { class: "empty" }, h("strong", {}, "Page not found"), h("a", { href: home(state.me) }, "Go home")));
    await page();
    main.dataset.page = parts[0];
  } catch (err) {
    if (!ctx.current()) return undefined;
    if (err instanceof ApiError && err.status === 401) { logout(); return undefined; }
    mount(main, h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Cannot show this page"))),
      errorBox(err), h("p", { class: "muted" }, err.status === 403 ? "Your token does not give access to this." : ""));
  }
  return undefined;
}

// Global live toasts: whatever page is open, new alerts and stage changes show up.
onEvent((kind, data) => {
  if (!state.me) return;
  if (kind === "alert") toast(`New alert: ${fmt.label(data.kind || "alert")}`, data.message || data.subject || "", "alert");
  else if (kind === "stage_change") toast(`Job ${data.job_id || ""}`, `now in ${fmt.label(data.stage || data.to || "")}`);
  else if (kind === "adjustment_proposed") toast("Plan adjustment proposed", `patient ${data.patient_id || ""}`);
  else if (kind === "plan_version") toast("New plan version", `patient ${data.patient_id || ""}`);
  else if (kind === "alert_resolved") toast("Alert resolved", data.alert_id || data.id || "");
});

window.addEventListener("hashchange", route);
route();
