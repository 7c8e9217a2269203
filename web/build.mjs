// Builds dist/: the page's HTML and CSS as written, and one bundled, minified
// app.js holding the Firebase SDK too, so the page loads nothing from a CDN.
// Templates bring their own page modules (workflow_templates/page/NAME.js: a payload
// renderer, a panel): `@templates/page` is generated here as a map of them all, by
// template name, and those modules import the page's own by `@page/...`.
import { cp, mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";

const TEMPLATE_PAGES = path.resolve("../workflow_templates/page");

const templatePages = {
  name: "template-pages",
  setup(esbuild) {
    esbuild.onResolve({ filter: /^@templates\/page$/ }, () => ({ path: TEMPLATE_PAGES, namespace: "template-pages" }));
    esbuild.onLoad({ filter: /.*/, namespace: "template-pages" }, async () => {
      const names = (await readdir(TEMPLATE_PAGES)).filter((file) => file.endsWith(".js")).sort();
      const imports = names.map((file, i) => `import * as m${i} from ${JSON.stringify(path.join(TEMPLATE_PAGES, file))};`);
      const entries = names.map((file, i) => `${JSON.stringify(path.basename(file, ".js"))}: m${i}`);
      return {
        contents: `${imports.join("\n")}\nexport default { ${entries.join(", ")} };\n`,
        resolveDir: TEMPLATE_PAGES,
        watchDirs: [TEMPLATE_PAGES],
      };
    });
  },
};

await rm("dist", { recursive: true, force: true });
await mkdir("dist");
await Promise.all([cp("src/index.html", "dist/index.html"), cp("src/app.css", "dist/app.css")]);
await build({
  entryPoints: ["src/main.js"],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  legalComments: "linked",
  outfile: "dist/app.js",
  logLevel: "warning",
  alias: { "@page": path.resolve("src") },
  // Template modules live outside web/: resolve their imports (the Firebase SDK) from here.
  nodePaths: [path.resolve("node_modules")],
  plugins: [templatePages],
});
