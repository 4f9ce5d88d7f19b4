#!/usr/bin/env bash
# Inbox benchmark, side by side in one run: cairn's inbox (fsync on, review mode,
# delivering to a local bare repository while it takes the load; rate limit and
# backlog cap off, as the floods outrun delivery by design) and Isso (from
# PyPI, run by gunicorn with 1 worker, guard off, moderation on, with the page it
# fetches for a new thread served on loopback).
#
# It prints, as medians over RUNS runs of DURATION seconds each:
#   - accepted POSTs per second at 4 and 64 connections, and p50/p99 latency;
#   - cairn's p50/p99 at a steady 1,000 requests per second (open loop: latency counts
#     from when a request was due, so queueing cannot hide);
#   - cairn's accepted POSTs per second at 4 connections while every delivery fails
#     (the site branch is missing from its repository), so retries pile up;
#   - peak RSS of each server (for cairn, after the steady 1,000 req/s run, with its
#     private part: the rest is the binary and shared libraries, OpenSSL among them),
#     and its working set: what it touches while it keeps serving that load;
#   - the time for a freshly started inbox to deliver 1,000 spooled comments to a
#     local bare repository, in batch mode and in review mode.
# All traffic stays on 127.0.0.1.
#
# Every inbox starts in a directory of its own, and nothing is deleted until the end:
# on ext4 without a journal, creating a file skips every inode freed in the last one
# to five minutes, so deleting a run's tens of thousands of files would slow down the
# spool (and Isso's SQLite journal) of the runs after it. For the same reason, leave
# five minutes between two invocations on such a file system.
#
# Usage: bench/inbox.sh        (needs python3 with venv and pip, and git)
#   RUNS=3 DURATION=5 BENCH_DIR=/tmp/x bench/inbox.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

RUNS=${RUNS:-3}
DURATION=${DURATION:-5}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/cairn-inbox-bench.XXXXXX)}
mkdir -p "$WORK"

cargo build --release --quiet --bin cairn --example load --example spool
CAIRN=$PWD/target/release/cairn
LOAD=$PWD/target/release/examples/load
SPOOL=$PWD/target/release/examples/spool

if [ ! -x "$WORK/venv/bin/gunicorn" ]; then
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install --quiet isso gunicorn
fi
ISSO_VERSION=$("$WORK/venv/bin/pip" show isso | awk '/^Version/ {print $2}')

wait_http() { for _ in $(seq 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done; echo "no answer from $1"; exit 1; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# The page Isso fetches to title a new thread.
PAGE_PORT=$(port)
for n in $(seq 0 499); do # the load spreads comments over /posts/p0/ ... /posts/p499/
  mkdir -p "$WORK/page/posts/p$n"
  echo "<!DOCTYPE html><title>Post $n</title><h1>Post $n</h1><div id=\"isso-thread\"></div>" >"$WORK/page/posts/p$n/index.html"
done
python3 -m http.server "$PAGE_PORT" --bind 127.0.0.1 --directory "$WORK/page" >/dev/null 2>&1 &
pids+=($!)

# A bare site repository for cairn to deliver to.
new_remote() {
  mkdir -p "$1.src" && echo "# bench" >"$1.src/README"
  commit_all "$1.src"
  git clone -q --bare "$1.src" "$1"
}

start_isso() { # -> ISSO_PID, ISSO_ADDR
  local p; p=$(port)
  rm -f "$WORK/isso.db"
  cat >"$WORK/isso.cfg" <<CFG
[general]
dbpath = $WORK/isso.db
host = http://127.0.0.1:$PAGE_PORT/
[moderation]
enabled = true
[guard]
enabled = false
[server]
listen = http://127.0.0.1:$p/
CFG
  ISSO_SETTINGS=$WORK/isso.cfg "$WORK/venv/bin/gunicorn" -w 1 -b "127.0.0.1:$p" isso.run \
    >"$WORK/isso.log" 2>&1 &
  ISSO_PID=$!
  pids+=($ISSO_PID)
  ISSO_ADDR=127.0.0.1:$p
  wait_http "http://$ISSO_ADDR/info"
}

start_cairn() { # MODE [SPOOL_DIR] [SITE_BRANCH] -> CAIRN_PID, CAIRN_ADDR, RUN_DIR (fresh)
  local p; p=$(port)
  RUN_DIR=$(mktemp -d "$WORK/run.XXXXXX")
  new_remote "$RUN_DIR/site.git"
  cat >"$RUN_DIR/cairn.toml" <<CFG
[site]
url = "http://127.0.0.1:$PAGE_PORT/"
[comments]
dir = "comments"
[inbox]
url = "http://127.0.0.1:$p"
spool = "${2:-$RUN_DIR/spool}"
allowed_origins = ["http://127.0.0.1:$p"]
rate_per_hour = 0
max_waiting = 0
[inbox.delivery]
remote = "site.git"
mode = "$1"
branch = "${3:-main}"
CFG
  CAIRN_SECRET=bench-secret-0123456789 RUST_LOG=warn "$CAIRN" inbox --config "$RUN_DIR/cairn.toml" \
    --listen "127.0.0.1:$p" >"$RUN_DIR/cairn.log" 2>&1 &
  CAIRN_PID=$!
  pids+=($CAIRN_PID)
  CAIRN_ADDR=127.0.0.1:$p
}

field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['$2'])" "$1"; }
record() { echo "$2" >>"$WORK/results/$1"; }

rm -rf "$WORK/results" && mkdir -p "$WORK/results"
trap 'cleanup; rm -rf "$WORK"/run.*' EXIT
for run in $(seq "$RUNS"); do
  start_isso
  start_cairn review
  wait_http "http://$CAIRN_ADDR/v1/health"
  for c in 4 64; do
    out=$("$LOAD" "$ISSO_ADDR" isso "$c" "$DURATION")
    record "isso-$c-rate" "$(field "$out" per_second)"
    record "isso-$c-p50" "$(field "$out" p50_ms)"
    record "isso-$c-p99" "$(field "$out" p99_ms)"
    out=$("$LOAD" "$CAIRN_ADDR" cairn "$c" "$DURATION")
    record "cairn-$c-rate" "$(field "$out" per_second)"
    record "cairn-$c-p50" "$(field "$out" p50_ms)"
    record "cairn-$c-p99" "$(field "$out" p99_ms)"
  done
  # The steady rate on a fresh inbox, not on the backlog the floods left behind.
  kill "$CAIRN_PID"; wait "$CAIRN_PID" 2>/dev/null || true
  start_cairn review
  wait_http "http://$CAIRN_ADDR/v1/health"
  out=$("$LOAD" "$CAIRN_ADDR" cairn 32 "$DURATION" 1000)
  record "cairn-1000-p50" "$(field "$out" p50_ms)"
  record "cairn-1000-p99" "$(field "$out" p99_ms)"
  record "cairn-1000-rate" "$(field "$out" per_second)"
  worker=$(pgrep -P "$ISSO_PID" | head -1)
  record isso-rss "$(( ($(hwm_kib "$ISSO_PID") + $(hwm_kib "$worker")) ))"
  record isso-worker-rss "$(hwm_kib "$worker")"
  record cairn-rss "$(hwm_kib "$CAIRN_PID")"
  record cairn-anon "$(awk '/RssAnon/ {print $2}' "/proc/$CAIRN_PID/status")"
  # Its working set: the pages it touches in two more seconds of the same load (the
  # kernel's accessed bits, cleared first), as against all it has mapped since start-up.
  # (Kernels without /proc/PID/clear_refs get no figure.)
  if echo 1 2>/dev/null >"/proc/$CAIRN_PID/clear_refs"; then
    "$LOAD" "$CAIRN_ADDR" cairn 32 2 1000 >/dev/null
    record cairn-ws "$(awk '/^Referenced:/ {s += $2} END {print s}' "/proc/$CAIRN_PID/smaps")"
  fi
  kill "$ISSO_PID" "$CAIRN_PID"; wait "$ISSO_PID" "$CAIRN_PID" 2>/dev/null || true

  # The same flood while the site's repository cannot take a comment (its site branch
  # is missing): every delivery fails and is retried later, and the backlog grows.
  start_cairn review "" gone
  wait_http "http://$CAIRN_ADDR/v1/health"
  out=$("$LOAD" "$CAIRN_ADDR" cairn 4 "$DURATION")
  record cairn-down-rate "$(field "$out" per_second)"
  record cairn-down-p99 "$(field "$out" p99_ms)"
  kill "$CAIRN_PID"; wait "$CAIRN_PID" 2>/dev/null || true

  # Delivery: 1,000 comments already in the spool, from start to done: in batch mode
  # (a commit each on one branch), and in review mode (a branch each).
  for mode in batch review; do
    spooled=$(mktemp -d "$WORK/run.XXXXXX")
    "$SPOOL" "$spooled/spool" 1000
    t0=$(date +%s.%N)
    start_cairn "$mode" "$spooled/spool"
    wait_http "http://$CAIRN_ADDR/v1/health"
    wait_delivered "$CAIRN_ADDR"
    t1=$(date +%s.%N)
    record "deliver-1000-$mode" "$(echo "$t1 - $t0" | bc -l)"
    check_delivered "$RUN_DIR/site.git" "$mode" 1000
    kill "$CAIRN_PID"; wait "$CAIRN_PID" 2>/dev/null || true
  done
done

m() { median <"$WORK/results/$1"; }
ratio() { python3 -c "print(f'{float($2)/float($1):.1f}x')"; }
echo
echo "inbox benchmark: median of $RUNS runs of ${DURATION}s; Isso $ISSO_VERSION (gunicorn, 1 worker)"
printf '%-28s %14s %14s %10s\n' "" "isso" "cairn" "cairn/isso"
for c in 4 64; do
  printf '%-28s %14.0f %14.0f %10s\n' "accepted POST/s, $c conns" "$(m isso-$c-rate)" "$(m cairn-$c-rate)" "$(ratio "$(m isso-$c-rate)" "$(m cairn-$c-rate)")"
  printf '%-28s %14s %14s\n' "p50 / p99 ms, $c conns" "$(printf '%.2f / %.2f' "$(m isso-$c-p50)" "$(m isso-$c-p99)")" "$(printf '%.2f / %.2f' "$(m cairn-$c-p50)" "$(m cairn-$c-p99)")"
done
printf '%-28s %14s %14s\n' "POST/s, 4 conns, remote down" "-" "$(printf '%.0f (p99 %.2f ms)' "$(m cairn-down-rate)" "$(m cairn-down-p99)")"
printf '%-28s %14s %14s\n' "p50 / p99 ms at 1,000 req/s" "-" "$(printf '%.2f / %.2f' "$(m cairn-1000-p50)" "$(m cairn-1000-p99)")"
printf '%-28s %14s %14s\n' "peak RSS MiB" "$(printf '%.1f (worker %.1f)' "$(echo "$(m isso-rss) / 1024" | bc -l)" "$(echo "$(m isso-worker-rss) / 1024" | bc -l)")" "$(printf '%.1f (private %.1f)' "$(echo "$(m cairn-rss) / 1024" | bc -l)" "$(echo "$(m cairn-anon) / 1024" | bc -l)")"
if [ -f "$WORK/results/cairn-ws" ]; then
  printf '%-28s %14s %14s\n' "working set MiB at 1,000/s" "-" "$(printf '%.1f' "$(echo "$(m cairn-ws) / 1024" | bc -l)")"
fi
for mode in batch review; do
  printf '%-28s %14s %14s\n' "deliver 1,000 ($mode mode)" "-" "$(printf '%.2f s' "$(m "deliver-1000-$mode")")"
done
echo "raw figures: $WORK/results"
