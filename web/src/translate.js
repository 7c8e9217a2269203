// The seed's flow: translate a text, watch the translation arrive, then validate or reject it.

import { decide, startWorkflow } from "./api.js";
import { clearError, h, showError } from "./dom.js";
import { watchRequest, watchTranslation } from "./store.js";

const WORKFLOW = "translation-validation";

export function showTranslate(session, container) {
  const text = h("textarea", { id: "text-to-translate", rows: 3, maxlength: 5000, required: true });
  const submit = h("button", { type: "submit" }, "Translate");
  const form = h(
    "form",
    { class: "translate" },
    h("label", { for: "text-to-translate" }, "Text to translate"),
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
      started = await startWorkflow(WORKFLOW, { text: input }, await session.idToken());
    } catch (error) {
      progress.textContent = "The translation did not start.";
      showError(error.message);
      return;
    } finally {
      submit.disabled = false;
    }
    progress.textContent = "Translating…";
    const stops = [
      watchTranslation(session.db, started.execution_id, (doc) => {
        if (doc.translation === undefined) return;
        translated.textContent = doc.translation;
        if (!request) progress.textContent = "Translated; waiting for the validation request…";
      }),
      watchRequest(session.db, started.request_id, (doc) => {
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
