// The panels the deployed workflows' templates add to the page: one section per
// workflow whose template has a panel (workflow_templates/page/), in the order of
// their workflow keys. A stack without such workflows shows none.

import TEMPLATE_PAGES from "@templates/page";
import { h } from "./dom.js";
import { watchExtensions } from "./store.js";

export function showExtensions(session, container) {
  const mounted = new Map(); // workflow key -> its section
  return watchExtensions(
    session.store,
    (extensions) => {
      const sections = extensions
        .filter((extension) => TEMPLATE_PAGES[extension.template]?.panel)
        .sort((a, b) => a.id.localeCompare(b.id))
        .map((extension) => mounted.get(extension.id) || mount(session, extension));
      mounted.clear();
      sections.forEach((section) => mounted.set(section.dataset.workflow, section));
      container.replaceChildren(...sections);
    },
    () => container.replaceChildren(),
  );
}

function mount(session, extension) {
  const { panel } = TEMPLATE_PAGES[extension.template];
  const headingId = `extension-${extension.id}-heading`;
  const body = h("div");
  const section = h(
    "section",
    { class: "panel", "aria-labelledby": headingId, "data-workflow": extension.id },
    h("h2", { id: headingId }, panel.title),
    body,
  );
  panel.mount(body, session, extension);
  return section;
}
