// Login: paste a bearer token (kept in sessionStorage for this tab only); demo tokens when a simulation runs locally.
import { h, mount, errorBox } from "../dom.js";

export async function loginPage(main, { login }) {
  const input = h("textarea", { id: "token", name: "token", rows: 3, required: true, autocomplete: "off",
    placeholder: "Paste your API token", "aria-label": "API token" });
  const msg = h("div", { id: "login-error" });
  const submit = async (t) => {
    mount(msg);
    try {
      await login(t);
    } catch (err) {
      mount(msg, errorBox(err.status === 401 ? new Error("This token is not valid (expired or revoked).") : err));
    }
  };
  const form = h("form", { id: "login-form", "aria-label": "Log in", onsubmit: (ev) => { ev.preventDefault(); submit(input.value); } },
    h("label", { for: "token" }, "API token", input),
    h("div", { class: "actions", style: { marginTop: ".8rem" } }, h("button", { class: "primary", type: "submit", id: "login-button" }, "Log in")),
    msg);
  const demos = h("div", { id: "demo-tokens" });
  mount(main, h("div", { class: "login" }, h("section", { class: "card" },
    h("h1", {}, "Sign in to Aftercare"),
    h("p", {}, "Rehab managers, claims staff, repair shops and claimants each see their own view. Your token stays in this browser tab."),
    form, demos)));
  input.focus();
  try {
    const res = await fetch("/dashboards/demo-tokens");
    const tokens = res.ok ? (await res.json()).tokens || {} : {};
    const entries = Object.entries(tokens);
    if (entries.length) {
      mount(demos, h("h3", { style: { marginTop: "1.4rem" } }, "Demo accounts (simulation)"),
        h("div", { class: "demo-list" }, entries.map(([label, t]) =>
          h("button", { type: "button", "data-demo": label, "aria-label": `Log in as ${label}`, onclick: () => submit(t) },
            h("span", {}, label), h("span", { class: "muted" }, "log in →")))));
    }
  } catch { /* no demo tokens: fine */ }
}
