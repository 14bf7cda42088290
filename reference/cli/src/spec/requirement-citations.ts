// Spec → case → code in three hops: every Issuer-class MUST of
// spec/paycode.md is cited, as `[ID]`, by the reference server's code that
// implements it or by a mutant that breaks it.

/** A source file to search for citations. */
export interface CitingSource {
  readonly path: string;
  readonly text: string;
}

export interface CitationCheck {
  /** MUST / MUST NOT IDs of the Issuer class that no source cites. */
  readonly uncited: string[];
  /** Citations of IDs the spec does not define: `path: ID`. */
  readonly unknown: string[];
  /** Comments citing the retired "contract §N" numbering: `path:line`. */
  readonly staleReferences: string[];
}

const CITATION = /\[([A-Z]+-\d+)\]/g;

/** Which of `required` the sources cite, which citations are unknown, and stale references. */
export function checkCitations(
  required: readonly string[],
  known: ReadonlySet<string>,
  sources: readonly CitingSource[],
): CitationCheck {
  const cited = new Set<string>();
  const unknown: string[] = [];
  const staleReferences: string[] = [];
  for (const { path, text } of sources) {
    for (const m of text.matchAll(CITATION)) {
      const id = m[1]!;
      if (known.has(id)) cited.add(id);
      else unknown.push(`${path}: ${id}`);
    }
    text.split("\n").forEach((line, i) => {
      if (/contract §/.test(line)) staleReferences.push(`${path}:${i + 1}`);
    });
  }
  return { uncited: required.filter((id) => !cited.has(id)), unknown, staleReferences };
}
