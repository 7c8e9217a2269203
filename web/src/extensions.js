// The panels the deployed workflows' templates add to the page: one section per
// workflow whose extension has a panel its template's page module provides
// (workflow_templates/page/), in the order of their workflow keys. A stack without
// such workflows shows none, and a workflow that leaves takes its panel along.

import TEMPLATE_PAGES from "@templates/page";
import { h, showError } from "./dom.js";
import { watchExtensions } from "./store.js";

export function showExtensions(session, container) {
  let mounted = new Map(); // what a panel was built from -> {section, stop}
  return watchExtensions(
    session.store,
    (extensions) => {
      const shown = extensions
        .filter((extension) => extension.panel === true && TEMPLATE_PAGES[extension.template]?.panel)
        .sort((a, b) => a.id.localeCompare(b.id));
      const next = new Map();
      for (const extension of shown) {
        // Two workflows of one template get their keys in their headings, to tell them apart.
        const twin = shown.some((other) => other !== extension && other.template === extension.template);
        const title = `${TEMPLATE_PAGES[extension.template].panel.title}${twin ? ` (${extension.id})` : ""}`;
        const built = JSON.stringify([extension.id, extension.template, extension.requester_collections, title]);
        next.set(built, mounted.get(built) || mount(session, extension, title));
      }
      mounted.forEach((panel, built) => next.has(built) || panel.stop());
      mounted = next;
      const sections = [...next.values()].map((panel) => panel.section);
      // Unchanged panels stay where they are, so a change elsewhere never moves the focus.
      const moved = sections.some((section, index) => container.children[index] !== section);
      if (moved || container.children.length !== sections.length) container.replaceChildren(...sections);
    },
    (error) => showError(`The page's panels could not be read: ${error.message}`),
  );
}

function mount(session, extension, title) {
  const headingId = `extension-${extension.id}-heading`;
  const body = h("div");
  const section = h("section", { class: "panel", "aria-labelledby": headingId }, h("h2", { id: headingId }, title), body);
  const stop = TEMPLATE_PAGES[extension.template].panel.mount(body, session, extension) || (() => {});
  return { section, stop };
}
