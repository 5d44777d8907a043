// Builds the designer into Django's static folder with stable names (editor.js, editor.css,
// flowlist.js, analytics.js) so the templates can reference them with {% static %} and no manifest.
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  plugins: [react()],
  base: "./",
  build: {
    outDir: here("../static/designer_ui/build"),
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
    rolldownOptions: {
      input: {
        editor: here("src/editor/main.jsx"),
        flowlist: here("src/flowlist/main.js"),
        analytics: here("src/analytics/main.js"),
      },
      output: {
        entryFileNames: "[name].js",
        chunkFileNames: "chunks/[name].js",
        assetFileNames: "[name][extname]",
      },
    },
  },
});
