// Live Firestore reads. The security rules let a user list only the requests they
// approve (by e-mail or group), stand in for (the `delegates` the functions stamp) or
// asked for, and the audit events of those, so every query names the user, their groups
// or one request; a user's groups are their own membership document. Nothing is written
// from here.
//
// A store is the session's Firestore and the collections' names as the platform
// deployed them (config.json's `collections`: a platform may rename any of them).

import { collection, doc, onSnapshot, orderBy, query, where } from "firebase/firestore";
import { checked } from "./contract.js";

/** The store the functions below read from. */
export const openStore = (db, names) => ({ db, names });

export const OPEN_STATUSES = ["pending", "deciding"];
export const CLOSED_STATUSES = ["approved", "rejected", "expired", "cancelled"];

// How long a first listen may go without a snapshot or an error before it is tried again.
const UNANSWERED_MS = 3000;

// Firestore's limit on the values of an array-contains-any filter.
const MAX_ANY_VALUES = 30;

/**
 * The user's approver groups (the names `group:NAME` approvers match), live from their
 * membership document: onGroups(names) now and on each change, [] without one (or when
 * it cannot be read). Returns the unsubscribe.
 */
export function watchMembership(store, email, onGroups) {
  return onSnapshot(
    doc(store.db, store.names.memberships, email),
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
export function watchApprovals(store, session, statuses, onDocs, onError) {
  const results = [null, null, []]; // per query: its documents, once it answered
  const emit = () => {
    if (results.some((docs) => docs === null)) return;
    const merged = new Map(results.flat().map((request) => [request.id, request]));
    onDocs([...merged.values()].sort(newestFirst));
  };
  const listen = (index, approverFilter) =>
    onSnapshot(
      query(collection(store.db, store.names.requests), approverFilter, where("status", "in", statuses)),
      (snapshot) => {
        results[index] = snapshot.docs.map((d) => checked("request", { id: d.id, ...d.data() }));
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
export function watchMine(store, email, onDocs, onError) {
  return onSnapshot(
    query(collection(store.db, store.names.requests), where("requester", "==", email), orderBy("created_at", "desc")),
    (snapshot) => onDocs(snapshot.docs.map((d) => checked("request", { id: d.id, ...d.data() }))),
    onError,
  );
}

/** One request's audit trail, oldest first, live; returns the unsubscribe. */
export function watchAudit(store, requestId, onEvents, onError) {
  return onSnapshot(
    query(collection(store.db, store.names.audit), where("request_id", "==", requestId), orderBy("at")),
    (snapshot) => onEvents(snapshot.docs.map((d) => checked("audit", { id: d.id, ...d.data() }))),
    onError,
  );
}

export const watchRequest = (store, requestId, onData) =>
  watchUntilReadable(doc(store.db, store.names.requests, requestId), (request) => onData(checked("request", request)));

/** A document a workflow's template keeps for the person who asked, under its extension; live once it exists. */
export const watchTemplateDocument = (store, workflowKey, collectionName, id, onData) =>
  watchUntilReadable(doc(store.db, store.names.extensions, workflowKey, collectionName, id), onData);

/**
 * What the deployed workflows' templates add to the page (a panel each), live;
 * onDocs([{id: workflow key, template, panel, requester_collections}]).
 */
export function watchExtensions(store, onDocs, onError) {
  return onSnapshot(
    collection(store.db, store.names.extensions),
    (snapshot) => onDocs(snapshot.docs.map((d) => checked("extension", { id: d.id, ...d.data() }))),
    onError,
  );
}

/**
 * Listen to a document the workflow has not written yet. The rules read the
 * document's own fields, so until it exists the listener is refused: retry
 * with a growing delay rather than give up. A listen that neither answers nor
 * fails within UNANSWERED_MS is retried too, as a refusal can go unreported
 * (firebase-js-sdk#5856). Returns the unsubscribe.
 */
function watchUntilReadable(reference, onData) {
  let stop = () => {};
  let stopped = false;
  let delay = 250;
  let patience = UNANSWERED_MS;
  const listen = () => {
    let answered = false;
    const retry = () => {
      if (stopped) return;
      stop();
      setTimeout(() => !stopped && listen(), delay);
      delay = Math.min(delay * 2, 4000);
    };
    // A slow connection gets longer each time, so that its answer can arrive at all.
    const watchdog = setTimeout(() => {
      if (answered) return;
      patience = Math.min(patience * 2, 30000);
      retry();
    }, patience);
    stop = onSnapshot(
      reference,
      (snapshot) => {
        answered = true;
        clearTimeout(watchdog);
        delay = 250;
        if (snapshot.exists()) onData({ id: snapshot.id, ...snapshot.data() });
      },
      () => {
        answered = true;
        clearTimeout(watchdog);
        retry();
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
