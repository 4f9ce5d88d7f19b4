#!/usr/bin/env bash
# Delivery benchmark: how long a freshly started inbox takes to deliver N spooled
# comments to a local bare site repository, and its peak RSS, in batch mode (a commit
# each on one branch) and in review mode (a branch each), for two sites: one with no
# comments, and one holding the shared Disqus-for-Jekyll corpus (24,258 comment files
# in 1,740 directories, imported with `cairn import staticman` and committed by git as
# loose objects). The time includes the inbox's first copy of the site into its mirror;
# the "first copy" line is that copy alone (one comment delivered).
#
# Usage: bench/deliver.sh   (needs git and curl; RUNS=3 N=1000 CORPORA=../shared/corpora
#                            BENCH_DIR=/dev/shm/x; CAIRN=path of another build to time)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

RUNS=${RUNS:-3}
N=${N:-1000}
CORPORA=${CORPORA:-../shared/corpora}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/cairn-deliver-bench.XXXXXX)}
mkdir -p "$WORK"
cargo build --release --quiet --bin cairn --example spool --example synth
CAIRN=${CAIRN:-$PWD/target/release/cairn}
SPOOL=$PWD/target/release/examples/spool

# The sites, each as a bare repository to clone for every run.
if [ ! -d "$WORK/empty.git" ]; then
  mkdir -p "$WORK/empty" && echo "# bench" >"$WORK/empty/README"
  commit_all "$WORK/empty"
  git clone -q --bare "$WORK/empty" "$WORK/empty.git"
fi
if [ ! -d "$WORK/corpus.git" ]; then
  mkdir -p "$WORK/src"
  tar -xzf "$CORPORA/disqus-legacy-haacked.tar.gz" -C "$WORK/src"
  target/release/examples/synth "$WORK/import" --from-corpus "$WORK/src/_data/comments" >/dev/null
  "$CAIRN" import staticman "$WORK/src/_data/comments" --config "$WORK/import/cairn/cairn.toml" >/dev/null 2>&1
  commit_all "$WORK/import/cairn"
  git clone -q --bare "$WORK/import/cairn" "$WORK/corpus.git"
fi
echo "corpus site: $(git -C "$WORK/corpus.git" ls-tree -r main --name-only | grep -c '^comments/') comment files"

mkdir -p "$WORK/results"
rm -f "$WORK"/results/*
# deliver SITE MODE COUNT RESULT: one run; appends "seconds peak_rss_kib" to RESULT.
deliver() {
  local run; run=$(mktemp -d "$WORK/run.XXXXXX")
  git clone -q --bare "$WORK/$1.git" "$run/site.git"
  "$SPOOL" "$run/spool" "$3" >/dev/null
  local p; p=$(port)
  cat >"$run/cairn.toml" <<CFG
[site]
url = "http://127.0.0.1:9/"
[comments]
dir = "comments"
[inbox]
url = "http://127.0.0.1:$p"
spool = "$run/spool"
[inbox.delivery]
remote = "site.git"
mode = "$2"
CFG
  local t0=$EPOCHREALTIME
  CAIRN_SECRET=bench-secret-0123456789 RUST_LOG=warn "$CAIRN" inbox --config "$run/cairn.toml" \
    --listen "127.0.0.1:$p" >"$run/cairn.log" 2>&1 &
  local pid=$!
  wait_delivered "127.0.0.1:$p" "$pid"
  local t1=$EPOCHREALTIME
  local hwm; hwm=$(hwm_kib "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  check_delivered "$run/site.git" "$2" "$3"
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}') $hwm" >>"$4"
  rm -rf "$run"
}

for run in $(seq "$RUNS"); do
  for site in empty corpus; do
    deliver "$site" review 1 "$WORK/results/$site-first"
    for mode in batch review; do
      deliver "$site" "$mode" "$N" "$WORK/results/$site-$mode"
    done
  done
done

echo
echo "deliver $N spooled comments to a local bare repository: medians of $RUNS runs"
printf '%-24s %12s %14s\n' "" "seconds" "peak RSS MiB"
for site in empty corpus; do
  for what in first batch review; do
    f=$WORK/results/$site-$what
    printf '%-24s %12s %14.1f\n' "$site site, $what" "$(col 1 "$f")" "$(echo "$(col 2 "$f") / 1024" | bc -l)"
  done
done
echo "raw figures: $WORK/results"
