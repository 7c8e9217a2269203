// How each template's payload reads to an approver: the template's own page module
// (workflow_templates/page/) when it has one, then the renderers below; unknown
// templates get a plain field list.

import TEMPLATE_PAGES from "@templates/page";
import { h } from "./dom.js";

const RENDERERS = {
  expense_approval: expense,
  deploy_approval: deploy,
};

export function renderPayload(request) {
  const payload = request.payload || {};
  const render = TEMPLATE_PAGES[request.template]?.renderPayload || RENDERERS[request.template] || fields;
  return render(payload);
}

function expense(payload) {
  return list([
    ["Amount", formatAmount(payload.amount, payload.currency)],
    ["Currency", payload.currency],
    ["Reason", payload.reason],
    ...(payload.manager_approver ? [["Approved by manager", payload.manager_approver]] : []),
    ...(payload.manager_comment ? [["Manager's comment", payload.manager_comment]] : []),
  ]);
}

function deploy(payload) {
  return list([
    ["Service", payload.service],
    ["Version", payload.version],
    ["Change", link(payload.change_url)],
  ]);
}

function fields(payload) {
  return list(
    Object.entries(payload).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]),
  );
}

export function list(rows) {
  return h("dl", { class: "fields" }, rows.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value ?? "")]));
}

/** Only http(s) links become anchors: a payload must not smuggle in a javascript: URL. */
function link(url) {
  if (typeof url !== "string") return "";
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (!["http:", "https:"].includes(parsed.protocol)) return url;
  return h("a", { href: parsed.href, rel: "noopener noreferrer", target: "_blank" }, url);
}

function formatAmount(amount, currency) {
  if (typeof amount !== "number") return String(amount ?? "");
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(amount);
  } catch {
    return String(amount);
  }
}
