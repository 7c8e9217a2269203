// The inbox and the history: one article per request, kept in place across
// snapshots so a half-typed comment and the keyboard focus survive live updates.

import { decide } from "./api.js";
import { clearError, h, showError, uid } from "./dom.js";
import { list, renderPayload } from "./payload.js";
import { CLOSED_STATUSES, OPEN_STATUSES, watchApprovals } from "./store.js";

export function showInbox(session, container) {
  return showRequests(session, container, OPEN_STATUSES, "Nothing to approve", (request) =>
    pendingArticle(session, request),
  );
}

export function showHistory(session, container) {
  return showRequests(session, container, CLOSED_STATUSES, "No decided requests yet", decidedArticle);
}

function showRequests(session, container, statuses, emptyText, create) {
  const articles = new Map(); // request id -> { element, update }
  const empty = h("p", { class: "muted" }, emptyText);
  container.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  return watchApprovals(
    session.db,
    session,
    statuses,
    (requests) => {
      const seen = new Set(requests.map((r) => r.id));
      for (const [id, entry] of articles) {
        if (seen.has(id)) continue;
        // A decided request leaves the inbox: keep the keyboard user on the list, not on <body>.
        if (entry.element.contains(document.activeElement)) focusHeading(container);
        entry.element.remove();
        articles.delete(id);
      }
      if (requests.length === 0) {
        container.replaceChildren(empty);
        return;
      }
      empty.remove();
      container.querySelector(":scope > p.muted")?.remove();
      requests.forEach((request, index) => {
        let entry = articles.get(request.id);
        if (!entry) {
          entry = create(request);
          articles.set(request.id, entry);
        }
        entry.update(request);
        // Move a node only when it is out of place: moving the focused one would blur it.
        if (container.children[index] !== entry.element) container.insertBefore(entry.element, container.children[index] ?? null);
      });
    },
    (error) => showError(`live updates stopped: ${error.message}`),
  );
}

function focusHeading(container) {
  const heading = container.closest("section")?.querySelector("h2");
  if (!heading) return;
  heading.tabIndex = -1;
  heading.focus();
}

function card(request, ...body) {
  const titleId = uid("request");
  const status = h("p", { class: "status", "aria-live": "polite" });
  const element = h(
    "article",
    { class: "card", "aria-labelledby": titleId },
    h("h3", { id: titleId }, request.subject || "Approval request"),
    h("p", { class: "meta" }, requestMeta(request)),
    renderPayload(request),
    status,
    ...body,
  );
  return { element, status };
}

function requestMeta(request) {
  const parts = [];
  if (request.requester) parts.push(`Requested by ${request.requester}`);
  if (request.due_at?.toDate) parts.push(`due ${request.due_at.toDate().toLocaleString()}`);
  return parts.join(" · ");
}

function pendingArticle(session, request) {
  const commentId = uid("comment");
  const hintId = uid("comment-hint");
  const comment = h("textarea", { id: commentId, rows: 2, maxlength: 2000, "aria-describedby": hintId });
  const approve = h("button", { type: "button", class: "approve" }, "Approve");
  const reject = h("button", { type: "button", class: "reject" }, "Reject");
  const { element, status } = card(
    request,
    h(
      "div",
      { class: "decision" },
      h("label", { for: commentId }, "Comment"),
      h("span", { id: hintId, class: "hint" }, "Optional; the requester sees it."),
      comment,
      h("div", { class: "actions" }, approve, reject),
    ),
  );
  let current = request;
  let busy = false;
  const sync = () => {
    status.textContent = `Status: ${current.status}`;
    const open = current.status === "pending" && !busy;
    approve.disabled = reject.disabled = !open;
    element.setAttribute("aria-busy", String(busy));
  };
  const send = async (outcome) => {
    busy = true;
    sync();
    clearError();
    try {
      await decide(current.request_id || current.id, outcome, comment.value.trim(), await session.idToken());
    } catch (error) {
      showError(error.message);
    } finally {
      busy = false;
      sync();
    }
  };
  approve.addEventListener("click", () => send("approved"));
  reject.addEventListener("click", () => send("rejected"));
  return {
    element,
    update(next) {
      current = next;
      sync();
    },
  };
}

function decidedArticle(request) {
  const details = h("div");
  const { element, status } = card(request, details);
  return {
    element,
    update(next) {
      status.textContent = `Status: ${next.status}`;
      const rows = [];
      if (next.decided_by) rows.push(["Decided by", next.decided_by]);
      if (next.decided_at?.toDate) rows.push(["Decided at", next.decided_at.toDate().toLocaleString()]);
      if (next.comment) rows.push(["Comment", next.comment]);
      details.replaceChildren(...(rows.length ? [list(rows)] : []));
    },
  };
}
