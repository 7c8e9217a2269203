// Builds dist/: the page's HTML and CSS as written, and one bundled, minified
// app.js holding the Firebase SDK too, so the page loads nothing from a CDN.
import { cp, mkdir, rm } from "node:fs/promises";
import { build } from "esbuild";

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
});
