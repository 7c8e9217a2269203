// "My requests": what I asked for, newest first, each pending one with a Cancel button
// that asks for a reason in the page before it calls /api/cancel.

import { cancel } from "./api.js";
import { card, keyedList, requestId } from "./cards.js";
import { h, uid } from "./dom.js";
import { watchMine } from "./store.js";

export function showMine(session, container) {
  const { onDocs, onError } = keyedList(container, "You have not asked for any approval", (request) =>
    mineArticle(session, request),
  );
  return watchMine(session.store, session.email, onDocs, onError);
}

function mineArticle(session, request) {
  const formId = uid("cancel-form");
  const reasonId = uid("cancel-reason");
  const open = h(
    "button",
    { type: "button", class: "reject", "aria-expanded": "false", "aria-controls": formId },
    "Cancel request",
  );
  const reason = h("textarea", { id: reasonId, rows: 2, maxlength: 2000 });
  const confirm = h("button", { type: "submit", class: "reject" }, "Confirm cancellation");
  const keep = h("button", { type: "button", class: "secondary" }, "Keep request");
  const form = h(
    "form",
    { id: formId, class: "decision", hidden: true },
    h("label", { for: reasonId }, "Reason for cancelling (optional)"),
    reason,
    h("div", { class: "actions" }, confirm, keep),
  );
  const entry = card(session, request, h("div", { class: "actions" }, open), form);
  let current = request;
  let busy = false;
  const showForm = (shown) => {
    form.hidden = !shown;
    open.setAttribute("aria-expanded", String(shown));
  };
  const sync = () => {
    entry.update(current);
    const pending = current.status === "pending";
    open.hidden = !pending;
    if (!pending) showForm(false);
    open.disabled = confirm.disabled = keep.disabled = busy;
    entry.element.setAttribute("aria-busy", String(busy));
  };

  open.addEventListener("click", () => {
    showForm(form.hidden);
    if (!form.hidden) reason.focus();
  });
  keep.addEventListener("click", () => {
    showForm(false);
    open.focus();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    busy = true;
    sync();
    entry.note.classList.remove("failure");
    try {
      await cancel(requestId(current), reason.value.trim(), await session.idToken());
      // The snapshot brings the status; until then the card must not offer Cancel again.
      current = { ...current, status: "cancelled" };
      entry.note.textContent = "The request was cancelled.";
    } catch (error) {
      entry.note.classList.add("failure");
      entry.note.textContent = `The request was not cancelled: ${error.message}`;
    } finally {
      busy = false;
      sync();
      if (form.hidden) entry.note.focus();
    }
  });
  return {
    element: entry.element,
    update(next) {
      current = next;
      sync();
    },
    stop: entry.stop,
  };
}
