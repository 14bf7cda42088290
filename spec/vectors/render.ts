import { buildFf1Vectors } from "./ff1-vectors.js";
import { buildOfflineVectors } from "./offline-vectors.js";
import { buildOnlineVectors } from "./online-vectors.js";

/** Each vector file of spec/vectors/ and the builder that makes it. */
export const VECTOR_FILES: ReadonlyArray<{ file: string; build: () => object }> = [
  { file: "online-codes.json", build: buildOnlineVectors },
  { file: "offline-codes.json", build: buildOfflineVectors },
  { file: "ff1.json", build: buildFf1Vectors },
];

/** The exact bytes of a vector file: stable key order as built, 2-space indent, final newline. */
export function renderVectorFile(content: object): string {
  return `${JSON.stringify(content, (_key, value) => (typeof value === "bigint" ? value.toString() : value), 2)}\n`;
}
