#!/usr/bin/env bash
# bench/quality.sh [WEEK_DIR] [OUT.json]: score the digest of a labelled
# week (see "Measuring" in README.md). WEEK_DIR holds articles.json,
# feeds.yaml and feeds/ (default ../shared/quality/week-dev); the score
# script is WEEK_DIR/../score.py unless $SCORE names another. It builds a
# config from this repository's config.yaml with its feeds: replaced by the
# week's (paths made absolute), runs `gull preview --format json` at the
# week's end, times it, and prints score.py's figures with every miss.
# Not part of `go test`: it needs the labelled week, which is not shipped.
set -euo pipefail
cd "$(dirname "$0")/.."
week=$(cd "${1:-../shared/quality/week-dev}" && pwd)
out=${2:-$(mktemp -t gull-quality-XXXXXX.json)}
score=${SCORE:-$week/../score.py}
now=${NOW:-2026-11-23T08:00:00+09:00}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# config.yaml without its feeds: block (up to the next top-level key),
# then the week's feeds with absolute paths.
awk '/^feeds:/ {skip=1; next} skip && /^[a-z_]+:/ {skip=0} !skip' config.yaml >"$tmp/config.yaml"
sed -E "s#url: (feeds/)#url: $week/\1#" "$week/feeds.yaml" >>"$tmp/config.yaml"
sed -i -E "s#^store: .*#store: {path: $tmp/gull.db}#" "$tmp/config.yaml"

go build -o "$tmp/gull" ./cmd/gull
# The whole preview (read the feeds, window, dedupe, relevance, themes,
# stories, JSON), five times: the median is the figure.
times=()
for _ in 1 2 3 4 5; do
	start=$(date +%s.%N)
	"$tmp/gull" --config "$tmp/config.yaml" preview --now "$now" --format json --out "$out" 2>"$tmp/stderr"
	end=$(date +%s.%N)
	times+=("$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
printf 'preview: median %.3f s of 5 runs (%s)\n' "$median" "$out"
python3 "$score" "$week" "$out" --explain
