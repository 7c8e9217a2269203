// The inbox (requests waiting for my vote) and the history (requests that ended).

import { decide } from "./api.js";
import { card, keyedList, requestId } from "./cards.js";
import { clearError, h, showError, uid } from "./dom.js";
import { CLOSED_STATUSES, OPEN_STATUSES, watchApprovals } from "./store.js";
import { hasVoted, progressText, seatTaken } from "./voting.js";

const VOTE_NAMES = { approved: "approval", rejected: "rejection" };

/**
 * The inbox (open requests) and the history (closed ones) from one set of live
 * queries over every status, split here: one listener per way of approving,
 * not one per list. Returns the unsubscribe.
 */
export function showApprovals(session, inbox, history) {
  const open = keyedList(inbox, "Nothing to approve", (request) => pendingArticle(session, request));
  const closed = keyedList(history, "No decided requests yet", (request) => card(session, request));
  return watchApprovals(
    session.store,
    session,
    [...OPEN_STATUSES, ...CLOSED_STATUSES],
    (requests) => {
      open.onDocs(requests.filter((request) => OPEN_STATUSES.includes(request.status)));
      closed.onDocs(requests.filter((request) => CLOSED_STATUSES.includes(request.status)));
    },
    open.onError,
  );
}

function pendingArticle(session, request) {
  const commentId = uid("comment");
  const hintId = uid("comment-hint");
  const comment = h("textarea", { id: commentId, rows: 2, maxlength: 2000, "aria-describedby": hintId });
  const approve = h("button", { type: "button", class: "approve" }, "Approve");
  const reject = h("button", { type: "button", class: "reject" }, "Reject");
  const decision = h(
    "div",
    { class: "decision" },
    h("label", { for: commentId }, "Comment"),
    h("span", { id: hintId, class: "hint" }, "Optional; the requester sees it."),
    comment,
    h("div", { class: "actions" }, approve, reject),
  );
  const entry = card(session, request, decision);
  let current = request;
  let busy = false;
  let myVote = null; // the outcome this page sent, until the snapshot lists me among the voters
  const sync = () => {
    entry.update(current);
    const voted = myVote !== null || hasVoted(current, session.email);
    const ownRequest = current.prevent_self_approval === true && current.requester === session.email;
    const taken = voted ? null : seatTaken(session, current);
    decision.hidden = voted || ownRequest || taken !== null;
    approve.disabled = reject.disabled = busy || current.status !== "pending";
    entry.element.setAttribute("aria-busy", String(busy));
    const text = noteText(current, { voted, ownRequest, myVote, taken, email: session.email });
    if (entry.note.textContent !== text) entry.note.textContent = text;
  };
  const send = async (outcome) => {
    // The buttons go away once I voted: the keyboard user continues from the note that says why.
    const hadFocus = decision.contains(document.activeElement);
    busy = true;
    sync();
    clearError();
    try {
      const answer = await decide(requestId(current), outcome, comment.value.trim(), await session.idToken());
      if (answer.status === "pending") {
        myVote = outcome;
        // Show the new count at once; the snapshot with the same tally follows.
        if (answer.tally && !hasVoted(current, session.email)) current = { ...current, tally: answer.tally };
      }
    } catch (error) {
      showError(error.message);
    } finally {
      busy = false;
      sync();
      if (hadFocus && decision.hidden) entry.note.focus();
    }
  };
  approve.addEventListener("click", () => send("approved"));
  reject.addEventListener("click", () => send("rejected"));
  return {
    element: entry.element,
    update(next) {
      current = next;
      sync();
    },
    stop: entry.stop,
  };
}

function noteText(request, { voted, ownRequest, myVote, taken, email }) {
  if (request.status === "deciding") return "The votes are in; the decision is being delivered.";
  if (request.status !== "pending") return "";
  if (ownRequest) return "You asked for this request, so you cannot vote on it.";
  if (taken) {
    return taken.seat === email
      ? `${taken.voter} already voted for you, standing in.`
      : `${taken.seat}, whom you stand in for, already voted.`;
  }
  if (!voted) return "";
  const progress = progressText(request);
  return `Your ${VOTE_NAMES[myVote] || "vote"} was recorded; waiting for the other approvers${progress ? ` (${progress} so far)` : ""}.`;
}
