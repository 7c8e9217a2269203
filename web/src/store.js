// Live Firestore reads. The security rules let a user list only the requests they
// approve (by e-mail or group), stand in for (the `delegates` the functions stamp) or
// asked for, and the audit events of those, so every query names the user, their groups
// or one request; nothing is written from here.

import { collection, doc, onSnapshot, orderBy, query, where } from "firebase/firestore";

const REQUESTS = "approval_requests";
const AUDIT = "approval_audit";
const TRANSLATIONS = "translations";

export const OPEN_STATUSES = ["pending", "deciding"];
export const CLOSED_STATUSES = ["approved", "rejected", "expired", "cancelled"];

// Firestore's limit on the values of an array-contains-any filter.
const MAX_ANY_VALUES = 30;

/**
 * Requests the user approves (by e-mail, through one of their `groups`, or as
 * the delegate of an approver) whose status is one of `statuses`, live; returns
 * the unsubscribe. Each way of approving is its own query (Firestore allows one
 * array filter per query), merged by document id once every query has answered.
 */
export function watchApprovals(db, { email, groups }, statuses, onDocs, onError) {
  const queries = [where("approvers", "array-contains", email), where("delegates", "array-contains", email)];
  if (groups.length > 0) queries.push(where("approver_groups", "array-contains-any", groups.slice(0, MAX_ANY_VALUES)));
  const results = queries.map(() => null); // per query: its documents, once it answered
  const stops = queries.map((approverFilter, index) =>
    onSnapshot(
      query(collection(db, REQUESTS), approverFilter, where("status", "in", statuses)),
      (snapshot) => {
        results[index] = snapshot.docs.map((d) => ({ id: d.id, ...d.data() }));
        if (results.some((docs) => docs === null)) return;
        const merged = new Map(results.flat().map((request) => [request.id, request]));
        onDocs([...merged.values()].sort(newestFirst));
      },
      onError,
    ),
  );
  return () => stops.forEach((stop) => stop());
}

/** The requests the user asked for, newest first, live; returns the unsubscribe. */
export function watchMine(db, email, onDocs, onError) {
  return onSnapshot(
    query(collection(db, REQUESTS), where("requester", "==", email), orderBy("created_at", "desc")),
    (snapshot) => onDocs(snapshot.docs.map((d) => ({ id: d.id, ...d.data() }))),
    onError,
  );
}

/** One request's audit trail, oldest first, live; returns the unsubscribe. */
export function watchAudit(db, requestId, onEvents, onError) {
  return onSnapshot(
    query(collection(db, AUDIT), where("request_id", "==", requestId), orderBy("at")),
    (snapshot) => onEvents(snapshot.docs.map((d) => ({ id: d.id, ...d.data() }))),
    onError,
  );
}

export const watchRequest = (db, requestId, onData) => watchUntilReadable(doc(db, REQUESTS, requestId), onData);

export const watchTranslation = (db, executionId, onData) =>
  watchUntilReadable(doc(db, TRANSLATIONS, executionId), onData);

/**
 * Listen to a document the workflow has not written yet. The rules read the
 * document's own fields, so until it exists the listener is refused: retry
 * with a growing delay rather than give up. Returns the unsubscribe.
 */
function watchUntilReadable(reference, onData) {
  let stop = () => {};
  let stopped = false;
  let delay = 250;
  const listen = () => {
    stop = onSnapshot(
      reference,
      (snapshot) => {
        delay = 250;
        if (snapshot.exists()) onData({ id: snapshot.id, ...snapshot.data() });
      },
      () => {
        if (stopped) return;
        setTimeout(() => !stopped && listen(), delay);
        delay = Math.min(delay * 2, 4000);
      },
    );
  };
  listen();
  return () => {
    stopped = true;
    stop();
  };
}

function newestFirst(a, b) {
  return millis(b.created_at) - millis(a.created_at);
}

/** A Firestore Timestamp in milliseconds; 0 for anything else. */
export function millis(timestamp) {
  return timestamp && typeof timestamp.toMillis === "function" ? timestamp.toMillis() : 0;
}
