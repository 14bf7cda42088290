#!/usr/bin/env node
// The npm registry reachable here serves only the linux builds of some
// packages' platform binaries (@biomejs/cli-*, @bufbuild/buf-*), so `npm
// install` leaves their other-platform optional dependencies out of
// package-lock.json and `npm ci` then refuses the lockfile. This adds an entry
// for each missing one, gated by os/cpu/libc, so npm skips it on every
// platform but its own. Run it after `npm install` changes the lockfile.
import { readFileSync, writeFileSync } from "node:fs";

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(file, "utf8"));
const packages = lock.packages;

function platformOf(name) {
  const tail = name.split("/").pop();
  const os = ["android", "darwin", "linux", "win32", "freebsd"].find((o) =>
    tail.includes(`-${o}-`),
  );
  const cpu = ["arm64", "x64", "armv7", "arm", "ia32"].find((c) =>
    new RegExp(`-${c}(-|$)`).test(tail),
  );
  if (!os || !cpu) return undefined;
  const entry = { os: [os], cpu: [cpu === "armv7" ? "arm" : cpu] };
  if (tail.endsWith("-musl")) entry.libc = ["musl"];
  else if (os === "linux") entry.libc = ["glibc"];
  return entry;
}

let added = 0;
for (const [path, pkg] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const where = `${path ? `${path}/` : ""}node_modules/${dep}`;
    const top = `node_modules/${dep}`;
    if (packages[where] || packages[top]) continue;
    const platform = platformOf(dep);
    if (!platform) continue;
    packages[top] = { version, ...platform, dev: pkg.dev, optional: true };
    if (!packages[top].dev) delete packages[top].dev;
    added++;
  }
}
const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
lock.packages = sorted;
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: ${added} platform stub(s) added`);
