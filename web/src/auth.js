// Who is signed in, and a Firestore instance that reads as them.
//
// Production: Firebase Auth with Google; Firestore uses the Auth session itself.
// Local (`make up`): the local identity provider mints an ID token for any e-mail;
// the Firestore emulator takes it as `mockUserToken`, so the stack's security
// rules see the same claims the functions verify.
// Either way the token carries no groups: the user's approver groups come from their
// membership document, which `pulumi up` writes from the stack's `approvals:groups`.

import { initializeApp } from "firebase/app";
import { GoogleAuthProvider, getAuth, onAuthStateChanged, signInWithPopup, signOut } from "firebase/auth";
import { connectFirestoreEmulator, getFirestore } from "firebase/firestore";
import { openStore, watchMembership } from "./store.js";

const LOCAL_SESSION_KEY = "approvals.localSession";

/**
 * Calls onSession(session) once someone is signed in and their groups are known, or
 * onSignedOut(signIn) with the function that signs in (an e-mail locally, nothing in production).
 * session: { email, groups, db, idToken(), signOut(), onGroups(listener) }; `groups` (the names
 * `group:NAME` approvers match) stays current with the membership document, and
 * onGroups(listener) calls listener(groups) now and on each change, returning the unsubscribe.
 */
export function watchSession(config, { onSession, onSignedOut }) {
  if (config.local) watchLocalSession(config, onSession, onSignedOut);
  else watchFirebaseSession(config, onSession, onSignedOut);
}

function watchLocalSession(config, onSession, onSignedOut) {
  const open = ({ email, idToken }) => {
    const app = initializeApp({ projectId: config.projectId, apiKey: "local" });
    const db = getFirestore(app, config.database);
    const [host, port] = splitHost(config.firestoreHost);
    connectFirestoreEmulator(db, host, port, { mockUserToken: idToken });
    startSession(onSession, {
      email,
      store: openStore(db, config.collections),
      idToken: async () => idToken,
      signOut: async () => {
        sessionStorage.removeItem(LOCAL_SESSION_KEY);
        // A Firestore instance keeps its emulator token: start over with a fresh page.
        location.reload();
      },
    });
  };
  const saved = sessionStorage.getItem(LOCAL_SESSION_KEY);
  if (saved) {
    open(JSON.parse(saved));
    return;
  }
  onSignedOut(async (email) => {
    const response = await fetch("/local/sign-in", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email }),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(answer.error || `sign-in failed (HTTP ${response.status})`);
    const session = { email: answer.email.toLowerCase(), idToken: answer.idToken };
    sessionStorage.setItem(LOCAL_SESSION_KEY, JSON.stringify(session));
    open(session);
  });
}

function watchFirebaseSession(config, onSession, onSignedOut) {
  const app = initializeApp(config.firebase);
  const auth = getAuth(app);
  const db = getFirestore(app, config.database);
  onAuthStateChanged(auth, (user) => {
    if (!user) {
      onSignedOut(async () => {
        await signInWithPopup(auth, new GoogleAuthProvider());
      });
      return;
    }
    startSession(onSession, {
      email: (user.email || "").toLowerCase(),
      store: openStore(db, config.collections),
      idToken: () => user.getIdToken(),
      signOut: async () => {
        await signOut(auth);
        // Listeners of the previous user must not outlive the session.
        location.reload();
      },
    });
  });
}

/** onSession(session) with `fields` once the user's membership document first answers; see watchSession. */
function startSession(onSession, fields) {
  const listeners = new Set();
  let started = false;
  const session = {
    ...fields,
    groups: [],
    onGroups(listener) {
      listeners.add(listener);
      listener(session.groups);
      return () => listeners.delete(listener);
    },
  };
  // Lives as long as the page: signing out reloads it.
  watchMembership(fields.store, fields.email, (groups) => {
    session.groups = groups;
    if (!started) {
      started = true;
      onSession(session);
      return;
    }
    listeners.forEach((listener) => listener(groups));
  });
}

function splitHost(hostAndPort) {
  const index = hostAndPort.lastIndexOf(":");
  return [hostAndPort.slice(0, index), Number(hostAndPort.slice(index + 1))];
}
