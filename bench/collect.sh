#!/usr/bin/env bash
# Collect benchmark: `gull feeds check` against rss2email's `r2e run
# --no-send`, both fetching and parsing the same N feeds of 50 items
# (about 80 KB each) from a fast static server on loopback (Go's
# http.FileServer, bench/feedserver.go), in the same run. Each run starts
# from empty state (a new gull store, a new r2e data file), so both fetch
# and parse everything: no 304s. Then the peak memory (max RSS) of gull at
# N and 10*N feeds.
#
# Usage: bench/collect.sh [N]      (default 50; needs rss2email and time:
#                                  apt-get install rss2email time)
# Options by environment: RUNS=10 (pairs of runs), MEMORY=0 to skip the
# memory runs, PROFILE=cpu.out for a CPU profile of one gull run.
# The figure is the ratio of the median times, the two taking turns in the
# same run: the machines are shared and noisy, absolute times are not
# comparable.
set -euo pipefail

N=${1:-50}
RUNS=${RUNS:-10}
PORT=${PORT:-8089}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill ${server:-} 2>/dev/null || true; rm -rf "$work"' EXIT

for tool in r2e /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing; apt-get install rss2email time" >&2; exit 2; }
done

echo "bench: building gull and the feed server" >&2
(cd "$root" && go build -o "$work/gull" ./cmd/gull && go build -o "$work/feedserver" bench/feedserver.go)

serve() { # feeds
	kill ${server:-} 2>/dev/null || true
	wait ${server:-} 2>/dev/null || true
	rm -rf "$work/feeds" && mkdir "$work/feeds"
	"$work/feedserver" -dir "$work/feeds" -feeds "$1" -items 50 -addr "127.0.0.1:$PORT" >/dev/null 2>"$work/server.log" &
	server=$!
	for _ in $(seq 50); do
		curl -fsS -o /dev/null "http://127.0.0.1:$PORT/feed-000.xml" 2>/dev/null && return
		sleep 0.1
	done
	echo "bench: the feed server did not start:" >&2; cat "$work/server.log" >&2; exit 1
}

gull_config() { # feeds
	{
		echo "title: Bench"
		echo "timezone: Asia/Seoul"
		echo "store: {path: $work/gull.db}"
		echo "fetch: {concurrency: 8}"
		echo "themes: [{id: ai, name: AI, keywords: [AI]}]"
		echo "feeds:"
		for i in $(seq 0 $(($1 - 1))); do printf '  - {url: "http://127.0.0.1:%s/feed-%03d.xml"}\n' "$PORT" "$i"; done
	} >"$work/gull.yaml"
}

r2e_config() { # feeds: a config and a pristine data file with every feed
	rm -f "$work/r2e.cfg" "$work/r2e.json"
	r2e -c "$work/r2e.cfg" -d "$work/r2e.json" new bench@example.org >/dev/null 2>&1
	for i in $(seq 0 $(($1 - 1))); do
		r2e -c "$work/r2e.cfg" -d "$work/r2e.json" add "f$i" "$(printf 'http://127.0.0.1:%s/feed-%03d.xml' "$PORT" "$i")" >/dev/null 2>&1
	done
	cp "$work/r2e.json" "$work/r2e.pristine.json"
}

gull_run="$work/gull --config $work/gull.yaml feeds check --now 2026-11-30T08:00:00+09:00 --format json"
gull_fresh="rm -f $work/gull.db $work/gull.db-wal $work/gull.db-shm $work/.gull.db.id"
r2e_run="r2e -c $work/r2e.cfg -d $work/r2e.json run --no-send"
r2e_fresh="cp $work/r2e.pristine.json $work/r2e.json"

serve "$N"
gull_config "$N"
r2e_config "$N"
size=$(du -sk "$work/feeds" | awk -v n="$N" '{ printf "%.0f", $1 / n }')
# Both must really read every item once before they are timed.
$gull_fresh
$gull_run >"$work/check.json" || { echo "bench: gull feeds check failed:" >&2; head -c 2000 "$work/check.json" >&2; exit 1; }
items=$(grep -o '"items": *[0-9]*' "$work/check.json" | awk -F: '{ t += $2 } END { print t }')
[ "$items" = $((N * 50)) ] || { echo "bench: gull read $items items, want $((N * 50))" >&2; exit 1; }
$r2e_fresh
$r2e_run 2>"$work/r2e.err" || { echo "bench: r2e run failed:" >&2; cat "$work/r2e.err" >&2; exit 1; }
if [ -n "${PROFILE:-}" ]; then
	$gull_fresh
	GULL_CPUPROFILE="$PROFILE" $gull_run >/dev/null
fi

echo "bench: $N feeds x 50 items, ${size} KB each, on http.FileServer; $RUNS pairs, gull and r2e taking turns"
# Turns rather than hyperfine's all-of-one-then-all-of-the-other: on a
# shared machine a burst of load then favours neither.
elapsed() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { print a - b }'; }
for _ in $(seq "$RUNS"); do
	$gull_fresh
	start=$(date +%s.%N)
	$gull_run >/dev/null
	g=$(elapsed "$start")
	$r2e_fresh
	start=$(date +%s.%N)
	$r2e_run 2>/dev/null
	echo "$g $(elapsed "$start")"
done >"$work/times"
python3 - "$work/times" <<'PY'
import sys, statistics
pairs = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
g, e = [p[0] for p in pairs], [p[1] for p in pairs]
ratios = sorted(b / a for a, b in pairs)
print(f"{'':8} {'median s':>9} {'min s':>7} {'max s':>7}")
for name, t in (("gull", g), ("r2e", e)):
    print(f"{name:8} {statistics.median(t):9.3f} {min(t):7.3f} {max(t):7.3f}")
print(f"ratio r2e / gull: {statistics.median(e) / statistics.median(g):.1f}x (medians); per pair median {statistics.median(ratios):.1f}x, range {ratios[0]:.1f}x-{ratios[-1]:.1f}x")
PY

if [ "${MEMORY:-1}" = 1 ]; then
	rss() { # feeds: max RSS in KB of one gull feeds check, into $work/rss-FEEDS
		serve "$1"
		gull_config "$1"
		$gull_fresh
		/usr/bin/time -f %M -o "$work/rss-$1" $gull_run >/dev/null
	}
	big=$((N * 10))
	rss "$N"
	rss "$big"
	small=$(cat "$work/rss-$N") large=$(cat "$work/rss-$big")
	awk -v n="$N" -v b="$big" -v s="$small" -v l="$large" 'BEGIN { printf "peak memory (max RSS): %d feeds %.0f MB, %d feeds %.0f MB, ratio %.2f\n", n, s / 1024, b, l / 1024, l / s }'
fi
