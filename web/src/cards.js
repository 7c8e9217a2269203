// The request card every list shows, and the keyed list that keeps cards in place
// across snapshots so a half-typed comment and the keyboard focus survive live updates.

import { auditToggle } from "./audit.js";
import { formatTime, h, showError, uid } from "./dom.js";
import { renderPayload } from "./payload.js";
import { badges, delegatorOf, renderFacts } from "./voting.js";

export const requestId = (request) => request.request_id || request.id;

/**
 * An article for `request` with `body` (its controls) under the facts.
 * Returns { element, note, update(request), stop() }: `note` is the card's live region for
 * the result of an action; update() redraws what a snapshot may change.
 */
export function card(session, request, ...body) {
  const titleId = uid("request");
  const badgeLine = h("p", { class: "badges" });
  const meta = h("p", { class: "meta" });
  const standIn = h("p", { class: "stand-in" });
  const facts = h("div", { class: "facts" });
  const status = h("p", { class: "status" });
  // tabindex -1: the focus lands here when the control that was used disappears.
  const note = h("p", { class: "note", role: "status", tabindex: -1 });
  const audit = auditToggle(session.store, requestId(request));
  const element = h(
    "article",
    { class: "card", "aria-labelledby": titleId },
    h("h3", { id: titleId }, request.subject || "Approval request"),
    badgeLine,
    meta,
    standIn,
    renderPayload(request),
    facts,
    status,
    note,
    ...body,
    audit.element,
  );
  return {
    element,
    note,
    update(next) {
      badgeLine.replaceChildren(...badges(next));
      meta.textContent = requestMeta(next);
      standIn.textContent = standingInFor(session, next);
      facts.replaceChildren(renderFacts(next));
      status.textContent = `Status: ${next.status}`;
    },
    stop: audit.stop,
  };
}

function requestMeta(request) {
  const parts = [];
  // A workflow started directly (not through /api/start) names a requester nobody checked.
  const unverified = request.requester_verified === false ? " (not verified: started directly)" : "";
  if (request.requester) parts.push(`Requested by ${request.requester}${unverified}`);
  if (request.due_at) parts.push(`due ${formatTime(request.due_at)}`);
  return parts.join(" · ");
}

/** "Standing in for <delegator>" when the user sees `request` as a delegate, or "". */
function standingInFor(session, request) {
  const delegator = delegatorOf(session, request);
  return delegator ? `Standing in for ${delegator}` : "";
}

/**
 * Show requests in `container` as cards made by create(request) -> { element, update, stop }.
 * Returns the snapshot's handlers: onDocs(requests in display order) and onError(error).
 */
export function keyedList(container, emptyText, create) {
  const entries = new Map(); // request id -> its card
  const empty = h("p", { class: "muted" }, emptyText);
  container.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  const onDocs = (requests) => {
    const seen = new Set(requests.map((r) => r.id));
    for (const [id, entry] of entries) {
      if (seen.has(id)) continue;
      // A request that leaves the list: keep the keyboard user on the list, not on <body>.
      if (entry.element.contains(document.activeElement)) focusHeading(container);
      entry.stop();
      entry.element.remove();
      entries.delete(id);
    }
    if (requests.length === 0) {
      container.replaceChildren(empty);
      return;
    }
    empty.remove();
    container.querySelector(":scope > p.muted")?.remove();
    requests.forEach((request, index) => {
      let entry = entries.get(request.id);
      if (!entry) {
        entry = create(request);
        entries.set(request.id, entry);
      }
      entry.update(request);
      // Move a node only when it is out of place: moving the focused one would blur it.
      if (container.children[index] !== entry.element) {
        container.insertBefore(entry.element, container.children[index] ?? null);
      }
    });
  };
  const onError = (error) => showError(`live updates stopped: ${error.message}`);
  return { onDocs, onError };
}

function focusHeading(container) {
  const heading = container.closest("section")?.querySelector("h2");
  if (!heading) return;
  heading.tabIndex = -1;
  heading.focus();
}
