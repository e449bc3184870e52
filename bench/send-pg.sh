#!/usr/bin/env bash
# Send benchmark on PostgreSQL: `gull send --all` over a PostgreSQL store,
# N personalized digests (~30 KB each) to postfix's smtp-sink on loopback,
# beside smtp-source sending as many 30 KB messages with 4 sessions, in the
# same run:
#   - one sender with 4 connections, as a ratio of smtp-source's rate;
#   - 2 and 4 senders started together on one store (each with its own 4
#     connections) against the one sink: their total rate over one
#     sender's, with the CPU time each side took (gull, smtp-sink,
#     PostgreSQL), to say which of them is the limit;
#   - peak memory (max RSS) of one sender with N and with BIG readers.
# Rendering and the ledger are included; each run starts from the same
# list with an empty ledger.
#
# Usage: bench/send-pg.sh [N]     (default 10000; needs postfix, time and
#                                  PostgreSQL: apt-get install postfix time postgresql)
# Without $GULL_TEST_POSTGRES it runs itself under .ci/with-postgres (a
# throwaway server). BIG=1000000 readers by default, inserted with
# generate_series; BIG_SECONDS=60 bounds that send (SIGTERM: it stops in
# order), so its peak is the first minute's: the 1M-row setup and ~100k
# messages. Options: SENDERS="1 2 4", MEMORY=0, PROFILE=cpu.out (a CPU
# profile of the one-sender run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${GULL_TEST_POSTGRES:-}" ]; then
	exec bash "$root/.ci/with-postgres" bash "$0" "$@"
fi

N=${1:-10000}
BIG=${BIG:-1000000}
BIG_SECONDS=${BIG_SECONDS:-60}
SENDERS=${SENDERS:-"1 2 4"}
SIZE=30720
PORT=${PORT:-2527}
work=$(mktemp -d)
trap 'kill ${sink:-} 2>/dev/null || true; rm -rf "$work"' EXIT

for tool in smtp-sink smtp-source /usr/bin/time psql; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing; apt-get install postfix time postgresql" >&2; exit 2; }
done
elapsed() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { print a - b }'; }
calc() { awk "BEGIN { print $1 }"; }
sql() { PGOPTIONS="-c client_min_messages=warning" psql -q -v ON_ERROR_STOP=1 "$GULL_TEST_POSTGRES" -c "$1" >/dev/null; }
# cpu PID...: user+system seconds the processes have used so far.
cpu() { local t=0 p; for p in "$@"; do [ -r "/proc/$p/stat" ] && t=$(awk -v t="$t" '{ print t + ($14 + $15) / 100 }' "/proc/$p/stat"); done; echo "$t"; }
# pg_cpu: the CPU seconds of the PostgreSQL server so far: its postmaster
# (found by the port it listens on), the backends that ended (its
# children's time) and those that run.
pg_port=$(echo "$GULL_TEST_POSTGRES" | sed -E 's#.*:([0-9]+)/.*#\1#')
pg_cpu() {
	local pm t c
	pm=$(ss -ltnpH "sport = :$pg_port" | sed -E 's/.*pid=([0-9]+).*/\1/' | head -1)
	t=$(awk '{ print ($14 + $15 + $16 + $17) / 100 }' "/proc/$pm/stat")
	for c in $(pgrep -P "$pm"); do
		t=$(awk -v t="$t" '{ print t + ($14 + $15) / 100 }' "/proc/$c/stat" 2>/dev/null || echo "$t")
	done
	echo "$t"
}

echo "bench: building gull" >&2
(cd "$root" && go build -o "$work/gull" ./cmd/gull)

user=()
[ "$(id -u)" = 0 ] && user=(-u nobody)
smtp-sink "${user[@]}" -c "127.0.0.1:$PORT" 2000 >/dev/null &
sink=$!
sleep 0.5

feed="$work/week.xml"
{
	echo '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Bench Columns</title><link>https://bench.example/</link>'
	for i in $(seq 1 "${ARTICLES:-19}"); do
		day=$(( 23 + i % 6 ))
		case $((i % 4)) in
		0) t="반도체 수출 통제와 GPU 공급망 $i"; k="반도체 GPU" ;;
		1) t="AI Act code of practice, part $i"; k="AI Act regulation" ;;
		2) t="국가 AI 전략과 소버린 AI 예산 $i"; k="소버린 국가 AI" ;;
		3) t="Agents in the enterprise, week $i"; k="agents enterprises" ;;
		esac
		echo "<item><title>$t</title><link>https://bench.example/$i</link><guid>b$i</guid>"
		echo "<pubDate>$(date -u -d "2026-11-$day 09:00" '+%a, %d %b %Y %H:%M:%S +0000')</pubDate>"
		echo "<description>$k: 이번 주 정책 논의의 핵심을 정리했다. The column reads the week's policy debate closely, with figures and sources, and asks what it means for compute, law and industry in Korea and abroad.</description></item>"
	done
	echo '</channel></rss>'
} >"$feed"

config() { # schema
	cat >"$work/config.yaml" <<EOC
title: AI Policy Weekly
timezone: Asia/Seoul
language: ko
feeds: [{url: $feed}]
themes:
  - {id: compute, name: 반도체와 컴퓨팅, keywords: [반도체, GPU]}
  - {id: regulation, name: 규제와 법, keywords: [AI Act, regulation]}
  - {id: strategy, name: 국가 전략, keywords: [소버린, 국가 AI]}
  - {id: agents, name: 에이전트와 산업, keywords: [agents, enterprises]}
store: {dsn: "$GULL_TEST_POSTGRES?search_path=$1"}
mail:
  from: "AI Policy Weekly <digest@news.bench.example>"
  outbox: $work/outbox
  smtp: {host: 127.0.0.1, port: $PORT, tls: none, connections: 4}
http: {base_url: "https://news.example.org"}
EOC
}

list() { # schema count: a store in that schema with count active readers
	sql "DROP SCHEMA IF EXISTS $1 CASCADE; CREATE SCHEMA $1"
	config "$1"
	"$work/gull" --config "$work/config.yaml" subscribers list --format csv >/dev/null # makes the schema
	sql "INSERT INTO $1.subscribers (email, email_key, name, status, themes, created_at, confirmed_at, updated_at)
		SELECT 'reader' || lpad(i::text, 7, '0') || '@example.org', 'reader' || lpad(i::text, 7, '0') || '@example.org',
			'Reader ' || i, 'active', (ARRAY['', 'compute', 'regulation', 'compute regulation', 'strategy agents'])[i % 5 + 1],
			'2026-11-20T09:00:00.000Z', '2026-11-20T09:00:00.000Z', '2026-11-20T09:00:00.000Z'
		FROM generate_series(0, $2 - 1) AS i; ANALYZE $1.subscribers"
}

fresh() { sql "TRUNCATE $1.issues, $1.mailed, $1.leases CASCADE"; } # an empty ledger, the same list

# senders schema k: k senders at once; prints seconds, and CPU seconds of gull, the sink and PostgreSQL
senders() {
	config "$1"
	fresh "$1"
	local pg0 sink0 start pids=() i
	pg0=$(pg_cpu); sink0=$(cpu "$sink")
	start=$(date +%s.%N)
	local prof=()
	[ -n "${PROFILE:-}" ] && [ "$2" = 1 ] && prof=(env GULL_CPUPROFILE="$PROFILE")
	for i in $(seq "$2"); do
		/usr/bin/time -f "%M %U %S" -o "$work/time.$i" "${prof[@]}" "$work/gull" --config "$work/config.yaml" send --all --yes --now 2026-11-30T08:00:00+09:00 >"$work/out.$i" 2>"$work/err.$i" &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do wait "${pids[$i]}" || { cat "$work/out.$((i + 1))" "$work/err.$((i + 1))" >&2; exit 1; }; done
	local secs; secs=$(elapsed "$start")
	local sent; sent=$(cat "$work"/out.* | awk '/ via .*: [0-9]+ sent, / { for (i = 1; i <= NF; i++) if ($(i + 1) == "sent,") s += $i } END { print s + 0 }')
	[ "$sent" = "$N" ] || { echo "bench: $2 senders sent $sent of $N" >&2; cat "$work"/out.* >&2; exit 1; }
	local gcpu; gcpu=$(cat "$work"/time.* | awk '{ t += $2 + $3 } END { print t }')
	echo "$secs $gcpu $(calc "$(cpu "$sink") - $sink0") $(calc "$(pg_cpu) - $pg0")"
	rm -f "$work"/out.* "$work"/err.* "$work"/time.*
}

source_run() {
	local start; start=$(date +%s.%N)
	smtp-source -s 4 -m "$N" -l "$SIZE" -f bench@example.org -t sink@example.org "127.0.0.1:$PORT" >/dev/null
	elapsed "$start"
}

list bench "$N"
echo "bench: PostgreSQL, $N readers, 4 connections per sender, $(nproc) cores; one run each"
src=$(source_run)
printf '%-22s %9s %8s %8s %8s %8s %8s\n' "" "msg/s" "ratio" "wall s" "gull cpu" "sink cpu" "pg cpu"
printf '%-22s %9.0f %8s %8.1f\n' "smtp-source (4 sess.)" "$(calc "$N / $src")" "1.00" "$src"
one=""
for k in $SENDERS; do
	read -r secs g s p < <(senders bench "$k")
	[ -z "$one" ] && one=$secs
	label="$k sender(s)"
	ratio=$(printf '%.2f' "$(calc "$src / $secs")")
	[ "$k" != 1 ] && ratio=$(printf '%.2fx' "$(calc "$one / $secs")")
	printf '%-22s %9.0f %8s %8.1f %8.1f %8.1f %8.1f\n' "$label" "$(calc "$N / $secs")" "$ratio" "$secs" "$g" "$s" "$p"
done
echo "(ratio: 1 sender over smtp-source; k senders over 1 sender. CPU seconds over the run: the machine has $(nproc) cores x wall seconds)"

if [ "${MEMORY:-1}" = 1 ]; then
	config bench; fresh bench
	/usr/bin/time -f %M -o "$work/rss.small" "$work/gull" --config "$work/config.yaml" send --all --yes --now 2026-11-30T08:00:00+09:00 >/dev/null 2>&1
	list big "$BIG"
	config big
	/usr/bin/time -f %M -o "$work/rss.big" timeout -s TERM "$BIG_SECONDS" "$work/gull" --config "$work/config.yaml" send --all --yes --now 2026-11-30T08:00:00+09:00 >"$work/out.big" 2>/dev/null || true
	bsent=$(awk '/ via .*: [0-9]+ sent, / { for (i = 1; i <= NF; i++) if ($(i + 1) == "sent,") print $i " sent" }' "$work/out.big" | head -1)
	small=$(tail -1 "$work/rss.small"); large=$(tail -1 "$work/rss.big")
	printf 'peak memory (max RSS), one sender: %d readers %.0f MB; %d readers %.0f MB (first %ss: %s); ratio %.2f\n' \
		"$N" "$(calc "$small / 1024")" "$BIG" "$(calc "$large / 1024")" "$BIG_SECONDS" "${bsent:-?}" "$(calc "$large / $small")"
fi
