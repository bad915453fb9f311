#!/usr/bin/env bash
# The scan benchmark: generates a mixed corpus (PNG, JPEG, MP4, WAV, MP3, PDF and text files,
# about a fifth with generative-AI markers, plus three sparse multi-gigabyte MP4 masters), then
# times on the same tree, in one run:
#   - greenlight scan --format json        (release build, one worker per core)
#   - exiftool -r -j reading the same tags (DigitalSourceType, PNG Parameters/Prompt/Workflow, …)
#   - a bare loop that opens each file and reads its first 64 KiB (one thread per core)
# greenlight and the bare loop run ROUNDS times (default 5), alternating, and their medians are
# reported; exiftool runs once after a warm-up. Reported: wall time and files/s, CPU time
# (user + system, which a busy machine disturbs less) and peak RSS, from /usr/bin/time -v. Then it
# checks that greenlight and exiftool flag the same files as carrying AI markers.
#
# With --corpus DIR (or CORPUS=DIR) the tree is made of real files instead: DIR's regular files
# (such as ../shared/corpus/c2pa-rs, with photos, PDFs, audio and video from real signers) are
# copied, as real copies with their own inodes and page-cache pages (not links, which would let
# every replica hit the same cached pages), into as many directories as it takes to reach FILES
# (default 10000). The findings check is then that every file in which exiftool shows a
# generative-AI marker (any tag, read untimed from DIR with -a -ee) is flagged by greenlight.
#
# usage: scripts/bench-scan.sh [FILES]                  (default 100000, generated)
#        scripts/bench-scan.sh --corpus DIR [FILES]     (default 10000, real files)
# env:   BENCH_DIR=DIR   build the corpus there and keep it (default: a temp dir, removed after)
#        GREENLIGHT=BIN  time this binary instead of building target/release/greenlight
#        ROUNDS=N        timed runs of greenlight and the bare loop (default 5)
#        EXIFTOOL_REPLICAS=K   with --corpus: time exiftool on the first K copies of DIR only
#                        (default all; exiftool takes about 20 s per copy of c2pa-rs, most of it
#                        on two PDFs and a TIFF, so 10,000 files take it most of an hour). Every
#                        copy is the same mix, so its files/s on K copies is its files/s on all.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/common.sh
corpus=${CORPUS:-}
if [ "${1:-}" = --corpus ]; then
  corpus=${2:?--corpus needs a directory}
  shift 2
fi
if [ -n "$corpus" ]; then
  corpus=$(cd "$corpus" && pwd)
  files=${1:-10000}
else
  files=${1:-100000}
fi

if ! command -v exiftool >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing exiftool"
    apt-get update -qq && apt-get install -y -qq libimage-exiftool-perl >/dev/null
  else
    echo "exiftool is missing (Debian: apt-get install libimage-exiftool-perl)" >&2
    exit 1
  fi
fi
bench_need_time
bench_work_dir greenlight-bench
bench_greenlight
rustc -O --edition 2021 -o "$work/bareloop" scripts/bench/bareloop.rs

if [ -n "$corpus" ]; then
  tree=$work/real
  mapfile -t originals < <(find "$corpus" -maxdepth 1 -type f ! -name EXPECTED.toml ! -name README.md | sort)
  if [ "${#originals[@]}" = 0 ]; then
    echo "no files in $corpus" >&2
    exit 1
  fi
  copies=$(( (files + ${#originals[@]} - 1) / ${#originals[@]} ))
  if [ ! -d "$tree" ] || [ ! -f "$work/real.done" ] || [ "$(cat "$work/real.done")" != "$corpus $copies" ]; then
    echo "== copying ${#originals[@]} files from $corpus $copies times under $tree"
    rm -rf "$tree" "$work/real.done"
    for i in $(seq -w 1 "$copies"); do
      mkdir -p "$tree/r$i"
      cp "${originals[@]}" "$tree/r$i/"
    done
    echo "$corpus $copies" >"$work/real.done"
  fi
  files=$(( copies * ${#originals[@]} ))
else
  if [ ! -f "$work/truth.tsv" ] || [ "$(wc -l <"$work/truth.tsv")" != "$files" ]; then
    echo "== generating $files files under $work/tree"
    rm -rf "$work/tree" "$work/truth.tsv"
    python3 scripts/bench/gen_corpus.py "$work" "$files"
  fi
  tree=$work/tree
  files=$(wc -l <"$work/truth.tsv")
fi
echo "corpus: $files files, $(du -sh --apparent-size "$tree" | cut -f1) apparent, $(du -sh "$tree" | cut -f1) on disk"

# time_once NAME OUTFILE CMD...: runs CMD once under GNU time, appending its wall time, CPU
# time (user + system) and peak RSS to the NAME's lists.
declare -A walls cpus rsss secs rss cpu nfiles
time_once() {
  bench_run "$@"
  walls[$1]+="$run_wall "
  cpus[$1]+="$run_cpu "
  rsss[$1]+="$run_rss_kib "
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
largest() { tr ' ' '\n' | grep . | sort -g | tail -1; }

# report NAME: the median wall and CPU time over the timed runs, and the largest peak RSS.
report() {
  local name=$1
  local n=${nfiles[$name]:-$files}
  secs[$name]=$(echo "${walls[$name]}" | median)
  cpu[$name]=$(echo "${cpus[$name]}" | median)
  rss[$name]=$(echo "${rsss[$name]}" | largest)
  printf '%-11s %8.2f s wall %10.0f files/s   %8.2f s CPU %10.0f files/CPU-s   peak RSS %7.1f MiB   (runs: %s)\n' \
    "$name" "${secs[$name]}" "$(echo "$n / ${secs[$name]}" | bc -l)" \
    "${cpu[$name]}" "$(echo "$n / (${cpu[$name]} + 0.001)" | bc -l)" "$(echo "${rss[$name]} / 1024" | bc -l)" \
    "$(for w in ${walls[$name]}; do printf '%.2f ' "$w"; done)"
  if [ "$n" != "$files" ]; then echo "            ($name timed on $n of the $files files)"; fi
}
# per_file NAME: seconds per file, for ratios between runs over different numbers of files
per_file() { echo "${secs[$1]} / ${nfiles[$1]:-$files}" | bc -l; }
per_cpu_file() { echo "(${cpu[$1]} + 0.001) / ${nfiles[$1]:-$files}" | bc -l; }

# greenlight and the bare loop are quick and a busy machine disturbs single runs: each runs once
# to warm the page cache, then ROUNDS times, alternating, and the medians are compared. exiftool
# takes minutes: one warm-up, one timed run.
rounds=${ROUNDS:-5}
echo "== timing ($(nproc) cores; greenlight and bare loop: median of $rounds alternating runs; exiftool: one run after a warm-up)"
"$greenlight" scan --format json "$tree" >/dev/null 2>&1 || true
"$work/bareloop" "$tree" >/dev/null 2>&1 || true
for _ in $(seq "$rounds"); do
  time_once greenlight "$work/greenlight.ndjson" "$greenlight" scan --format json "$tree"
  time_once bareloop "$work/bareloop.out" "$work/bareloop" "$tree"
done
tags=(-DigitalSourceType -Parameters -Prompt -Workflow -UserComment -Comment -Description)
# on real files, also the digital source type exiftool reads from C2PA actions
if [ -n "$corpus" ]; then tags+=(-ActionsDigitalSourceType); fi
extree=("$tree")
if [ -n "$corpus" ] && [ -n "${EXIFTOOL_REPLICAS:-}" ] && [ "$EXIFTOOL_REPLICAS" -lt "$copies" ]; then
  mapfile -t extree < <(find "$tree" -mindepth 1 -maxdepth 1 -type d | sort | head -n "$EXIFTOOL_REPLICAS")
  nfiles[exiftool]=$(( EXIFTOOL_REPLICAS * ${#originals[@]} ))
fi
exiftool -r -j -q -q "${tags[@]}" "${extree[@]}" >/dev/null 2>&1 || true
time_once exiftool "$work/exiftool.json" exiftool -r -j -q -q "${tags[@]}" "${extree[@]}"
report greenlight
report exiftool
report bareloop

echo "== ratios"
printf 'greenlight / exiftool, files per second:   %7.1fx   (per CPU-second: %.1fx)\n' \
  "$(echo "$(per_file exiftool) / $(per_file greenlight)" | bc -l)" "$(echo "$(per_cpu_file exiftool) / $(per_cpu_file greenlight)" | bc -l)"
printf 'greenlight time / bare loop time:          %7.2fx   (CPU time: %.2fx)\n' \
  "$(echo "${secs[greenlight]} / ${secs[bareloop]}" | bc -l)" "$(echo "${cpu[greenlight]} / (${cpu[bareloop]} + 0.001)" | bc -l)"

echo "== findings"
if [ -n "$corpus" ]; then
  exiftool -j -q -q -a -G1 -ee "$corpus" >"$work/exiftool-all.json" 2>/dev/null || true
  python3 scripts/bench/compare.py --corpus "$work/greenlight.ndjson" "$work/exiftool-all.json"
else
  python3 scripts/bench/compare.py "$work/greenlight.ndjson" "$work/exiftool.json" "$work/truth.tsv"
fi
