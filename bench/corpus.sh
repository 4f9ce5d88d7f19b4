#!/usr/bin/env bash
# Real-corpus render benchmark: the shared Disqus-for-Jekyll corpus (24,258 comments,
# 1,740 threads, HTML messages) imported with `cairn import staticman` and rendered by
# `cairn render`, side by side with Hugo rendering the original data files itself
# through a data-file partial, on the same 1,740 pages, RUNS times in one run:
#   hugo (placeholder only)  ->  cairn render      (cairn's added time)
#   hugo (data-file partial)                       (Hugo's added time = this - plain)
# Prints medians, peak RSS and the ratio cairn added / Hugo added (target: <= 1/10).
# Every run builds into new directories (see run_dir in bench/lib.sh).
#
# Usage: bench/corpus.sh   (needs hugo and GNU time; RUNS=5 CORPORA=../shared/corpora)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
need_hugo_and_time

RUNS=${RUNS:-5}
CORPORA=${CORPORA:-../shared/corpora}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/cairn-corpus.XXXXXX)}
cargo build --release --quiet --bin cairn --example synth
CAIRN=$PWD/target/release/cairn

mkdir -p "$WORK/src"
tar -xzf "$CORPORA/disqus-legacy-haacked.tar.gz" -C "$WORK/src"
rm -rf "$WORK/site"
target/release/examples/synth "$WORK/site" --from-corpus "$WORK/src/_data/comments"
/usr/bin/time -f "%e %M" -o "$WORK/import.time" \
  "$CAIRN" import staticman "$WORK/src/_data/comments" --config "$WORK/site/cairn/cairn.toml" 2>/dev/null
echo "import: $(cut -d' ' -f1 "$WORK/import.time") s, peak RSS $(awk '{printf "%.0f", $2/1024}' "$WORK/import.time") MiB (once per site, not per build)"

dir=$WORK/site
rm -f "$dir"/*.times "$dir"/*.times.*
trap 'remove_runs "$dir"' EXIT
for run in $(seq "$RUNS"); do
  out=$(run_dir "$dir" "$run")
  measure "$dir/plain.times" hugo --quiet -s "$dir/hugo-plain" -d "$out/plain"
  (cd "$dir/cairn" && measure "$dir/cairn.times" "$CAIRN" render "$out/plain")
  measure "$dir/data.times" hugo --quiet -s "$dir/hugo-data" -d "$out/data"
done
plain=$(col 1 "$dir/plain.times"); data=$(col 1 "$dir/data.times"); cairn=$(col 1 "$dir/cairn.times")
added=$(awk -v a="$data" -v b="$plain" 'BEGIN {printf "%.2f", a - b}')
printf '%-10s %-10s %-14s | %-10s %-10s | %s\n' "hugo s" "hugo+data" "hugo added s" "cairn s" "RSS MiB" "cairn/hugo added"
printf '%-10s %-10s %-14s | %-10s %-10s | %s\n' "$plain" "$data" "$added" "$cairn" \
  "$(col 2 "$dir/cairn.times" | awk '{printf "%.0f", $1/1024}')" \
  "$(awk -v c="$cairn" -v h="$added" 'BEGIN {printf "1/%.1f", h / c}')"
echo "hugo+data peak RSS $(col 2 "$dir/data.times" | awk '{printf "%.0f", $1/1024}') MiB; medians of $RUNS runs; work dir $WORK"
for site in plain data; do
  printf 'comments shown (%s): ' "$site"
  cat "$out/$site"/*/index.html | grep -oE 'id="c-(dsq-[0-9]+|[0-9A-Z]{26})"' | sort -u | wc -l
done
