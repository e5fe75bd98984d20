#!/usr/bin/env bash
# Live-stream benchmark on loopback: one article, STREAMS open streams (10,000), RATE new
# comments a second (20) for SECONDS (60); reports whether every stream received every comment,
# the time from each POST's answer to the last stream's receipt, the server's memory, and the
# cached page's rate with the streams open against without them. Usage:
#   bench/live.sh                                    # SQLite under target/bench-live/
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/comment_service_live bench/live.sh
#   REPLICAS=2 BENCH_DATABASE_URL=postgres://... bench/live.sh   # streams spread over two servers
set -euo pipefail
cd "$(dirname "$0")/.."

STREAMS=${STREAMS:-10000}
RATE=${RATE:-20}
SECONDS_POSTING=${SECONDS:-60}
REPLICAS=${REPLICAS:-1}
HOLD=${HOLD:-25}
PORT=${PORT:-18090}
OUT=target/bench-live
TOKEN=bench-service-token
mkdir -p "$OUT"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true  # one descriptor per stream, in the server and in the client

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet --bin comment-service --example live_client
BIN=target/release/comment-service

DATABASE_URL=${BENCH_DATABASE_URL:-sqlite://$OUT/comments.db?mode=rwc}
if [[ $DATABASE_URL == postgres* ]]; then
  base=${DATABASE_URL%/*}; name=${DATABASE_URL##*/}
  psql "$base/postgres" -q -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"
else
  rm -f "$OUT"/comments.db*
fi

SERVERS=()
BASES=()
for n in $(seq 1 "$REPLICAS"); do
  port=$((PORT + n - 1))
  env DATABASE_URL="$DATABASE_URL" BIND_ADDR="127.0.0.1:$port" API_TOKENS="bench:service:$TOKEN" \
    CLOSE_EXPIRED_SCHEDULE="0 0 0 1 1 *" MAIL_DIR="$OUT/mail" RUST_LOG=warn \
    COMMENT_RATE_LIMIT=1000 LIVE_MAX_SUBSCRIBERS=$((STREAMS + 100)) "$BIN" serve >>"$OUT/server-$n.log" 2>&1 &
  SERVERS+=($!)
  BASES+=("http://127.0.0.1:$port")
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
done
trap 'kill -TERM "${SERVERS[@]}" 2>/dev/null || true' EXIT
B0=${BASES[0]}
published=$(date -u -d '1 day ago' +%FT%TZ)
curl -fsS -X PUT "$B0/api/v1/articles/live-bench" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' \
  -d "{\"title\":\"Live\",\"url\":\"https://www.krone.at/live\",\"published_at\":\"$published\"}" >/dev/null
for n in $(seq 1 20); do
  curl -fsS -X POST "$B0/api/v1/articles/live-bench/comments" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "{\"author\":{\"id\":\"seed-$n\",\"name\":\"Seed\"},\"body\":\"Vorab $n\"}" >/dev/null
done
PAGE="$B0/api/v1/articles/live-bench/comments"
rss() { for pid in "${SERVERS[@]}"; do awk -v p="$pid" '/VmRSS/ {printf "pid %s RSS %d MB; ", p, $2/1024}' /proc/"$pid"/status; done; echo; }
page_rate() { wrk -t1 -c16 -d1s -s bench/fixed.lua "$PAGE" >/dev/null; wrk -t1 -c16 -d8s -s bench/fixed.lua "$PAGE" | awk '/Requests\/sec/ {print $2}'; }

echo "== $STREAMS streams on $REPLICAS server(s), $RATE comments/s for $SECONDS_POSTING s ($DATABASE_URL)"
echo "idle: $(rss)"
without=$(TOKEN=$TOKEN page_rate)
echo "cached page without streams: $without req/s"
BASES=$(IFS=,; echo "${BASES[*]}") ARTICLE=live-bench TOKEN=$TOKEN STREAMS=$STREAMS RATE=$RATE \
  SECONDS=$SECONDS_POSTING HOLD=$HOLD target/release/examples/live_client &
CLIENT=$!
# Measure while the streams are open and before the posting starts.
for _ in $(seq 1 120); do
  open=$(curl -fs "$B0/metrics" | awk '/^live_subscribers / {print $2}'); open=${open:-0}
  [[ ${open%.*} -ge $((STREAMS / REPLICAS)) ]] && break; sleep 0.5
done
echo "streams open: $(rss)"
with=$(TOKEN=$TOKEN page_rate)
echo "cached page with the streams open: $with req/s ($(awk -v a="$with" -v b="$without" 'BEGIN {printf "%.1f", 100*a/b}') % of without)"
peak=0
while kill -0 $CLIENT 2>/dev/null; do
  for pid in "${SERVERS[@]}"; do
    r=$(awk '/VmRSS/ {print $2}' /proc/"$pid"/status 2>/dev/null || echo 0); (( r > peak )) && peak=$r
  done
  sleep 1
done
wait $CLIENT && status=0 || status=$?
echo "highest RSS of one server while posting: $((peak / 1024)) MB (budget: 64 MB + 4 KB x $((STREAMS / REPLICAS)) streams = $((64 + 4 * STREAMS / REPLICAS / 1024)) MB)"
exit $status
