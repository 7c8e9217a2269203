// The translation_validation template's part of the page: its payload side by side,
// and the seed's flow as a panel: translate a text, watch the translation arrive in
// the template's own collection, then validate or reject it. The page bundles every
// module of this folder and mounts a panel for each deployed workflow of its template.

import { decide, startWorkflow } from "@page/api.js";
import { clearError, h, showError } from "@page/dom.js";
import { watchRequest, watchTemplateDocument } from "@page/store.js";

/** Source and target side by side (stacked on a narrow screen). */
export function renderPayload(payload) {
  const side = (label, text, lang) =>
    h("figure", { class: "side" }, h("figcaption", {}, label), h("blockquote", { lang }, text ?? ""));
  return h(
    "div",
    { class: "side-by-side" },
    side(`Original (${payload.source_language ?? "?"})`, payload.text, payload.source_language),
    side(`Translated (${payload.target_language ?? "?"})`, payload.translation, payload.target_language),
  );
}

export const panel = { title: "Translate", mount };

/**
 * The flow for one deployed workflow (`extension.id`), whose translations are its requester
 * collection. Returns what stops its listeners, for when the workflow leaves the page.
 */
function mount(container, session, extension) {
  const [translations] = extension.requester_collections;
  const view = translationView(extension.id);
  container.replaceChildren(view.form, view.result);

  let stopListening = () => {};
  let request = null;
  let busy = false;
  const syncActions = () => {
    // Most workflows forbid approving one's own request: then another approver validates it.
    view.actions.hidden = !request || request.prevent_self_approval === true;
    view.validate.disabled = view.reject.disabled = busy || request?.status !== "pending";
  };
  const watch = (started) => {
    const stops = [
      watchTemplateDocument(session.store, extension.id, translations, started.execution_id, (doc) => {
        if (doc.translation === undefined) return;
        view.translated.textContent = doc.translation;
        if (!request) view.progress.textContent = "Translated; waiting for the validation request…";
      }),
      watchRequest(session.store, started.request_id, (doc) => {
        request = doc;
        const byOthers = doc.status === "pending" && doc.prevent_self_approval === true;
        view.progress.textContent = `Validation: ${doc.status}${byOthers ? " (another approver validates it)" : ""}`;
        syncActions();
      }),
    ];
    stopListening = () => stops.forEach((stop) => stop());
  };

  view.form.addEventListener("submit", async (event) => {
    event.preventDefault();
    stopListening();
    request = null;
    syncActions();
    const started = await start(view, session, extension.id);
    if (started) watch(started);
  });
  const send = async (outcome) => {
    busy = true;
    syncActions();
    clearError();
    try {
      await decide(request.request_id || request.id, outcome, "", await session.idToken());
    } catch (error) {
      showError(error.message);
    } finally {
      busy = false;
      syncActions();
    }
  };
  view.validate.addEventListener("click", () => send("approved"));
  view.reject.addEventListener("click", () => send("rejected"));
  syncActions();
  return () => stopListening();
}

/** The panel's elements: the form, and the result the translation and its validation show in. */
function translationView(workflowKey) {
  const id = `text-to-translate-${workflowKey}`;
  const text = h("textarea", { id, rows: 3, maxlength: 5000, required: true });
  const submit = h("button", { type: "submit" }, "Translate");
  const form = h(
    "form",
    { class: "translate" },
    h("label", { for: id }, "Text to translate"),
    text,
    h("div", { class: "actions" }, submit),
  );
  const progress = h("p", { class: "status", "aria-live": "polite" });
  const translated = h("blockquote", { class: "translated" });
  const validate = h("button", { type: "button", class: "approve" }, "Validate");
  const reject = h("button", { type: "button", class: "reject" }, "Reject translation");
  const actions = h("div", { class: "actions" }, validate, reject);
  const result = h("section", { class: "result", "aria-label": "Translation", hidden: true }, progress, translated, actions);
  return { form, text, submit, result, progress, translated, validate, reject, actions };
}

/** Start a translation of the form's text; what start answered, or null (the error is shown). */
async function start(view, session, workflowKey) {
  const input = view.text.value.trim();
  if (!input) {
    showError("Enter a text to translate.");
    view.text.focus();
    return null;
  }
  clearError();
  view.submit.disabled = true;
  view.result.hidden = false;
  view.translated.textContent = "";
  view.progress.textContent = "Starting the translation…";
  try {
    const started = await startWorkflow(workflowKey, { text: input }, await session.idToken());
    view.progress.textContent = "Translating…";
    return started;
  } catch (error) {
    view.progress.textContent = "The translation did not start.";
    showError(error.message);
    return null;
  } finally {
    view.submit.disabled = false;
  }
}
