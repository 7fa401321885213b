// The claimant's read-only view: their car's repair or their rehab progress.
import { h, mount, empty } from "../dom.js";
import { jobPage } from "./repair.js";
import { patientPage } from "./rehab.js";

export async function claimantPage(main, ctx) {
  const me = ctx.me;
  if (me.job_id) return jobPage(main, ctx, me.job_id, { readOnly: true });
  if (me.patient_id) return patientPage(main, ctx, me.patient_id, { readOnly: true });
  mount(main, h("div", { class: "page-head" }, h("h1", {}, "My progress")),
    empty("Nothing to show yet", me.case_id ? `Your case ${me.case_id} has no repair job or rehabilitation linked yet.` : "Your token is not linked to a repair job or a rehabilitation."));
  return undefined;
}
