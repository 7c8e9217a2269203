// Live Firestore reads. The security rules let a user list only the requests they
// approve (by e-mail or group), stand in for (the `delegates` the functions stamp) or
// asked for, and the audit events of those, so every query names the user, their groups
// or one request; a user's groups are their own membership document. Nothing is written
// from here.

import { collection, doc, onSnapshot, orderBy, query, where } from "firebase/firestore";

const REQUESTS = "approval_requests";
const AUDIT = "approval_audit";
const TRANSLATIONS = "translations";
const MEMBERSHIPS = "approval_memberships";

export const OPEN_STATUSES = ["pending", "deciding"];
export const CLOSED_STATUSES = ["approved", "rejected", "expired", "cancelled"];

// Firestore's limit on the values of an array-contains-any filter.
const MAX_ANY_VALUES = 30;

/**
 * The user's approver groups (the names `group:NAME` approvers match), live from their
 * membership document: onGroups(names) now and on each change, [] without one (or when
 * it cannot be read). Returns the unsubscribe.
 */
export function watchMembership(db, email, onGroups) {
  return onSnapshot(
    doc(db, MEMBERSHIPS, email),
    (snapshot) => {
      const groups = snapshot.exists() ? snapshot.data().groups : [];
      onGroups(Array.isArray(groups) ? [...new Set(groups.filter((g) => typeof g === "string" && g))] : []);
    },
    () => onGroups([]),
  );
}

/**
 * Requests the user approves (by e-mail, through one of their groups, or as the
 * delegate of an approver) whose status is one of `statuses`, live; returns the
 * unsubscribe. Each way of approving is its own query (Firestore allows one array
 * filter per query), merged by document id once every query has answered; the
 * groups' query follows session.onGroups, so a membership change shows at once.
 */
export function watchApprovals(db, session, statuses, onDocs, onError) {
  const results = [null, null, []]; // per query: its documents, once it answered
  const emit = () => {
    if (results.some((docs) => docs === null)) return;
    const merged = new Map(results.flat().map((request) => [request.id, request]));
    onDocs([...merged.values()].sort(newestFirst));
  };
  const listen = (index, approverFilter) =>
    onSnapshot(
      query(collection(db, REQUESTS), approverFilter, where("status", "in", statuses)),
      (snapshot) => {
        results[index] = snapshot.docs.map((d) => ({ id: d.id, ...d.data() }));
        emit();
      },
      onError,
    );
  const stops = [
    listen(0, where("approvers", "array-contains", session.email)),
    listen(1, where("delegates", "array-contains", session.email)),
  ];
  let stopGroups = () => {};
  const stopWatchingGroups = session.onGroups((groups) => {
    stopGroups();
    stopGroups = () => {};
    results[2] = groups.length > 0 ? null : [];
    if (groups.length > 0) {
      stopGroups = listen(2, where("approver_groups", "array-contains-any", groups.slice(0, MAX_ANY_VALUES)));
    }
    emit(); // with no groups left, their requests leave the lists at once
  });
  return () => {
    stops.forEach((stop) => stop());
    stopGroups();
    stopWatchingGroups();
  };
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
