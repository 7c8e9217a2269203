// Who is signed in, and a Firestore instance that reads as them.
//
// Production: Firebase Auth with Google; Firestore uses the Auth session itself.
// Local (`make up`): the local identity provider mints an ID token for any e-mail;
// the Firestore emulator takes it as `mockUserToken`, so the stack's security
// rules see the same claims the functions verify.

import { initializeApp } from "firebase/app";
import { GoogleAuthProvider, getAuth, onAuthStateChanged, signInWithPopup, signOut } from "firebase/auth";
import { connectFirestoreEmulator, getFirestore } from "firebase/firestore";

const LOCAL_SESSION_KEY = "approvals.localSession";

/**
 * Calls onSession({ email, groups, db, idToken(), signOut() }) once someone is signed in,
 * or onSignedOut(signIn) with the function that signs in (an e-mail locally, nothing in production).
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
    onSession({
      email,
      groups: groupsClaim(decodePayload(idToken)),
      db,
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
  onAuthStateChanged(auth, async (user) => {
    if (!user) {
      onSignedOut(async () => {
        await signInWithPopup(auth, new GoogleAuthProvider());
      });
      return;
    }
    const { claims } = await user.getIdTokenResult();
    onSession({
      email: (user.email || "").toLowerCase(),
      groups: groupsClaim(claims),
      db,
      idToken: () => user.getIdToken(),
      signOut: async () => {
        await signOut(auth);
        // Listeners of the previous user must not outlive the session.
        location.reload();
      },
    });
  });
}

/** The token's `groups` custom claim (the names `group:NAME` approvers match), or []. */
function groupsClaim(claims) {
  const groups = Array.isArray(claims.groups) ? claims.groups : [];
  return [...new Set(groups.filter((g) => typeof g === "string" && g))];
}

/** The claims of a JWT: its middle part is base64url-encoded JSON. */
function decodePayload(jwt) {
  const base64 = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "=")), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function splitHost(hostAndPort) {
  const index = hostAndPort.lastIndexOf(":");
  return [hostAndPort.slice(0, index), Number(hostAndPort.slice(index + 1))];
}
