#!/usr/bin/env bash
# Soak: the release binary under a steady mix of reads, posts and flags for MINUTES minutes
# (default 10) on loopback. Reports the server's RSS after a warm-up and at the end of every
# minute, and the count of 5xx answers. Fails when there was any 5xx, or when the RSS at the end
# is more than 10 % above the RSS after the warm-up.
#   MINUTES (10), WARMUP (30s), CONNECTIONS (16), ARTICLES (50), COMMENTS seeded (200),
#   SOAK_DATABASE_URL (default: a new SQLite file under target/soak/), PORT (18090)
set -euo pipefail
cd "$(dirname "$0")/.."

MINUTES=${MINUTES:-10}
WARMUP=${WARMUP:-30s}
CONNECTIONS=${CONNECTIONS:-16}
ARTICLES=${ARTICLES:-50}
COMMENTS=${COMMENTS:-200}
PORT=${PORT:-18090}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
OUT=target/soak
TOKEN=soak-service-token-$RANDOM
export ARTICLES COMMENTS TOKEN

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet
rm -rf "$OUT"
mkdir -p "$OUT"
# A copy: another build in the same target directory must not replace the binary mid-run.
cp "$TARGET_DIR/release/comment-service" "$OUT/comment-service"
DATABASE_URL=${SOAK_DATABASE_URL:-sqlite://$OUT/comments.db?mode=rwc}
BASE=http://127.0.0.1:$PORT

env DATABASE_URL="$DATABASE_URL" BIND_ADDR="127.0.0.1:$PORT" API_TOKENS="soak:service:$TOKEN" \
  MAIL_DIR="$OUT/mail" RUST_LOG=warn LOG_FORMAT=json \
  "$OUT/comment-service" serve >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs "$BASE/readyz" >/dev/null && break; sleep 0.1; done
curl -fs "$BASE/readyz" >/dev/null

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$SERVER/status"; }
call() { curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }

echo "soak: seeding $ARTICLES articles and $COMMENTS comments"
published=$(date -u -d '1 day ago' +%Y-%m-%dT%H:%M:%SZ)
for a in $(seq 0 $((ARTICLES - 1))); do
  call -X PUT "$BASE/api/v1/articles/soak-$a" \
    -d "{\"title\": \"Artikel $a\", \"url\": \"https://www.krone.at/soak-$a\", \"published_at\": \"$published\"}"
done
for c in $(seq 1 "$COMMENTS"); do
  call -X POST "$BASE/api/v1/articles/soak-$((c % ARTICLES))/comments" \
    -d "{\"author\": {\"id\": \"seed-$c\", \"name\": \"Leser\"}, \"body\": \"Kommentar $c\"}"
done

total_5xx=0
drive() {
  local out
  out=$(wrk -t 2 -c "$CONNECTIONS" -d "$1" -s bench/soak.lua "$BASE")
  local n
  n=$(sed -n 's/^5xx: //p' <<<"$out")
  total_5xx=$((total_5xx + n))
  sed -n 's/^requests: /   requests: /p' <<<"$out"
}

echo "soak: warm-up $WARMUP"
drive "$WARMUP"
start=$(rss_kib)
echo "soak: RSS after the warm-up: $start KiB"
for m in $(seq 1 "$MINUTES"); do
  drive 60s
  echo "soak: minute $m: RSS $(rss_kib) KiB, 5xx so far $total_5xx"
done
end=$(rss_kib)
growth=$(awk -v s="$start" -v e="$end" 'BEGIN {printf "%.1f", (e - s) * 100 / s}')
echo "soak: RSS start $start KiB, end $end KiB ($growth %), 5xx: $total_5xx, minutes: $MINUTES"
status=0
if [ "$total_5xx" -ne 0 ]; then echo "soak: FAILED: $total_5xx answers were 5xx"; status=1; fi
if awk -v g="$growth" 'BEGIN {exit !(g > 10)}'; then echo "soak: FAILED: RSS grew by $growth %"; status=1; fi
exit $status
