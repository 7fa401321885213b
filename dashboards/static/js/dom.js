// Small DOM helpers: h() builds elements; formatters for times, numbers and labels.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "html") el.innerHTML = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function mount(target, ...children) {
  target.replaceChildren();
  append(target, children);
  return target;
}

export const fmt = {
  num(v, digits = 0) {
    if (v === undefined || v === null || Number.isNaN(Number(v))) return "—";
    return Number(v).toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  },
  pct(v) { return v === undefined || v === null ? "—" : `${Math.round(Number(v) * (Number(v) <= 1 ? 100 : 1))}%`; },
  time(ms) {
    if (!ms) return "—";
    return new Date(ms).toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
  },
  day(ms) { return ms ? new Date(ms).toLocaleDateString(undefined, { month: "short", day: "numeric" }) : "—"; },
  ago(ms) {
    if (!ms) return "never";
    const s = Math.round((Date.now() - ms) / 1000);
    if (s < 0) return `in ${fmt.span(-s)}`;
    if (s < 45) return "just now";
    return `${fmt.span(s)} ago`;
  },
  span(s) {
    if (s < 90) return `${s} s`;
    if (s < 5400) return `${Math.round(s / 60)} min`;
    if (s < 172800) return `${Math.round(s / 3600)} h`;
    return `${Math.round(s / 86400)} days`;
  },
  label(s) { return s ? String(s).replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase()) : "—"; },
};

export const initials = (name) => String(name || "?").split(/\s+/).map((p) => p[0]).join("").slice(0, 2).toUpperCase();

export function empty(title, text) {
  return h("div", { class: "empty", role: "note" }, h("strong", {}, title), text || "");
}

export function badge(text, kind = "") { return h("span", { class: `badge ${kind}` }, text); }

export function errorBox(err) {
  const status = err && err.status ? ` (${err.status})` : "";
  return h("div", { class: "error", role: "alert" }, `${err && err.message ? err.message : err}${status}`);
}

export function toast(title, text, kind = "") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const el = h("div", { class: `toast ${kind}` }, h("strong", {}, title), text || "");
  box.append(el);
  setTimeout(() => el.remove(), 6000);
  while (box.children.length > 4) box.firstElementChild.remove();
}

/** A card with a title, optional actions at the right and a body. */
export function card(title, body, { id, actions, cls = "" } = {}) {
  const head = title ? h("h2", { id: id ? `${id}-title` : undefined }, h("span", {}, title), actions || null) : null;
  return h("section", { class: `card ${cls}`, id, "aria-labelledby": id && title ? `${id}-title` : undefined }, head, body);
}
