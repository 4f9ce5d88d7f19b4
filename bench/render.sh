#!/usr/bin/env bash
# Render benchmark: `cairn render` side by side with Hugo rendering the same comments
# itself through a data-file partial (the way Staticman sites do it).
#
# For each corpus size it generates a synthetic corpus (bench/synth.rs: skewed
# comments per page, ~30% replies, realistic body lengths with some Markdown), then
# RUNS times, in one run, on the same pages:
#   hugo (placeholder only)  ->  cairn render      (cairn's added time)
#   hugo (data-file partial)                       (Hugo's added time = this - plain)
# and prints medians, comments/s, peak RSS and the ratio cairn added / Hugo added.
# Under the table, for each size: how long merely reading its comment files takes
# (tar, one process), the system-call cost that a file per comment brings.
# Every run builds into new directories (see run_dir in bench/lib.sh).
# Corpora above HUGO_MAX comments are rendered by cairn only (Hugo's data partial
# would take minutes), and get no Hugo data files.
#
# Usage: bench/render.sh            (needs hugo and GNU time: apt-get install hugo time)
#   SIZES="10000:1000 100000:10000 1000000:100000" RUNS=3 HUGO_MAX=100000 BENCH_DIR=/tmp/x
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
SIZES=${SIZES:-"10000:1000 100000:10000 1000000:100000"}
HUGO_MAX=${HUGO_MAX:-100000}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/cairn-bench.XXXXXX)}
. bench/lib.sh
need_hugo_and_time

cargo build --release --quiet --bin cairn --example synth
CAIRN=$PWD/target/release/cairn
SYNTH=$PWD/target/release/examples/synth

dirs=""
reads=""
trap 'remove_runs $dirs' EXIT
printf '%-9s %-7s | %-9s %-9s %-9s | %-9s %-11s %-9s | %-7s %s\n' \
  comments pages "hugo s" "hugo+data" "added s" "cairn s" "comments/s" "RSS MiB" "ratio" "hugo+data RSS MiB"
for size in $SIZES; do
  n=${size%%:*}; pages=${size##*:}
  dir=$WORK/c$n
  only_cairn=""; [ "$n" -le "$HUGO_MAX" ] || only_cairn=--no-hugo-data
  [ -d "$dir" ] || "$SYNTH" "$dir" "$n" "$pages" $only_cairn >/dev/null
  rm -f "$dir"/*.times "$dir"/*.times.*
  # Reading every comment file once warms the page cache, as for the runs; the second
  # read is timed.
  tar -cf - -C "$dir/cairn" comments | cat >/dev/null
  /usr/bin/time -f "%e" -o "$dir/read.time" tar -cf - -C "$dir/cairn" comments | cat >/dev/null
  reads="$reads
  $n comments: reading their files alone (tar, one process) takes $(cat "$dir/read.time") s"
  dirs="$dirs $dir"
  for run in $(seq "$RUNS"); do
    out=$(run_dir "$dir" "$run")
    measure "$dir/plain.times" hugo --quiet -s "$dir/hugo-plain" -d "$out/plain"
    (cd "$dir/cairn" && measure "$dir/cairn.times" "$CAIRN" render "$out/plain")
    if [ "$n" -le "$HUGO_MAX" ]; then
      measure "$dir/data.times" hugo --quiet -s "$dir/hugo-data" -d "$out/data"
    fi
    run_done "$out"
  done
  plain=$(col 1 "$dir/plain.times"); cairn=$(col 1 "$dir/cairn.times"); rss=$(col 2 "$dir/cairn.times")
  if [ -f "$dir/data.times" ]; then
    data=$(col 1 "$dir/data.times"); data_rss=$(col 2 "$dir/data.times")
    added=$(awk -v a="$data" -v b="$plain" 'BEGIN {printf "%.2f", a - b}')
    ratio=$(awk -v c="$cairn" -v h="$added" 'BEGIN {printf "1/%.1f", h / c}')
    data_rss=$(awk -v k="$data_rss" 'BEGIN {printf "%.0f", k / 1024}')
  else
    data=-; added=-; ratio=-; data_rss=-
  fi
  rate=$(awk -v n="$n" -v s="$cairn" 'BEGIN {printf "%.0f", n / s}')
  printf '%-9s %-7s | %-9s %-9s %-9s | %-9s %-11s %-9s | %-7s %s\n' \
    "$n" "$pages" "$plain" "$data" "$added" "$cairn" "$rate" "$(awk -v k="$rss" 'BEGIN {printf "%.0f", k / 1024}')" "$ratio" "$data_rss"
done
echo "medians of $RUNS runs; corpora in $WORK$reads"
