#!/usr/bin/env bash
# The recorded-scan benchmark: generates a delivery of FILES small PNG files (default
# 1,000,000), FLAGGED of them (default 100,000) carrying an AUTOMATIC1111 `parameters` chunk,
# creates a production on a fresh SQLite ledger and runs, under GNU time,
#   greenlight scan TREE --production X --record
# (release build, one worker per core), reporting wall time, files per second and peak RSS.
# Then it checks the record: `scans show` pages through every flagged file (a first page of
# 1,000 with its `next`, then all of them streamed), `scans list` shows it complete, and
# `audit verify` passes; the peak RSS of those two is reported too.
#
# usage: scripts/bench-record.sh [FILES] [FLAGGED]
# env:   BENCH_DIR=DIR   build the delivery there and keep it (default: a temp dir, removed after)
#        GREENLIGHT=BIN  run this binary instead of building target/release/greenlight
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench/common.sh
files=${1:-1000000}
flagged=${2:-100000}

bench_need_time
bench_work_dir greenlight-record
bench_greenlight

if [ "$(cat "$work/made" 2>/dev/null)" != "$files $flagged" ]; then
  echo "== generating $files files ($flagged flagged) under $work/tree"
  rm -rf "$work/tree" "$work/made"
  python3 scripts/bench/gen_record.py "$work" "$files" "$flagged" >"$work/made"
fi
tree=$work/tree
echo "delivery: $files files, $flagged flagged, $(du -sh "$tree" | cut -f1) on disk"

# A fresh ledger each run.
rm -f "$work"/ledger.sqlite3* "$work/audit.key"
ledger=(--db "$work/ledger.sqlite3" --audit-key "$work/audit.key" --as qc@post.example)
gl() { "$greenlight" "${ledger[@]}" "$@"; }
title="Bench Delivery (feature)"
gl production create "$title" --contact dana@studio.example >/dev/null 2>&1

# timed NAME CMD...: runs CMD under GNU time (stdout to $work/NAME.out), prints its wall time
# and peak RSS, and fails when CMD does.
timed() {
  local name=$1
  shift
  bench_run "$name" "$work/$name.out" "$@"
  wall=$run_wall
  rss_kib=$run_rss_kib
  printf '%-13s %8.2f s wall   peak RSS %7.1f MiB\n' "$name" "$wall" "$(echo "$rss_kib / 1024" | bc -l)"
  if [ "$run_rc" != 0 ]; then
    echo "$name failed (exit $run_rc):" >&2
    tail -5 "$work/$name.stderr" >&2
    exit 1
  fi
}

echo "== recording ($(nproc) cores)"
# Warm the page cache with one plain scan, so that the timed run measures the scan and the
# ledger, not the first read of the disk.
"$greenlight" scan --no-progress "$tree" >/dev/null 2>&1 || true
timed record "$greenlight" "${ledger[@]}" scan --no-progress "$tree" --production "$title" --record
record_wall=$wall
record_rss=$rss_kib
scan_id=$(sed -n 's/^recorded as scan \([^ ]*\) .*/\1/p' "$work/record.stderr")
[ -n "$scan_id" ] || { echo "no scan recorded:" >&2; cat "$work/record.stderr" >&2; exit 1; }
printf 'recorded scan %s: %.0f files/s, ledger %s\n' "$scan_id" \
  "$(echo "$files / $record_wall" | bc -l)" "$(du -ch "$work"/ledger.sqlite3* | tail -1 | cut -f1)"

echo "== checking the record"
gl scans show "$scan_id" --format json --limit 1000 >"$work/page.json"
timed show "$greenlight" "${ledger[@]}" scans show "$scan_id" --format json
timed verify "$greenlight" "${ledger[@]}" audit verify
python3 - "$work/page.json" "$work/show.out" "$files" "$flagged" <<'PY'
import json, sys
page, whole = (json.load(open(p)) for p in sys.argv[1:3])
files, flagged = int(sys.argv[3]), int(sys.argv[4])
assert page["state"] == "complete", page["state"]
assert len(page["files"]) == 1000 and page.get("next") == 1000, (len(page["files"]), page.get("next"))
seqs = [f["seq"] for f in whole["files"]]
assert seqs == list(range(1, flagged + 1)), "rows are not 1..%d" % flagged
assert len({f["path"] for f in whole["files"]}) == flagged
assert all(f["verdict"] == "ai_generated" and len(f["sha256"]) == 64 for f in whole["files"])
c = whole["counts"]
assert (c["files"], c["ai_generated"], c["no_ai_evidence"]) == (files, flagged, files - flagged), c
print("scans show: %d flagged files in rows 1..%d, pages of 1,000 with `next`; counts %s" % (
    flagged, flagged, {k: v for k, v in c.items() if v}))
PY
gl scans list --production "$title"
cat "$work/verify.out"
echo "== result"
printf 'greenlight scan --record: %d files (%d flagged) in %.1f s, peak RSS %.1f MiB (aim: under 200 MiB)\n' \
  "$files" "$flagged" "$record_wall" "$(echo "$record_rss / 1024" | bc -l)"
