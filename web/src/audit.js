// A request's audit trail behind a "History" toggle, read live from Firestore
// only while it is open (the rules let approvers and the requester read it).

import { formatTime, h, uid } from "./dom.js";
import { millis, watchAudit } from "./store.js";

// In the order of a request's life: events with the same time stamp are listed in this order.
const EVENTS = {
  requested: "Requested",
  reminder: "Reminder sent",
  escalated: "Escalated",
  voted: "Voted",
  vote_withdrawn: "Vote withdrawn",
  invalid_callback: "Invalid callback",
  decided: "Decided",
  expired: "Expired",
  cancelled: "Cancelled",
};
const RANKS = Object.keys(EVENTS);

const IDENTITY_SOURCES = {
  firebase: "signed in",
  "signed-link": "e-mail link",
  "auto-mode": "automatic",
};

/** The toggle and its list; stop() ends the listener (call it when the card goes away). */
export function auditToggle(store, requestId) {
  const regionId = uid("audit");
  const button = h(
    "button",
    { type: "button", class: "secondary", "aria-expanded": "false", "aria-controls": regionId },
    "History",
  );
  const region = h("div", { id: regionId, class: "audit", hidden: true });
  let stopListening = null;
  const stop = () => {
    stopListening?.();
    stopListening = null;
  };
  button.addEventListener("click", () => {
    const open = !stopListening;
    button.setAttribute("aria-expanded", String(open));
    region.hidden = !open;
    if (!open) {
      stop();
      return;
    }
    region.replaceChildren(h("p", { class: "muted" }, "Loading the history…"));
    stopListening = watchAudit(
      store,
      requestId,
      (events) => region.replaceChildren(renderEvents(events)),
      (error) => region.replaceChildren(h("p", { class: "failure" }, `The history could not be read: ${error.message}`)),
    );
  });
  return { element: h("div", { class: "audit-toggle" }, button, region), stop };
}

function renderEvents(events) {
  if (events.length === 0) return h("p", { class: "muted" }, "No events yet.");
  const ordered = [...events].sort(
    (a, b) => millis(a.at) - millis(b.at) || RANKS.indexOf(a.event) - RANKS.indexOf(b.event),
  );
  return h(
    "ol",
    { class: "events", "aria-label": "Request history" },
    ordered.map((event) => {
      const at = event.at?.toDate ? event.at.toDate() : null;
      const details = describe(event);
      return h(
        "li",
        {},
        h("strong", {}, EVENTS[event.event] || String(event.event ?? "")),
        event.actor ? ` by ${event.actor}` : "",
        at ? [" · ", h("time", { datetime: at.toISOString() }, formatTime(event.at))] : "",
        details ? h("span", { class: "hint" }, details) : null,
      );
    }),
  );
}

/** What an event adds to "who, when": a vote's outcome, identity source and latency, and the like. */
function describe({ event, details }) {
  details = details || {};
  const parts = [];
  if (details.outcome) parts.push(details.outcome);
  if (event === "voted") {
    if (details.identity_source) parts.push(`via ${IDENTITY_SOURCES[details.identity_source] || details.identity_source}`);
    if (details.on_behalf_of) parts.push(`on behalf of ${details.on_behalf_of}`);
    if (typeof details.latency_seconds === "number") parts.push(`${duration(details.latency_seconds)} after the request`);
  }
  if (details.comment) parts.push(`“${details.comment}”`);
  if (details.reason) parts.push(`reason: ${details.reason}`);
  if (details.problem) parts.push(details.problem);
  return parts.join(" · ");
}

/** 42 s, 5 min, 2 h 3 min, 3 d 4 h. */
function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.round((s % 86400) / 3600)} h`;
}
