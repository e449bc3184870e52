#!/usr/bin/env bash
# bench/quality.sh [WEEK_DIR] — scores this checkout's digest against a
# labelled week (see README "Themes"): builds a config from config.yaml with
# its feeds: replaced by WEEK_DIR/feeds.yaml (paths made absolute), previews
# the week as JSON and runs WEEK_DIR/../score.py on it. Not part of go test.
#
#   WEEK_DIR  defaults to ../shared/quality/week-dev (beside the checkout)
#   NOW       the preview's --now [2026-11-23T08:00:00+09:00]
#   OUT       where the issue JSON goes [a temporary file]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
week=$(cd "${1:-$root/../shared/quality/week-dev}" && pwd)
now=${NOW:-2026-11-23T08:00:00+09:00}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=${OUT:-$tmp/issue.json}

# config.yaml up to its feeds: block, the week's feeds with absolute paths,
# then everything from relevance: on (the block after feeds:).
{
	sed -n '1,/^feeds:/p' "$root/config.yaml" | sed '$d'
	sed -E "s#url: ([^,}]+)#url: \"$week/\\1\"#" "$week/feeds.yaml"
	sed -n '/^relevance:/,$p' "$root/config.yaml"
} >"$tmp/config.yaml"
sed -i -E 's#^store: .*#store: {path: '"$tmp"'/gull.db}#; s#^  outbox: .*#  outbox: '"$tmp"'/outbox#' "$tmp/config.yaml"

cd "$root"
go run ./cmd/gull --config "$tmp/config.yaml" preview --now "$now" --format json --out "$out"
python3 "$week/../score.py" "$week" "$out" --explain
