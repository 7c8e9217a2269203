// A small element builder: the page is made of a few dozen nodes, no framework needed.

/**
 * h("button", { type: "button", onclick }, "Approve") -> <button>.
 * Attributes starting with "on" become listeners; null/false attributes are left out;
 * children are nodes or text (never parsed as HTML, so Firestore data cannot inject markup).
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  const given = children.flat().filter((child) => child !== null && child !== undefined);
  element.append(...given.map((child) => (typeof child === "string" ? visible(child) : child)));
  return element;
}

// Characters that make text read other than it is stored: bidirectional controls and marks,
// and C0/C1 controls but tab and line feed. The functions refuse them in what callers send
// (functions/common/inputs.py MISLEADING_CHARACTERS; a test keeps the two the same); text
// that reached Firestore another way shows each as [U+XXXX] instead of obeying it.
const MISLEADING = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** `text` with each misleading character written out, as the link page and the mails do. */
export function visible(text) {
  return text.replace(MISLEADING, (c) => `[U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}]`);
}

/** A page-unique id for label/aria references. */
let counter = 0;
export function uid(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}

const errorBox = () => document.getElementById("error");

/** Show a failure in the page's one alert region (screen readers announce it). */
export function showError(message) {
  const box = errorBox();
  box.textContent = message;
  box.hidden = false;
}

export function clearError() {
  const box = errorBox();
  box.textContent = "";
  box.hidden = true;
}

/** A Firestore Timestamp, an ISO 8601 string or a Date in the reader's locale; "" when absent or unreadable. */
export function formatTime(value) {
  const date = value?.toDate ? value.toDate() : typeof value === "string" ? new Date(value) : value;
  return date instanceof Date && !Number.isNaN(date.getTime()) ? date.toLocaleString() : "";
}
