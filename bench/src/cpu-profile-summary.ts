import { readFileSync } from "node:fs";

/** The parts of a V8 `.cpuprofile` (node --cpu-prof) this summary reads. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * Layers of the reference server, tried from the sampled frame outwards: a
 * sample belongs to the innermost frame that names one. So time in
 * better-sqlite3 or node-postgres called from the store counts as the SQL
 * driver, and a socket write made by node-postgres counts as the driver
 * too, not as Node core.
 */
const LAYERS: readonly [string, RegExp][] = [
  ["SQL driver", /node_modules\/(better-sqlite3|pg|pg-pool|pg-protocol)\//],
  ["store", /server\/(dist|src)\/store\//],
  ["auth", /server\/(dist|src)\/(issuer\/(authentication|api-keys)|rpc\/(authenticator|bearer))/],
  ["issuer + codec", /server\/(dist|src)\/issuer\/|protocol\/(dist|src)\//],
  ["transport (RPC, protobuf)", /server\/(dist|src)\/rpc\/|@connectrpc|@bufbuild/],
];

export interface ProfileSummary {
  /** Seconds of samples summarised. */
  seconds: number;
  layers: { layer: string; share: number }[];
  top: { frame: string; share: number }[];
}

/**
 * Per-layer split and top self frames of the samples between `fromS` and
 * `toS` seconds after the profile started (e.g. the Scan phase only).
 * Shares are of wall time sampled on the main thread: "idle" is the event
 * loop waiting, "Node core" is HTTP/2, sockets, timers and streams not
 * reached through a layer above.
 */
export function summarizeCpuProfile(
  file: string,
  opts: { fromS?: number; toS?: number; top?: number } = {},
): ProfileSummary {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const layerOf = new Map<number, string>();
  const classify = (id: number): string => {
    const known = layerOf.get(id);
    if (known) return known;
    const leaf = byId.get(id)!.callFrame;
    let layer: string | undefined;
    let core = false;
    for (let x: number | undefined = id; x !== undefined && !layer; x = parent.get(x)) {
      const url = byId.get(x)!.callFrame.url;
      layer = LAYERS.find(([, re]) => re.test(url))?.[0];
      core ||= url.startsWith("node:");
    }
    layer ??=
      leaf.functionName === "(idle)"
        ? "idle"
        : leaf.functionName === "(garbage collector)"
          ? "GC"
          : core
            ? "Node core"
            : "other (V8, native)";
    layerOf.set(id, layer);
    return layer;
  };
  const from = p.startTime + (opts.fromS ?? 0) * 1e6;
  const to = opts.toS === undefined ? Number.POSITIVE_INFINITY : p.startTime + opts.toS * 1e6;
  const layers = new Map<string, number>();
  const self = new Map<string, number>();
  let total = 0;
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i]!;
    if (t < from || t > to) continue;
    const id = p.samples[i]!;
    const dt = p.timeDeltas[i]!;
    total += dt;
    const layer = classify(id);
    layers.set(layer, (layers.get(layer) ?? 0) + dt);
    const f = byId.get(id)!.callFrame;
    const where = f.url
      ? ` ${f.url.replace(/^.*\/(node_modules|dist|src)\//, "")}:${f.lineNumber + 1}`
      : "";
    const frame = `${f.functionName || "(anonymous)"}${where}`;
    self.set(frame, (self.get(frame) ?? 0) + dt);
  }
  const sorted = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, total > 0 ? v / total : 0] as const);
  return {
    seconds: total / 1e6,
    layers: sorted(layers).map(([layer, share]) => ({ layer, share })),
    top: sorted(self)
      .slice(0, opts.top ?? 15)
      .map(([frame, share]) => ({ frame, share })),
  };
}

/** Markdown: the layer split, then the top self frames. */
export function formatProfileSummary(s: ProfileSummary): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return [
    `${s.seconds.toFixed(1)} s of samples.`,
    "",
    "| layer | share of samples |",
    "|---|---|",
    ...s.layers.map((l) => `| ${l.layer} | ${pct(l.share)} |`),
    "",
    "| top self frames | share |",
    "|---|---|",
    ...s.top.map((f) => `| \`${f.frame}\` | ${pct(f.share)} |`),
  ].join("\n");
}
