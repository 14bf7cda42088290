// Regenerates spec/vectors/*.json byte for byte: `npm run vectors`.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { renderVectorFile, VECTOR_FILES } from "./render.js";

const here = dirname(fileURLToPath(import.meta.url));
for (const { file, build } of VECTOR_FILES) {
  const content = build() as { numberOfTests?: number };
  writeFileSync(join(here, file), renderVectorFile(content));
  console.log(`${file}: ${content.numberOfTests ?? "?"} tests`);
}
