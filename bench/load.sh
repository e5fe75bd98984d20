#!/usr/bin/env bash
# Load benchmark on loopback: generates a database (once), starts the release build on it and
# drives it with wrk. Usage:
#   bench/load.sh                                   # SQLite under target/bench/
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/comment_service_bench bench/load.sh
# Variables: ARTICLES (10000), COMMENTS (1000000), BIG (510000 of them in article gen-big),
# HOT (1000 newest articles readers hit), DURATION (10s), CONNECTIONS (32), FRESH=1 to regenerate,
# SERVER_ENV (extra VAR=value settings for the server), BIN (another build of the service to run,
# e.g. an older release copied aside, for a before/after on the same data), ONLY (a regex: run
# only the scenarios whose title matches, e.g. ONLY=POST). Scenarios: cached pages, the same bytes from actix-web alone
# (the ceiling), pages with the cache off, `?ids=`,
# POST (random articles; all connections into one article, a hot story; with 20,000 rule words).
set -euo pipefail
cd "$(dirname "$0")/.."

ARTICLES=${ARTICLES:-10000}
COMMENTS=${COMMENTS:-1000000}
BIG=${BIG:-510000}
HOT=${HOT:-1000}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${PORT:-18080}
OUT=target/bench
mkdir -p "$OUT"
export TOKEN=bench-service-token HOT ARTICLES
MOD_TOKEN=bench-moderator-token

DATABASE_URL=${BENCH_DATABASE_URL:-sqlite://$OUT/comments.db?mode=rwc}
KIND=sqlite
[[ $DATABASE_URL == postgres* ]] && KIND=postgres
MARK="$OUT/generated-$KIND"

command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet --bin comment-service --bin generate --example static_ceiling
BIN=${BIN:-target/release/comment-service}
GENERATE=target/release/generate

if [[ ! -f $MARK || ${FRESH:-0} == 1 ]]; then
  if [[ $KIND == sqlite ]]; then
    rm -f "$OUT"/comments.db*
  else
    base=${DATABASE_URL%/*}; name=${DATABASE_URL##*/}
    psql "$base/postgres" -q -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"
  fi
  DATABASE_URL=$DATABASE_URL RUST_LOG=warn "$GENERATE" --articles "$ARTICLES" --comments "$COMMENTS" --big "$BIG" | tee "$MARK"
fi
DEEP_CURSOR=$(sed -n 's/^deep cursor.*: //p' "$MARK")

run_server() {
  # shellcheck disable=SC2086 # SERVER_ENV holds extra VAR=value words
  env DATABASE_URL="$DATABASE_URL" BIND_ADDR="127.0.0.1:$PORT" API_TOKENS="bench:service:$TOKEN,bench-mod:moderator:$MOD_TOKEN" \
    CLOSE_EXPIRED_SCHEDULE="0 0 0 1 1 *" MAIL_DIR="$OUT/mail" RUST_LOG="${RUST_LOG:-info}" \
    LOG_FORMAT=json ${SERVER_ENV:-} "$@" "$BIN" serve >>"$OUT/server-$KIND.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && return; sleep 0.1; done
  echo "server did not start" >&2; exit 1
}
stop_server() {
  echo "   peak RSS of the server: $(awk '/VmHWM/ {print $2, $3}' /proc/$SERVER/status)"
  kill -TERM "$SERVER"; wait "$SERVER" || true
}
# One scenario on a freshly started server: bench TITLE [VAR=value ...] -- WRK-ARGS...
bench() {
  local title=$1; shift
  local settings=()
  while [[ $1 != -- ]]; do settings+=("$1"); shift; done
  shift
  [[ -n ${ONLY:-} && ! $title =~ $ONLY ]] && return
  echo; echo "== $title"
  run_server "${settings[@]}"
  measure "$@"
  stop_server
}
measure() {
  wrk -t2 -c"$CONNECTIONS" -d2s "$@" >/dev/null # warm-up, not measured
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" | grep -E "Requests/sec|Latency |  50%|  99%|Non-2xx|Socket errors"
}
# The ceiling for cached pages: actix-web alone (examples/static_ceiling.rs) serving the bytes
# the service gave for PATH, driven the same way.
ceiling() {
  local title="GET the same bytes from actix-web alone, the ceiling for cached pages" path=$1
  [[ -n ${ONLY:-} && ! $title =~ $ONLY ]] && return
  echo; echo "== $title"
  run_server
  curl -fsS -H "Authorization: Bearer $TOKEN" "$BASE$path" >"$OUT/ceiling-body.json"
  kill -TERM "$SERVER"; wait "$SERVER" || true
  target/release/examples/static_ceiling "127.0.0.1:$PORT" "$OUT/ceiling-body.json" &
  SERVER=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.1; done
  measure -s bench/fixed.lua "$BASE$path"
  stop_server
}

BASE=http://127.0.0.1:$PORT
PAGE=/api/v1/articles/gen-big/comments?limit=50
: >"$OUT/server-$KIND.log"
bench "GET a 50-comment page, the $HOT newest articles ($KIND)" -- -s bench/page.lua "$BASE"
HOT=100 bench "GET a 50-comment page, the 100 newest articles ($KIND)" -- -s bench/page.lua "$BASE"
bench "GET the first page of gen-big" -- -s bench/fixed.lua "$BASE$PAGE"
ceiling "$PAGE"
[[ -n $DEEP_CURSOR ]] && bench "GET gen-big 10,000 pages in" -- -s bench/fixed.lua "$BASE$PAGE&cursor=$DEEP_CURSOR"
bench "GET /api/v1/articles?ids= with 100 ids" -- -s bench/ids.lua "$BASE"
bench "GET the first page of gen-big, page cache off" PAGE_CACHE_MB=0 -- -s bench/fixed.lua "$BASE$PAGE"
[[ -n $DEEP_CURSOR ]] && bench "GET gen-big 10,000 pages in, page cache off" PAGE_CACHE_MB=0 -- -s bench/fixed.lua "$BASE$PAGE&cursor=$DEEP_CURSOR"
# Stores content rules (a JSON file) through the API of a server started for it.
put_rules() {
  [[ -n ${ONLY:-} && ! "POST" =~ $ONLY ]] && return
  run_server
  curl -fsS -X PUT -H "Authorization: Bearer $MOD_TOKEN" -H 'Content-Type: application/json' \
    --data-binary @"$1" "$BASE/api/v1/moderation/rules" >/dev/null
  kill -TERM "$SERVER"; wait "$SERVER" || true
}
# 10,000 banned and 10,000 suspect entries (random words, a tenth of them with `*`), none of
# which the posted text contains: every post is checked against all of them and published.
RULES_FILE=$OUT/rules-20000.json
awk 'BEGIN { srand(20261128); printf "{\"banned_words\": ["
  for (l = 0; l < 2; l++) {
    if (l == 1) printf "], \"suspect_words\": ["
    for (i = 0; i < 10000; i++) {
      n = 6 + int(rand() * 7); w = ""
      for (j = 0; j < n; j++) w = w sprintf("%c", 97 + int(rand() * 26))
      if (i % 10 == 0) w = w "*"
      printf "%s\"%s\"", (i ? ", " : ""), w
    }
  }
  printf "], \"links\": \"premod\", \"link_allowlist\": [\"krone.at\"]}\n" }' >"$RULES_FILE"
echo '{}' >"$OUT/rules-default.json"

# Last: the posted comments change the data the other scenarios read.
put_rules "$OUT/rules-default.json"
bench "POST a comment" -- -s bench/post.lua "$BASE"
ARTICLE=gen-0 bench "POST a comment, all connections into one article" -- -s bench/post.lua "$BASE"
put_rules "$RULES_FILE"
bench "POST a comment, 10,000 banned + 10,000 suspect words loaded" -- -s bench/post.lua "$BASE"
put_rules "$OUT/rules-default.json"
