#!/usr/bin/env bash
# The console's queue page under a full queue, on loopback: generates a database (once) whose
# queue holds ITEMS open flagged comments among COMMENTS, starts the release build on it, signs a
# moderator in through the login form (the session cookie) and drives the queue page with wrk.
# Usage:
#   bench/console.sh                                  # SQLite under target/bench/
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/comment_service_console bench/console.sh
# Variables: ITEMS (10000 open items), COMMENTS (1000000), DURATION (10s), CONNECTIONS (1: the
# server's own time per page; more for throughput), FRESH=1 to regenerate.
# The goal: p99 under 20 ms and a page under 100 KB.
set -euo pipefail
cd "$(dirname "$0")/.."

ITEMS=${ITEMS:-10000}
COMMENTS=${COMMENTS:-1000000}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-1}
PORT=${PORT:-18082}
OUT=target/bench
mkdir -p "$OUT"
MOD_TOKEN=bench-moderator-token

DATABASE_URL=${BENCH_DATABASE_URL:-sqlite://$OUT/console.db?mode=rwc}
KIND=sqlite
[[ $DATABASE_URL == postgres* ]] && KIND=postgres
MARK="$OUT/console-generated-$KIND-$ITEMS-$COMMENTS"

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet --bin comment-service --bin generate
BIN=target/release/comment-service

# `generate --flags N` flags N/2 comments and leaves every tenth of them open: 20 flags per item.
if [[ ! -f $MARK || ${FRESH:-0} == 1 ]]; then
  if [[ $KIND == sqlite ]]; then
    rm -f "$OUT"/console.db*
  else
    base=${DATABASE_URL%/*}; name=${DATABASE_URL##*/}
    psql "$base/postgres" -q -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"
  fi
  DATABASE_URL=$DATABASE_URL RUST_LOG=warn target/release/generate --articles 10000 \
    --comments "$COMMENTS" --flags $((ITEMS * 20)) | tee "$MARK"
  [[ $KIND == postgres ]] && psql "$DATABASE_URL" -q -c "VACUUM ANALYZE"
fi

env DATABASE_URL="$DATABASE_URL" BIND_ADDR="127.0.0.1:$PORT" API_TOKENS="bench-mod:moderator:$MOD_TOKEN" \
  CLOSE_EXPIRED_SCHEDULE="0 0 0 1 1 *" MAIL_DIR="$OUT/mail" RUST_LOG=warn "$BIN" serve \
  >>"$OUT/server-console-$KIND.log" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
BASE=http://127.0.0.1:$PORT

# Sign in as a browser does: the login page's cookie and form token, then the form.
JAR=$OUT/console-cookies.txt
rm -f "$JAR"
CSRF=$(curl -fsS -c "$JAR" "$BASE/console/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p')
curl -fsS -o /dev/null -b "$JAR" -c "$JAR" --data-urlencode "name=Bench" \
  --data-urlencode "token=$MOD_TOKEN" --data-urlencode "csrf=$CSRF" "$BASE/console/login"
SESSION=$(awk '$6 == "console_session" {print $7}' "$JAR")
[[ -n $SESSION ]] || { echo "sign-in failed" >&2; exit 1; }
COOKIE="Cookie: console_session=$SESSION"

echo "queue counts: $(curl -fsS -H "$COOKIE" "$BASE/console/counts")"
# A page 100 pages into the tab, reached by following its "next" links (keyset cursors).
deep() {
  local path="/console/queue?tab=flagged"
  for _ in $(seq 1 "$1"); do
    path=$(curl -fsS -H "$COOKIE" "$BASE$path" | sed -n 's/.*rel="next" href="\([^"]*\)".*/\1/p' | sed 's/&amp;/\&/g')
    [[ -n $path ]] || { echo "the tab ended early" >&2; exit 1; }
  done
  echo "$path"
}
DEEP=$(deep 100)

measure() {
  local title=$1 path=$2
  echo; echo "== $title ($KIND, $CONNECTIONS connection(s))"
  curl -fsS -o /dev/null -H "$COOKIE" -w "   page: %{size_download} bytes, %{http_code}\n" "$BASE$path"
  echo "   items on it: $(curl -fsS -H "$COOKIE" "$BASE$path" | grep -c 'data-comment-id=')"
  wrk -t1 -c"$CONNECTIONS" -d2s -H "$COOKIE" "$BASE$path" >/dev/null # warm-up, not measured
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency -H "$COOKIE" "$BASE$path" |
    grep -E "Requests/sec|Latency |  50%|  99%|Non-2xx|Socket errors"
}
measure "GET /console/queue?tab=flagged, the first page" "/console/queue?tab=flagged"
measure "GET the flagged tab 100 pages in" "$DEEP"
echo "   peak RSS of the server: $(awk '/VmHWM/ {print $2, $3}' /proc/$SERVER/status)"
