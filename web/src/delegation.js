// "Out of office": hand my approvals to someone until a date (/api/delegations),
// and see who handed theirs to me.

import { clearDelegation, getDelegations, setDelegation } from "./api.js";
import { formatTime, h } from "./dom.js";

// The API refuses delegations longer than 90 days; the last selectable day ends inside them.
const MAX_DAYS = 89;

export function showDelegation(session, container) {
  const delegate = h("input", { id: "delegate", type: "email", name: "delegate", autocomplete: "off", required: true });
  const until = h("input", { id: "delegate-until", type: "date", name: "until", required: true });
  const save = h("button", { type: "submit" }, "Set delegation");
  const form = h(
    "form",
    { class: "delegation-form" },
    h("div", { class: "field" }, h("label", { for: "delegate" }, "Delegate to (e-mail)"), delegate),
    h("div", { class: "field" }, h("label", { for: "delegate-until" }, "Until (last day)"), until),
    h("div", { class: "actions" }, save),
  );
  const current = h("p", { class: "current" }, "Loading…");
  const clear = h("button", { type: "button", class: "secondary", hidden: true }, "Clear delegation");
  const result = h("p", { class: "note", role: "status" });
  const toMe = h("ul", { class: "plain", "aria-labelledby": "delegated-to-me" });
  container.replaceChildren(
    current,
    h("div", { class: "actions" }, clear),
    form,
    result,
    h("h3", { id: "delegated-to-me" }, "Delegated to me"),
    toMe,
  );

  const show = ({ delegation, delegated_to_me: delegatedToMe }) => {
    current.textContent = delegation
      ? `Your approvals go to ${delegation.delegate} until ${formatTime(delegation.ends_at)}.`
      : "You have not delegated your approvals.";
    clear.hidden = !delegation;
    const entries = Array.isArray(delegatedToMe) ? delegatedToMe : [];
    toMe.replaceChildren(
      ...(entries.length
        ? entries.map((d) => h("li", {}, `${d.delegator} until ${formatTime(d.ends_at)}`))
        : [h("li", { class: "muted" }, "Nobody has delegated their approvals to you.")]),
    );
  };
  const load = async () => {
    try {
      show(await getDelegations(await session.idToken()));
    } catch (error) {
      current.textContent = `Your delegation could not be read: ${error.message}`;
    }
  };
  /** Run a change, say how it went in the live region, then show the stored state; true when it worked. */
  const change = async (action, done) => {
    save.disabled = clear.disabled = true;
    result.classList.remove("failure");
    let changed = false;
    try {
      await action(await session.idToken());
      result.textContent = done;
      changed = true;
    } catch (error) {
      result.classList.add("failure");
      result.textContent = error.message;
    }
    await load();
    save.disabled = clear.disabled = false;
    return changed;
  };

  const today = new Date();
  until.min = dateValue(today);
  until.max = dateValue(new Date(today.getFullYear(), today.getMonth(), today.getDate() + MAX_DAYS));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const [year, month, day] = until.value.split("-").map(Number);
    // The whole last day, in the approver's time zone.
    const endsAt = new Date(year, month - 1, day, 23, 59, 59).toISOString();
    const saved = await change(
      (token) => setDelegation(delegate.value.trim(), endsAt, token),
      `Delegation saved: ${delegate.value.trim()} approves for you.`,
    );
    if (saved) form.reset();
  });
  clear.addEventListener("click", async () => {
    const cleared = await change(clearDelegation, "Delegation cleared.");
    // The button just hid itself: continue from the form.
    if (cleared) delegate.focus();
  });
  load();
}

/** yyyy-mm-dd of a local date, as <input type="date"> takes it. */
function dateValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}
