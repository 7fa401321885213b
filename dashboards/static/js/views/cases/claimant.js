// The claimant's own case, read in their language (English or Chinese), with the feedback form.
import { api, items, maybe, qs } from "../../api.js";
import { h, mount, badge, empty, errorBox, toast, card } from "../../dom.js";
import { STATUS_BADGE, enc, kpi, timelineView } from "./common.js";
import { translator, vocabulary } from "./i18n.js";

const APP_LANG = document.documentElement.lang || "en";

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
  const { lang } = translator(c.claimant && c.claimant.language);
  const [notice, plan, timeline, notes, feedback, vocab] = await Promise.all([
    api(`${base}/notice${qs({ lang })}`), maybe(`${base}/plan`, null, [404]), maybe(`${base}/timeline${qs({ lang })}`, { entries: [] }, [404]),
    maybe(`${base}/notifications`, [], [404]), maybe(`${base}/feedback`, [], [403, 404]), vocabulary(lang),
  ]);
  if (!ctx.current()) return;
  const t = translator(lang, vocab);
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
