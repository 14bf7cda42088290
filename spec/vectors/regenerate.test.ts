import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { renderVectorFile, VECTOR_FILES } from "./render.js";

const here = dirname(fileURLToPath(import.meta.url));

describe("spec/vectors", () => {
  for (const { file, build } of VECTOR_FILES) {
    it(`${file} is exactly what the generator writes`, () => {
      const committed = readFileSync(join(here, file), "utf8");
      expect(renderVectorFile(build())).toBe(committed);
    });
  }
});
