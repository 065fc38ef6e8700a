// Built by ./dev into web/dist; the portal function serves index.html at / and the rest at /app/.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/app/",
  // JSX compiles to Preact's automatic runtime: no Babel, no framework plugin.
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    assetsDir: "", // flat names: /app/<name>-<hash>.js, one allow-list in the manifest
    manifest: true,
    emptyOutDir: true,
    target: "es2022",
  },
});
