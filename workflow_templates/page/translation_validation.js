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

/** The flow for one deployed workflow (`extension.id`), whose translations are its requester collection. */
function mount(container, session, extension) {
  const [translations] = extension.requester_collections;
  const text = h("textarea", { id: `text-to-translate-${extension.id}`, rows: 3, maxlength: 5000, required: true });
  const submit = h("button", { type: "submit" }, "Translate");
  const form = h(
    "form",
    { class: "translate" },
    h("label", { for: `text-to-translate-${extension.id}` }, "Text to translate"),
    text,
    h("div", { class: "actions" }, submit),
  );

  const progress = h("p", { class: "status", "aria-live": "polite" });
  const translated = h("blockquote", { class: "translated" });
  const validate = h("button", { type: "button", class: "approve" }, "Validate");
  const reject = h("button", { type: "button", class: "reject" }, "Reject translation");
  const actions = h("div", { class: "actions" }, validate, reject);
  const result = h("section", { class: "result", "aria-label": "Translation", hidden: true }, progress, translated, actions);
  container.replaceChildren(form, result);

  let stopListening = () => {};
  let request = null;
  let busy = false;
  const syncActions = () => {
    // Most workflows forbid approving one's own request: then another approver validates it.
    actions.hidden = !request || request.prevent_self_approval === true;
    validate.disabled = reject.disabled = busy || request?.status !== "pending";
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = text.value.trim();
    if (!input) {
      showError("Enter a text to translate.");
      text.focus();
      return;
    }
    clearError();
    stopListening();
    request = null;
    submit.disabled = true;
    result.hidden = false;
    translated.textContent = "";
    progress.textContent = "Starting the translation…";
    syncActions();
    let started;
    try {
      started = await startWorkflow(extension.id, { text: input }, await session.idToken());
    } catch (error) {
      progress.textContent = "The translation did not start.";
      showError(error.message);
      return;
    } finally {
      submit.disabled = false;
    }
    progress.textContent = "Translating…";
    const stops = [
      watchTemplateDocument(session.store, extension.id, translations, started.execution_id, (doc) => {
        if (doc.translation === undefined) return;
        translated.textContent = doc.translation;
        if (!request) progress.textContent = "Translated; waiting for the validation request…";
      }),
      watchRequest(session.store, started.request_id, (doc) => {
        request = doc;
        const byOthers = doc.status === "pending" && doc.prevent_self_approval === true;
        progress.textContent = `Validation: ${doc.status}${byOthers ? " (another approver validates it)" : ""}`;
        syncActions();
      }),
    ];
    stopListening = () => stops.forEach((stop) => stop());
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
  validate.addEventListener("click", () => send("approved"));
  reject.addEventListener("click", () => send("rejected"));
  syncActions();
}
