#!/usr/bin/env bash
# Send benchmark: gull mailing N personalized digests (~30 KB each) to
# postfix's smtp-sink on loopback through 1, 4 and 8 connections, beside
# postfix's smtp-source sending the same count and size to the same sink
# with as many sessions. Rendering and the ledger are included: each gull
# run is a whole `gull send --all` on a fresh copy of a store holding the
# list. Then peak memory (max RSS) of the send at N and 10*N subscribers.
#
# The list mixes the readers' languages as the sign-up form leaves them
# (LANGMIX=0: themes only, every reader in the list's language): 30% read
# the mail in English (the list is Korean), 30% chose Korean, the rest are
# imported without a choice; about 8% take Korean articles only and 4%
# English ones only (never a theme choice that leaves them nothing).
#
# Usage: bench/send.sh [N]        (default 10000; needs postfix and time:
#                                  apt-get install postfix time)
# Figures are ratios against smtp-source measured in the same run: the
# machines are shared and noisy, absolute rates are not comparable.
set -euo pipefail

N=${1:-10000}
CONNS=${CONNS:-"1 4 8"}
SIZE=30720
PORT=${PORT:-2526}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'kill ${sink:-} 2>/dev/null || true; rm -rf "$work"' EXIT

for tool in smtp-sink smtp-source /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing; apt-get install postfix time" >&2; exit 2; }
done

elapsed() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { print a - b }'; }
calc() { awk "BEGIN { print $1 }"; }

echo "bench: building gull" >&2
(cd "$root" && go build -o "$work/gull" ./cmd/gull)

# smtp-sink accepts and discards; as root it must drop to a user.
user=()
[ "$(id -u)" = 0 ] && user=(-u nobody)
smtp-sink "${user[@]}" -c "127.0.0.1:$PORT" 1000 >/dev/null &
sink=$!
sleep 0.5

# A week of 19 columns: the digests average about 30 KB, in English and
# Korean; each column in one language (its title and summary), as the
# articles' language is told from their script.
feed="$work/week.xml"
{
	echo '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Bench Columns</title><link>https://bench.example/</link>'
	for i in $(seq 1 "${ARTICLES:-19}"); do
		day=$(( 23 + i % 6 ))
		ko="이번 주 정책 논의의 핵심을 정리했다. 칼럼은 한 주의 정책 논쟁을 수치와 출처를 들어 꼼꼼히 읽고, 그것이 국내외의 컴퓨팅과 법, 산업에 무엇을 뜻하는지 묻는다."
		en="the week's policy debate in brief. The column reads the week's policy debate closely, with figures and sources, and asks what it means for compute, law and industry in Korea and abroad."
		case $((i % 4)) in
		0) t="반도체 수출 통제와 GPU 공급망 $i"; k="반도체 GPU"; d=$ko ;;
		1) t="AI Act code of practice, part $i"; k="AI Act regulation"; d=$en ;;
		2) t="국가 AI 전략과 소버린 AI 예산 $i"; k="소버린 국가 AI"; d=$ko ;;
		3) t="Agents in the enterprise, week $i"; k="agents enterprises"; d=$en ;;
		esac
		echo "<item><title>$t</title><link>https://bench.example/$i</link><guid>b$i</guid>"
		echo "<pubDate>$(date -u -d "2026-11-$day 09:00" '+%a, %d %b %Y %H:%M:%S +0000')</pubDate>"
		echo "<description>$k: $d</description></item>"
	done
	echo '</channel></rss>'
} >"$feed"

config() { # connections
	cat >"$work/config.yaml" <<EOF
title: {ko: AI 정책 주간, en: AI Policy Weekly}
timezone: Asia/Seoul
language: ko
feeds: [{url: $feed}]
themes:
  - {id: compute, name: {ko: 반도체와 컴퓨팅, en: Compute & Chips}, keywords: [반도체, GPU]}
  - {id: regulation, name: {ko: 규제와 법, en: Law & Regulation}, keywords: [AI Act, regulation]}
  - {id: strategy, name: {ko: 국가 전략, en: National Strategy}, keywords: [소버린, 국가 AI]}
  - {id: agents, name: {ko: 에이전트와 산업, en: Agents & Industry}, keywords: [agents, enterprises]}
store: {path: $work/gull.db}
mail:
  from: "AI Policy Weekly <digest@example.org>"
  outbox: $work/outbox
  smtp: {host: 127.0.0.1, port: $PORT, tls: none, connections: $1}
http: {base_url: "https://news.example.org"}
EOF
}

list() { # count -> a store with that many active subscribers in $work/list-COUNT.db
	local n=$1 csv="$work/list-$1.csv"
	[ -f "$work/list-$n.db" ] && return
	# Themes by i % 5; the languages by a hash of i, so they fall across
	# the theme choices. Korean articles are compute and strategy,
	# English ones regulation and agents: a reader of one theme is not
	# given articles only in the other language (they would get nothing).
	awk -v n="$n" -v mix="${LANGMIX:-1}" 'BEGIN { split("|compute|regulation|compute regulation|strategy agents", th, "|");
		print (mix ? "email,name,themes,language,articles" : "email,name,themes")
		for (i = 0; i < n; i++) {
			printf "reader%06d@example.org,Reader %d,%s", i, i, th[i % 5 + 1]
			if (mix) {
				h = (i * 2654435761) % 1000; l = h % 10; a = int(h / 10)
				lang = l < 3 ? "en" : l < 6 ? "ko" : ""
				arts = a < 10 && i % 5 != 2 ? "ko" : a >= 10 && a < 15 && i % 5 != 1 ? "en" : ""
				printf ",%s,%s", lang, arts
			}
			print ""
		} }' >"$csv"
	config 4
	rm -f "$work/gull.db"* "$work/.gull.db.id" # the store's marker: a new store each time
	"$work/gull" --config "$work/config.yaml" subscribers import "$csv" >/dev/null
	cp "$work/gull.db" "$work/list-$n.db"
}

send() { # connections count -> seconds, and max RSS in KB on fd 3
	config "$1"
	rm -f "$work/gull.db"* "$work/.gull.db.id" # the store's marker: a new store each time
	cp "$work/list-$2.db" "$work/gull.db"
	local start; start=$(date +%s.%N)
	local prof=()
	[ -n "${PROFILE:-}" ] && [ "$1" = 4 ] && prof=(env GULL_CPUPROFILE="$PROFILE")
	/usr/bin/time -f '%M %U %S' -o "$work/rss" "${prof[@]}" "$work/gull" --config "$work/config.yaml" send --all --yes --now 2026-11-30T08:00:00+09:00 >"$work/out" 2>"$work/err" || {
		cat "$work/out" "$work/err" >&2; exit 1; }
	elapsed "$start"
	grep -q "^issue .*: $2 sent" "$work/out" || { echo "bench: gull did not send $2:" >&2; cat "$work/out" >&2; exit 1; }
}

source_run() { # sessions -> seconds
	local start; start=$(date +%s.%N)
	smtp-source -s "$1" -m "$N" -l "$SIZE" -f bench@example.org -t sink@example.org "127.0.0.1:$PORT" >/dev/null
	elapsed "$start"
}

list "$N"
# The messages' sizes: a dry run of 100 readers (the list's theme mixes)
# writes them to the outbox.
list 100
config 1
rm -f "$work/gull.db"* "$work/.gull.db.id"
cp "$work/list-100.db" "$work/gull.db"
"$work/gull" --config "$work/config.yaml" send --all --dry-run --now 2026-11-30T08:00:00+09:00 >/dev/null 2>&1
sizes=$(find "$work/outbox" -name '*.eml' -printf '%s\n' | awk '{ t += $1; if ($1 > m) m = $1 } END { printf "mean %.0f KB, largest %.0f KB", t / NR / 1024, m / 1024 }')
rm -rf "$work/outbox"
echo "bench: $N messages, $sizes (smtp-source sends $((SIZE / 1024)) KB each)"
if [ "${LANGMIX:-1}" = 1 ]; then
	awk -F, 'NR > 1 { l[$4]++; a[$5]++ } END { printf "bench: readers mail en %d%%, ko %d%%, the list'"'"'s %d%%; articles ko %d%%, en %d%%\n",
		100 * l["en"] / (NR - 1), 100 * l["ko"] / (NR - 1), 100 * l[""] / (NR - 1), 100 * a["ko"] / (NR - 1), 100 * a["en"] / (NR - 1) }' "$work/list-$N.csv"
else
	echo "bench: every reader in the list's language, every article (LANGMIX=0)"
fi
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
REPEAT=${REPEAT:-3}
echo "bench: median of $REPEAT runs each, gull and smtp-source taking turns"
# gull CPU s: user + system seconds of the gull run (median), which a
# busy machine moves less than the rates.
printf '%-12s %12s %12s %12s %8s %10s\n' connections "gull msg/s" "source msg/s" "ratio" "RSS MB" "gull CPU s"
for c in $CONNS; do
	gs=() ss=() cpu=()
	for _ in $(seq "$REPEAT"); do
		gs+=("$(send "$c" "$N")")
		cpu+=("$(awk '{ print $2 + $3 }' "$work/rss")")
		ss+=("$(source_run "$c")")
	done
	g=$(printf '%s\n' "${gs[@]}" | median)
	s=$(printf '%s\n' "${ss[@]}" | median)
	rss=$(awk '{ print $1 }' "$work/rss")
	printf '%-12s %12.0f %12.0f %12.2f %8.0f %10.2f\n' "$c" "$(calc "$N / $g")" "$(calc "$N / $s")" \
		"$(calc "$s / $g")" "$(calc "$rss / 1024")" "$(printf '%s\n' "${cpu[@]}" | median)"
done

if [ "${MEMORY:-1}" = 1 ]; then
	big=$((N * 10))
	list "$big"
	send 4 "$N" >/dev/null
	small=$(awk '{ print $1 }' "$work/rss")
	send 4 "$big" >/dev/null
	large=$(awk '{ print $1 }' "$work/rss")
	printf 'peak memory (max RSS): %d subscribers %.0f MB, %d subscribers %.0f MB, ratio %.2f\n' \
		"$N" "$(calc "$small / 1024")" "$big" "$(calc "$large / 1024")" "$(calc "$large / $small")"
fi
