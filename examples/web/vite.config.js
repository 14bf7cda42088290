// Two pages, built into dist/: the wallet (index.html) and the till (till.html).
import { resolve } from "node:path";
import { defineConfig } from "vite";

const here = import.meta.dirname;

export default defineConfig({
  root: here,
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    rollupOptions: {
      input: { wallet: resolve(here, "index.html"), till: resolve(here, "till.html") },
    },
  },
});
