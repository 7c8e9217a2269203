// Entry point: configuration, then the session bar, then the signed-in views.

import { watchSession } from "./auth.js";
import { loadConfig } from "./config.js";
import { showDelegation } from "./delegation.js";
import { clearError, h, showError } from "./dom.js";
import { showMine } from "./mine.js";
import { showApprovals } from "./requests.js";
import { showExtensions } from "./extensions.js";

const $ = (id) => document.getElementById(id);

async function start() {
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    $("loading").hidden = true;
    showError(error.message);
    return;
  }
  watchSession(config, {
    onSignedOut: (signIn) => {
      $("loading").hidden = true;
      $("signed-in").hidden = true;
      $("session").replaceChildren(config.local ? localSignInForm(signIn) : googleSignInButton(signIn));
    },
    onSession: (session) => {
      $("loading").hidden = true;
      clearError();
      const signOut = h("button", { type: "button", onclick: () => session.signOut() }, "Sign out");
      $("session").replaceChildren(h("p", {}, `Signed in as ${session.email}`), signOut);
      $("signed-in").hidden = false;
      showApprovals(session, $("pending"), $("history"));
      showMine(session, $("mine"));
      showExtensions(session, $("extensions"));
      showDelegation(session, $("delegation"));
      // The sign-in form just disappeared: give keyboard users a place to continue from.
      if (document.activeElement === document.body || !document.activeElement?.isConnected) {
        const heading = $("pending-heading");
        heading.tabIndex = -1;
        heading.focus();
      }
    },
  });
}

function localSignInForm(signIn) {
  const email = h("input", { id: "email", type: "email", name: "email", autocomplete: "email", required: true });
  const button = h("button", { type: "submit" }, "Sign in");
  return h(
    "form",
    {
      class: "sign-in",
      onsubmit: async (event) => {
        event.preventDefault();
        button.disabled = true;
        clearError();
        try {
          await signIn(email.value.trim());
        } catch (error) {
          showError(error.message);
          button.disabled = false;
          email.focus();
        }
      },
    },
    h("label", { for: "email" }, "Email"),
    email,
    button,
  );
}

function googleSignInButton(signIn) {
  return h(
    "button",
    {
      type: "button",
      onclick: async () => {
        clearError();
        try {
          await signIn();
        } catch (error) {
          showError(`sign-in failed: ${error.message}`);
        }
      },
    },
    "Sign in with Google",
  );
}

start();
