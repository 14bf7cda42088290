#!/usr/bin/env bash
# Runs every benchmark that docs/benchmarks.md reports, once, and leaves the
# text output, JSON and SVG of each in OUT. Needs a quiet machine: anything
# else running shifts every figure. PostgreSQL runs only when PAYCODE_BENCH_PG
# names a server URL without a database (e.g. postgres://postgres@127.0.0.1:5432);
# a database paycode_bench_<random> is created there and dropped at the end.
#
#   bash bench/run-benchmarks.sh [OUT] [--skip-1m]
#
# PAYCODE_BENCH_DURATION / PAYCODE_BENCH_WARMUP set the seconds per phase
# (default 10 / 3); PAYCODE_BENCH_QUICK=1 makes a short rehearsal (1 s
# phases, short micro, 1/10 of the wallets, no 10^6 run).
# PAYCODE_BENCH_PROFILE=1 adds CPU profiles of the server under Scan load on
# each store after the measured runs (profile-*.md).
# PAYCODE_BENCH_SEEDED=DIR keeps the 10^6-wallet store (w1m.db, w1m.wallets,
# master.key) in DIR and reuses it when present: seeding takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${1:-bench-results}
SKIP_1M=${2:-}
PAYCODE=(node reference/cli/bin/paycode.js)
DURATION=${PAYCODE_BENCH_DURATION:-10}
WARMUP=${PAYCODE_BENCH_WARMUP:-3}
MICRO=(--time 250 --rounds 11)
DIV=1
if [[ -n "${PAYCODE_BENCH_QUICK:-}" ]]; then
  DURATION=1 WARMUP=0 MICRO=(--time 100) DIV=10 SKIP_1M=--skip-1m
fi
WORK=$(mktemp -d /tmp/paycode-bench-XXXXXX)
mkdir -p "$OUT"
SEEDED=${PAYCODE_BENCH_SEEDED:-$WORK}
mkdir -p "$SEEDED"
# One master key for seeding and serving, kept with the reusable store.
if [[ ! -f "$SEEDED/master.key" ]]; then
  node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))' >"$SEEDED/master.key"
fi
PAYCODE_MASTER_KEY=$(cat "$SEEDED/master.key")
export PAYCODE_MASTER_KEY
SERVERS=()
PG_DB=""

cleanup() {
  for pid in "${SERVERS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ -n "$PG_DB" ]]; then
    psql "$PAYCODE_BENCH_PG/postgres" -qc "DROP DATABASE IF EXISTS $PG_DB" || true
    psql "$PAYCODE_BENCH_PG/postgres" -qc "DROP DATABASE IF EXISTS ${PG_DB}_layers" || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# serve STORE PORT [SERVE ARGS...]: starts a server with test control, waits until it listens, sets SERVER_PID.
# NODE_FLAGS (e.g. --cpu-prof) go to the server's node.
serve() {
  node ${NODE_FLAGS:-} "${PAYCODE[@]:1}" serve --store "$1" --port "$2" --enable-test-control "${@:3}" >"$OUT/serve-$2.log" 2>&1 &
  SERVER_PID=$!
  SERVERS+=("$SERVER_PID")
  for _ in $(seq 100); do
    grep -q "listening on" "$OUT/serve-$2.log" && return 0
    sleep 0.1
  done
  echo "server on port $2 did not start" >&2
  cat "$OUT/serve-$2.log" >&2
  return 1
}

stop() {
  kill -INT "$1"
  wait "$1" 2>/dev/null || true
}

# load NAME ARGS...: one `bench load` run, text to NAME.txt, JSON to NAME.json.
load() {
  local name=$1
  shift
  echo "== load $name: $*"
  "${PAYCODE[@]}" bench load --duration "$DURATION" --warmup "$WARMUP" \
    --json "$OUT/$name.json" "$@" | tee "$OUT/$name.txt"
}

scan_rate() { node -e 'console.log(Math.round(require(process.argv[1]).phases.work.throughput))' "$(realpath "$1")"; }

echo "== machine"
uptime | tee "$OUT/uptime-start.txt"

echo "== micro"
"${PAYCODE[@]}" bench micro "${MICRO[@]}" --json "$OUT/micro.json" | tee "$OUT/micro.txt"

echo "== bare HTTP floor"
"${PAYCODE[@]}" bench floor-http --concurrency 16 --duration "$DURATION" --warmup "$WARMUP" \
  --json "$OUT/floor-http-h2.json" | tee "$OUT/floor-http-h2.txt"
"${PAYCODE[@]}" bench floor-http --concurrency 16 --duration "$DURATION" --warmup "$WARMUP" \
  --http 1.1 --json "$OUT/floor-http-h1.json" | tee "$OUT/floor-http-h1.txt"

echo "== SQLite: Scan vs Ping vs bare HTTP"
# Codes burn: runs minutes apart must not share wallets, so each gets its own.
for part in c16:20000 c1:5000 open:20000; do
  "${PAYCODE[@]}" bench seed-wallets --store "sqlite:$WORK/main.db" --count $((${part#*:} / DIV)) \
    --out "$WORK/${part%%:*}.wallets"
done
serve "sqlite:$WORK/main.db" 18090
load sqlite-c16 --target http://127.0.0.1:18090 --concurrency 16 --wallet-file "$WORK/c16.wallets" \
  --server-pid "$SERVER_PID" --store-label "sqlite (WAL, WAL fdatasync before acknowledging)" --floor-http \
  --svg "$OUT/sqlite-c16.svg"
load sqlite-c1 --target http://127.0.0.1:18090 --concurrency 1 --wallet-file "$WORK/c1.wallets" \
  --server-pid "$SERVER_PID" --store-label "sqlite (WAL, WAL fdatasync before acknowledging)" --floor-http
RATE=$(($(scan_rate "$OUT/sqlite-c16.json") / 2))
RATE=$((RATE < 50 ? 50 : RATE))
load sqlite-open --target http://127.0.0.1:18090 --rate "$RATE" --wallet-file "$WORK/open.wallets" \
  --server-pid "$SERVER_PID" --store-label "sqlite (WAL, WAL fdatasync before acknowledging)" \
  --svg "$OUT/sqlite-open.svg"
stop "$SERVER_PID"

echo "== SQLite: a Scan in-process through the store and the issuer"
# What the store and the issuer cost without HTTP, by Scans per commit group;
# the load run's server CPU per Scan minus the issuer layer is the transport.
"${PAYCODE[@]}" bench scan-layers --store "sqlite:$WORK/layers.db" --wallets $((10000 / DIV)) \
  --scans $((6000 / DIV)) --groups 1,4,16 --json "$OUT/scan-layers-sqlite.json" | tee "$OUT/scan-layers-sqlite.txt"

echo "== scale: 10^3 vs 10^6 wallets (SQLite)"
"${PAYCODE[@]}" bench seed-wallets --store "sqlite:$WORK/w1k.db" --count 1000 --out "$WORK/w1k.wallets"
serve "sqlite:$WORK/w1k.db" 18091
# 10^3 wallets make at most 24-32k codes at once: keep the phase short.
load scale-1k --target http://127.0.0.1:18091 --concurrency 16 --wallet-file "$WORK/w1k.wallets" \
  --server-pid "$SERVER_PID" --store-label "sqlite, 10^3 wallets" --duration $((DURATION < 5 ? DURATION : 5)) --warmup 1
stop "$SERVER_PID"
if [[ "$SKIP_1M" != "--skip-1m" ]]; then
  if [[ ! -f "$SEEDED/w1m.wallets" ]]; then
    rm -f "$SEEDED"/w1m.db*
    "${PAYCODE[@]}" bench seed-wallets --store "sqlite:$SEEDED/w1m.db" --count 1000000 --batch 10000 \
      --out "$SEEDED/w1m.wallets.tmp" | tail -1 | tee "$OUT/seed-1m.txt"
    mv "$SEEDED/w1m.wallets.tmp" "$SEEDED/w1m.wallets"
  fi
  serve "sqlite:$SEEDED/w1m.db" 18092
  # The warm-up of every other phase: at 10^6 wallets a Scan costs more, so one
  # second of Scans left V8 still compiling the hot path in the measured phase
  # (TurboFan 13.6 % of the server's samples there, 0.1 % after 5 s of warm-up).
  load scale-1m --target http://127.0.0.1:18092 --concurrency 16 --wallet-file "$SEEDED/w1m.wallets" \
    --server-pid "$SERVER_PID" --store-label "sqlite, 10^6 wallets" --duration $((DURATION < 5 ? DURATION : 5)) --warmup "$WARMUP"
  stop "$SERVER_PID"
fi

if [[ -n "${PAYCODE_BENCH_PG:-}" ]]; then
  echo "== PostgreSQL"
  PG_DB="paycode_bench_$(node -e 'console.log(require("crypto").randomBytes(4).toString("hex"))')"
  PG_URL="$PAYCODE_BENCH_PG/$PG_DB"
  psql "$PAYCODE_BENCH_PG/postgres" -qc "CREATE DATABASE $PG_DB"
  for part in pg:20000 pg1a:10000 pg1b:10000 pg2a:10000 pg2b:10000; do
    "${PAYCODE[@]}" bench seed-wallets --store "$PG_URL" --count $((${part#*:} / DIV)) \
      --batch 2000 --out "$WORK/${part%%:*}.wallets"
  done
  # Each measured phase starts from a checkpoint, so none pays for flushing
  # what the one before it wrote (seeding, the other phases).
  psql "$PG_URL" -qc "CHECKPOINT"
  serve "$PG_URL" 18093 --pg-pool-size 16
  load pg-c16 --target http://127.0.0.1:18093 --concurrency 16 --wallet-file "$WORK/pg.wallets" \
    --server-pid "$SERVER_PID" --store-label "postgresql (synchronous_commit=on, pool 16)" \
    --svg "$OUT/pg-c16.svg"
  stop "$SERVER_PID"

  # two_loads NAME PORT_A PID_A PORT_B PID_B LABEL: two load generators of 8 in flight at
  # once. No Ping phase and a given rate (no calibration), so both Scan phases start together.
  two_loads() {
    local half=$(($(scan_rate "$OUT/pg-c16.json") / 2 + 1))
    load "$1-a" --target "http://127.0.0.1:$2" --concurrency 8 --no-ping --expected-rate "$half" \
      --wallet-file "$WORK/${7}a.wallets" --server-pid "$3" --store-label "$6 A" &
    local load_a=$!
    load "$1-b" --target "http://127.0.0.1:$4" --concurrency 8 --no-ping --expected-rate "$half" \
      --wallet-file "$WORK/${7}b.wallets" --server-pid "$5" --store-label "$6 B" &
    local load_b=$!
    wait "$load_a"
    wait "$load_b"
  }

  # The two-server figure is set against one server under the same two load
  # generators: on two vCPUs a second generator process alone costs
  # throughput (one server, 8 + 8: 0.75-0.89x of one generator at 16 in
  # flight, stand-alone), which would be charged to the second server.
  echo "== PostgreSQL: a Scan in-process through the store and the issuer"
  LAYERS_DB="${PG_DB}_layers"
  psql "$PAYCODE_BENCH_PG/postgres" -qc "CREATE DATABASE $LAYERS_DB"
  "${PAYCODE[@]}" bench scan-layers --store "$PAYCODE_BENCH_PG/$LAYERS_DB" --wallets $((10000 / DIV)) \
    --scans $((6000 / DIV)) --groups 1,4,16 --json "$OUT/scan-layers-pg.json" | tee "$OUT/scan-layers-pg.txt"
  psql "$PAYCODE_BENCH_PG/postgres" -qc "DROP DATABASE $LAYERS_DB"

  echo "== PostgreSQL: one server, two load generators of 8 in flight at once"
  psql "$PG_URL" -qc "CHECKPOINT"
  serve "$PG_URL" 18094 --pg-pool-size 16
  two_loads pg-one "18094" "$SERVER_PID" "18094" "$SERVER_PID" "postgresql, one server, load" pg1
  stop "$SERVER_PID"

  echo "== PostgreSQL: two servers on one database, 8 + 8 in flight at once"
  psql "$PG_URL" -qc "CHECKPOINT"
  serve "$PG_URL" 18094 --pg-pool-size 16
  PID_A=$SERVER_PID
  serve "$PG_URL" 18095 --pg-pool-size 16
  PID_B=$SERVER_PID
  two_loads pg-two 18094 "$PID_A" 18095 "$PID_B" "postgresql, server" pg2
  stop "$PID_A"
  stop "$PID_B"

  # The floor: pgbench's built-in TPC-B-like transaction (debit an account,
  # credit a teller and a branch, insert a history row) on the same server,
  # 16 clients as the Scan load has 16 calls in flight, for as long as a
  # Scan phase. Scale 16 gives each client a branch row of its own. It runs
  # after the Scan phases: pgbench -i writes ~250 MB, which pushes Paycode's
  # pages out of shared_buffers, and a Scan phase right after it measured
  # 419-469 scans/s against 1,220-1,285 without it (same code, same server).
  echo "== pgbench floor (tpcb-like, 16 clients, -j 2)"
  pgbench -i -s 16 -q "$PG_URL" 2>&1 | tail -1
  psql "$PG_URL" -qc "CHECKPOINT"
  pgbench -n -c 16 -j 2 -T "$DURATION" "$PG_URL" 2>&1 | tee "$OUT/pgbench.txt"
  node -e '
    const t = require("fs").readFileSync(process.argv[1], "utf8");
    const num = (re) => Number(re.exec(t)?.[1]);
    console.log(JSON.stringify({ kind: "pgbench", script: "tpcb-like", clients: 16, threads: 2,
      scale: 16, durationS: Number(process.argv[2]), tps: num(/^tps = ([0-9.]+)/m),
      latencyAvgMs: num(/^latency average = ([0-9.]+) ms/m) }));' \
    "$OUT/pgbench.txt" "$DURATION" >"$OUT/pgbench.json"
fi

# profile NAME STORE WALLETS [SERVE ARGS...]: a Scan-only run against a server under
# node --cpu-prof, after the measured runs (profiling slows the server), summarised
# by `paycode bench profile-summary` into NAME.md (the first second, warm-up, skipped).
profile() {
  local name=$1 store=$2 wallets=$3
  shift 3
  rm -rf "$OUT/$name"
  NODE_FLAGS="--cpu-prof --cpu-prof-dir=$OUT/$name" serve "$store" 18096 "$@"
  "${PAYCODE[@]}" bench load --target http://127.0.0.1:18096 --concurrency 16 --no-ping \
    --expected-rate 2000 --duration 5 --warmup 1 --wallet-file "$wallets" --server-pid "$SERVER_PID" \
    --json "$OUT/$name.json" >"$OUT/$name.txt"
  stop "$SERVER_PID"
  # The main thread's profile is the first one the process writes (workers come later).
  "${PAYCODE[@]}" bench profile-summary "$(ls "$OUT/$name"/*.cpuprofile | head -1)" --from 2 \
    --top 15 | tee "$OUT/$name.md"
}

if [[ -n "${PAYCODE_BENCH_PROFILE:-}" ]]; then
  echo "== CPU profiles under Scan load"
  "${PAYCODE[@]}" bench seed-wallets --store "sqlite:$WORK/prof.db" --count $((10000 / DIV)) \
    --out "$WORK/prof-sqlite.wallets"
  profile profile-sqlite "sqlite:$WORK/prof.db" "$WORK/prof-sqlite.wallets"
  if [[ -n "$PG_DB" ]]; then
    "${PAYCODE[@]}" bench seed-wallets --store "$PG_URL" --count $((10000 / DIV)) --batch 2000 \
      --out "$WORK/prof-pg.wallets"
    profile profile-pg "$PG_URL" "$WORK/prof-pg.wallets" --pg-pool-size 16
  fi
fi

uptime | tee "$OUT/uptime-end.txt"
echo "results in $OUT"
