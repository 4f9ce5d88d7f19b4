# Helpers shared by the bench scripts (sourced, not run).

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# measure OUT CMD...: runs CMD, appends "seconds peak_rss_kb" to OUT. The seconds are
# taken to the millisecond (GNU time's own %e has hundredths, a tenth of a 0.1 s run),
# and include starting /usr/bin/time, which counts against the command.
measure() {
  local out=$1; shift
  local t0=$EPOCHREALTIME
  /usr/bin/time -f "%M" -o "$out.one" "$@" >/dev/null 2>"$out.err" || { cat "$out.err"; exit 1; }
  local t1=$EPOCHREALTIME
  echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}') $(cat "$out.one")" >>"$out"
}
# col N FILE: median of column N.
col() { awk -v c="$1" '{print $c}' "$2" | median; }
need_hugo_and_time() {
  command -v hugo >/dev/null || { echo "bench needs hugo (apt-get install hugo)"; exit 2; }
  [ -x /usr/bin/time ] || { echo "bench needs GNU time (apt-get install time)"; exit 2; }
}
# Each run builds into fresh directories under runs/, removed when the script ends:
# removing thousands of files just before a run makes the next file creations slow on
# ext4 without a journal (it passes over recently freed inodes), so deleting the last
# run's output first would time the bench's own cleanup.
# run_dir DIR RUN: prints a new, empty output directory for run RUN under DIR.
run_dir() {
  local d=$1/runs/$$-$2
  mkdir -p "$d"
  echo "$d"
}
# run_done OUT: a finished run's output goes at once on a tmpfs, where removing files
# slows nothing down and memory is what runs out; elsewhere it stays until the end.
run_done() {
  if [ "$(stat -f -c %T "$1")" = tmpfs ]; then rm -rf "$1"; fi
}
# remove_runs DIR...: removes the runs/ of each DIR (call from an EXIT trap).
remove_runs() {
  for d in "$@"; do rm -rf "$d/runs"; done
}
# port: prints a free TCP port on 127.0.0.1.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# hwm_kib PID: the peak RSS of process PID so far, in KiB.
hwm_kib() { awk '/VmHWM/ {print $2}' "/proc/$1/status"; }
# commit_all DIR: makes DIR a git repository with everything in it as one commit on main.
commit_all() {
  git -C "$1" init -q -b main
  git -C "$1" add -A
  git -C "$1" -c user.name=bench -c user.email=bench@localhost commit -q -m site
}
# wait_delivered ADDR [PID]: waits until the inbox at ADDR has nothing left to deliver
# (a light poll: no interpreter start-up per check, so the probe does not slow what it
# measures); fails when process PID ends first.
wait_delivered() {
  until curl -s "http://$1/v1/health" 2>/dev/null | grep -q '"delivering":0,"failed":0,"queued":0'; do
    if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then echo "the inbox at $1 stopped"; exit 1; fi
    sleep 0.02
  done
}
# check_delivered REPO MODE COUNT: fails unless the bare repository REPO holds COUNT
# delivered comments: commits on cairn/pending beyond main (batch), or cairn/ branches.
check_delivered() {
  local n
  if [ "$2" = batch ]; then
    n=$(($(git -C "$1" rev-list --count cairn/pending) - $(git -C "$1" rev-list --count main)))
  else
    n=$(git -C "$1" for-each-ref refs/heads/cairn/ | wc -l)
  fi
  [ "$n" -eq "$3" ] || { echo "$2: expected $3 comments delivered to $1, found $n"; exit 1; }
}
