# Helpers shared by the bench scripts (sourced, not run).

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# measure OUT CMD...: runs CMD, appends "seconds peak_rss_kb" to OUT.
measure() {
  local out=$1; shift
  /usr/bin/time -f "%e %M" -o "$out.one" "$@" >/dev/null 2>"$out.err" || { cat "$out.err"; exit 1; }
  cat "$out.one" >>"$out"
}
# col N FILE: median of column N.
col() { awk -v c="$1" '{print $c}' "$2" | median; }
need_hugo_and_time() {
  command -v hugo >/dev/null || { echo "bench needs hugo (apt-get install hugo)"; exit 2; }
  [ -x /usr/bin/time ] || { echo "bench needs GNU time (apt-get install time)"; exit 2; }
}
