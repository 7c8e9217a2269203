// Live Firestore reads. The security rules let a user list only the requests they
// approve or asked for, so every query names the user; nothing is written from here.

import { collection, doc, onSnapshot, query, where } from "firebase/firestore";

const REQUESTS = "approval_requests";
const TRANSLATIONS = "translations";

export const OPEN_STATUSES = ["pending", "deciding"];
export const CLOSED_STATUSES = ["approved", "rejected", "expired"];

/** Requests `email` approves whose status is one of `statuses`, live; returns the unsubscribe. */
export function watchApprovals(db, email, statuses, onDocs, onError) {
  const approvals = query(
    collection(db, REQUESTS),
    where("approvers", "array-contains", email),
    where("status", "in", statuses),
  );
  return onSnapshot(
    approvals,
    (snapshot) => onDocs(snapshot.docs.map((d) => ({ id: d.id, ...d.data() })).sort(newestFirst)),
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

function millis(timestamp) {
  return timestamp && typeof timestamp.toMillis === "function" ? timestamp.toMillis() : 0;
}
