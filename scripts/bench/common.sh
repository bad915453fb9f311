# What the benchmarks share, sourced by scripts/bench-*.sh after `cd` to the repository root:
# the GNU time check, the work directory, the release build, and one timed run.
#
#   bench_need_time              fails unless GNU time is at /usr/bin/time
#   bench_work_dir PREFIX        sets `work`: BENCH_DIR (kept) or a temp dir removed on exit
#   bench_greenlight             sets `greenlight`: GREENLIGHT, or a fresh release build
#   bench_run NAME OUT CMD...    runs CMD under GNU time, stdout to OUT, stderr to
#                                $work/NAME.stderr; sets `run_rc` (its exit status),
#                                `run_wall` (seconds), `run_cpu` (user + system seconds) and
#                                `run_rss_kib` (peak RSS)

bench_need_time() {
  if ! /usr/bin/time -v true >/dev/null 2>&1; then
    echo "GNU time is missing at /usr/bin/time (Debian: apt-get install time)" >&2
    exit 1
  fi
}

bench_work_dir() {
  if [ -n "${BENCH_DIR:-}" ]; then
    work=$BENCH_DIR
    mkdir -p "$work"
  else
    work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    trap 'rm -rf "$work"' EXIT
  fi
  work=$(cd "$work" && pwd)
}

bench_greenlight() {
  if [ -n "${GREENLIGHT:-}" ]; then
    greenlight=$GREENLIGHT
  else
    echo "== building greenlight (release)"
    cargo build --release --locked -p greenlight-cli --quiet
    greenlight=${CARGO_TARGET_DIR:-$PWD/target}/release/greenlight
  fi
}

bench_run() {
  local name=$1 out=$2
  shift 2
  local t0 t1
  run_rc=0
  t0=$(date +%s.%N)
  /usr/bin/time -v -o "$work/$name.time" "$@" >"$out" 2>"$work/$name.stderr" || run_rc=$?
  t1=$(date +%s.%N)
  run_wall=$(echo "$t1 - $t0" | bc -l)
  run_cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$work/$name.time")
  run_rss_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/$name.time")
}
