/**
 * Case-id patterns, as in connectrpc/conformance: `*` matches within one
 * `/`-separated part, `**` matches across parts (including none). A pattern
 * without wildcards must equal the id, or name a family (`reused-code`).
 */
export function globToRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "*") {
      if (pattern[i + 1] === "*") {
        i++;
        // "**/" also matches zero parts.
        if (pattern[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else {
          re += ".*";
        }
      } else {
        re += "[^/]*";
      }
    } else if (ch === "?") {
      re += "[^/]";
    } else {
      re += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(`^${re}$`);
}

export function matchesGlob(id: string, pattern: string): boolean {
  const p = pattern.trim();
  if (p === "") return false;
  if (!p.includes("*") && !p.includes("?") && !p.includes("/")) {
    // A bare family name selects the whole family.
    return id === p || id.startsWith(`${p}/`);
  }
  return globToRegExp(p).test(id);
}

export function matchesAny(id: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => matchesGlob(id, p));
}
