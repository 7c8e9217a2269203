// How each template's payload reads to an approver; unknown templates get a plain field list.

import { h } from "./dom.js";

const RENDERERS = {
  translation_validation: translation,
  expense_approval: expense,
  deploy_approval: deploy,
};

export function renderPayload(request) {
  const payload = request.payload || {};
  const render = RENDERERS[request.template] || fields;
  return render(payload);
}

/** Source and target side by side (stacked on a narrow screen). */
function translation(payload) {
  const side = (label, text, lang) =>
    h("figure", { class: "side" }, h("figcaption", {}, label), h("blockquote", { lang }, text ?? ""));
  return h(
    "div",
    { class: "side-by-side" },
    side(`Original (${payload.source_language ?? "?"})`, payload.text, payload.source_language),
    side(`Translated (${payload.target_language ?? "?"})`, payload.translation, payload.target_language),
  );
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
