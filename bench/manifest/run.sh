#!/usr/bin/env bash
# Benchmark manifest ingest. The script generates a large dbt manifest in a
# temporary directory and times Python's json.load and our reader on that
# file in the same run, alternating. It prints the time ratio and the peak
# RSS of each against the file size.
#
# Usage: bench/manifest/run.sh [RUNS] [genmanifest flags...]
#   RUNS defaults to 3; the median of the runs is reported.
#   Example: bench/manifest/run.sh 3 --models 60000 --sources 10000
#
# Needs go, python3 and GNU time (/usr/bin/time). Targets: our time at most
# a fifth of Python's, our peak RSS at most 1.5 times the file size.
set -euo pipefail

runs=${1:-3}
shift || true

repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$repo"
go build -o "$work/genmanifest" ./testsuite/cmd/genmanifest
go build -o "$work/readmanifest" ./bench/manifest/cmd/readmanifest

manifest="$work/manifest.json"
"$work/genmanifest" --out "$manifest" "$@" >/dev/null
size=$(stat -c %s "$manifest")

# measure CMD...: prints "seconds peak_rss_kib" from GNU time.
measure() {
	/usr/bin/time -f '%e %M' -o "$work/time.txt" "$@" >/dev/null
	cat "$work/time.txt"
}

# Warm the page cache so that neither side pays for the disk.
cat "$manifest" >/dev/null

py_times=() py_rss=() go_times=() go_rss=()
for ((i = 0; i < runs; i++)); do
	read -r t rss < <(measure python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$manifest")
	py_times+=("$t") py_rss+=("$rss")
	read -r t rss < <(measure "$work/readmanifest" "$manifest")
	go_times+=("$t") go_rss+=("$rss")
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
py_t=$(median "${py_times[@]}")
go_t=$(median "${go_times[@]}")
py_m=$(median "${py_rss[@]}")
go_m=$(median "${go_rss[@]}")

"$work/readmanifest" "$manifest" | sed 's/^/reader: /'
awk -v size="$size" -v runs="$runs" -v pt="$py_t" -v gt="$go_t" -v pm="$py_m" -v gm="$go_m" \
	-v pts="${py_times[*]}" -v gts="${go_times[*]}" 'BEGIN {
	mb = size / 1e6
	printf "manifest: %.1f MB; %d runs each, alternating; medians of wall time and peak RSS (GNU time)\n", mb, runs
	printf "python json.load:   %6.2f s  peak RSS %7.1f MB (%.2f x file)  runs: %s\n", pt, pm * 1024 / 1e6, pm * 1024 / size, pts
	printf "internal/dbt:       %6.2f s  peak RSS %7.1f MB (%.2f x file)  runs: %s\n", gt, gm * 1024 / 1e6, gm * 1024 / size, gts
	printf "time ratio (ours / python): %.3f  (target <= 0.200)\n", gt / pt
	printf "peak RSS / file size:       %.3f  (target <= 1.500)\n", gm * 1024 / size
}'
