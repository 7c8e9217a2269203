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
  element.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return element;
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
