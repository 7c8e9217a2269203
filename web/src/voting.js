// How far a request's vote has come: quorum progress per rule (request.rules against
// request.tally), who voted, reminders, escalation, and how it ended.

import { formatTime, h } from "./dom.js";
import { list } from "./payload.js";

// The rule the workflow names when a request has plain approvers and one quorum.
const DEFAULT_RULE = "approvers";

/** The e-mails that voted (tally.voters), lower-case. */
function voters(request) {
  const listed = request.tally?.voters;
  return Array.isArray(listed) ? listed.filter((v) => typeof v === "string").map((v) => v.toLowerCase()) : [];
}

export const hasVoted = (request, email) => voters(request).includes(email);

/**
 * The approver the user stands in for on `request` (the functions stamp
 * `stand_in_for`: delegate -> delegator), or null. Someone who approves it in
 * their own right votes as themselves, as decide counts it.
 */
export function delegatorOf({ email, groups }, request) {
  const delegator = request.stand_in_for?.[email];
  if (typeof delegator !== "string" || !delegator) return null;
  const approvers = Array.isArray(request.approvers) ? request.approvers : [];
  const approverGroups = Array.isArray(request.approver_groups) ? request.approver_groups : [];
  const own =
    approvers.some((a) => typeof a === "string" && a.toLowerCase() === email) ||
    approverGroups.some((g) => groups.includes(g));
  return own ? null : delegator;
}

/**
 * {seat, voter} when someone else already cast the vote of the seat the user
 * would vote for (tally.seats: approver -> voter), else null: an approver's
 * delegate voted for them, or the approver a delegate stands in for voted.
 * One approver is one seat; decide refuses a second vote for it.
 */
export function seatTaken(session, request) {
  const seats = request.tally?.seats;
  if (!seats || typeof seats !== "object") return null;
  const seat = delegatorOf(session, request) || session.email;
  const voter = seats[seat];
  return typeof voter === "string" && voter.toLowerCase() !== session.email ? { seat, voter } : null;
}

/**
 * {counted, needed, rules: [{name, counted, quorum}]}, or null for a request without rules.
 * A rule's surplus approvals do not make up for another rule's missing ones, so the
 * overall count adds each rule's approvals only up to its quorum.
 */
function quorumProgress(request) {
  const rules = Array.isArray(request.rules) ? request.rules : [];
  if (rules.length === 0) return null;
  const counts = request.tally?.rules || {};
  const rows = rules.map((rule) => ({
    name: String(rule.name ?? ""),
    counted: Number(counts[rule.name]) || 0,
    quorum: Math.max(1, Number(rule.quorum) || 1),
  }));
  return {
    counted: rows.reduce((sum, rule) => sum + Math.min(rule.counted, rule.quorum), 0),
    needed: rows.reduce((sum, rule) => sum + rule.quorum, 0),
    rules: rows,
  };
}

/** "1 of 2 approvals" (or null without rules). */
export function progressText(request) {
  const progress = quorumProgress(request);
  if (!progress) return null;
  return `${progress.counted} of ${progress.needed} ${progress.needed === 1 ? "approval" : "approvals"}`;
}

/** The Escalated badge, or nothing. */
export function badges(request) {
  return request.escalated ? [h("strong", { class: "badge" }, "Escalated")] : [];
}

/** The voting and the outcome as a term/description list. */
export function renderFacts(request) {
  return list([...votingRows(request), ...outcomeRows(request)]);
}

function votingRows(request) {
  const rows = [];
  if (request.mode) rows.push(["Mode", request.mode]);
  const progress = quorumProgress(request);
  if (progress) {
    rows.push(["Approvals", progressText(request)]);
    const named = progress.rules.length > 1 || progress.rules[0].name !== DEFAULT_RULE;
    if (named) rows.push(["Per rule", progress.rules.map((r) => `${r.name} ${r.counted}/${r.quorum}`).join(", ")]);
  }
  // How many rejections would reject matters only while the vote is open.
  if (typeof request.rejection_quorum === "number" && request.status === "pending") {
    const rejections = Number(request.tally?.rejections) || 0;
    rows.push(["Rejections", `${rejections} of ${request.rejection_quorum} needed to reject`]);
  }
  // Sealed votes (votes_visible: after_decision) name nobody until the request is decided.
  const sealed = request.votes_visible === "after_decision" && !request.tally?.voters;
  if (request.tally) {
    rows.push(["Voted", sealed ? "hidden until the decision" : voters(request).join(", ") || "nobody yet"]);
  }
  if (request.reminder_every_seconds || request.reminders_sent) {
    const sent = Number(request.reminders_sent) || 0;
    const last = formatTime(request.last_reminder_at);
    rows.push(["Reminders sent", last ? `${sent}, last at ${last}` : String(sent)]);
  }
  if (request.escalated) {
    const at = formatTime(request.escalated_at);
    rows.push(["Escalation", `${at ? `at ${at}; ` : ""}new deadline ${formatTime(request.due_at) || "unknown"}`]);
  }
  return rows;
}

function outcomeRows(request) {
  const rows = [];
  if (request.decided_by) rows.push(["Decided by", request.decided_by]);
  if (request.decided_at) rows.push(["Decided at", formatTime(request.decided_at)]);
  if (request.comment) rows.push(["Comment", request.comment]);
  const votes = Array.isArray(request.decision?.votes) ? request.decision.votes : [];
  if (votes.length > 0) {
    rows.push(["Votes", votes.map((v) => `${v.approver} ${v.outcome}${v.comment ? ` (“${v.comment}”)` : ""}`).join("; ")]);
  }
  if (request.status === "cancelled") {
    if (request.cancelled_by) rows.push(["Cancelled by", request.cancelled_by]);
    if (request.cancelled_at) rows.push(["Cancelled at", formatTime(request.cancelled_at)]);
    if (request.cancel_reason) rows.push(["Reason", request.cancel_reason]);
  }
  if (request.expired_at) rows.push(["Expired at", formatTime(request.expired_at)]);
  return rows;
}
