#!/usr/bin/env bash
# Peak memory of the GDPR export: one author with N comments (default 100,000) in a fresh
# database, exported once by the release build. Usage:
#   bench/export.sh                                  # SQLite under target/bench/export/
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/comment_service_export bench/export.sh
# Variables: N (100000), BODY_CHARS (300, the length of each comment), PORT (18081).
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-100000}
BODY_CHARS=${BODY_CHARS:-300}
PORT=${PORT:-18081}
TARGET=${CARGO_TARGET_DIR:-target}
OUT=$TARGET/bench/export
TOKEN=bench-service-token
rm -rf "$OUT"; mkdir -p "$OUT"

DATABASE_URL=${BENCH_DATABASE_URL:-sqlite://$OUT/comments.db?mode=rwc}
KIND=sqlite
[[ $DATABASE_URL == postgres* ]] && KIND=postgres
if [[ $KIND == postgres ]]; then
  base=${DATABASE_URL%/*}; name=${DATABASE_URL##*/}
  psql "$base/postgres" -q -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name"
fi

cargo build --release --quiet
BIN=$TARGET/release/comment-service

start() {
  env DATABASE_URL="$DATABASE_URL" BIND_ADDR="127.0.0.1:$PORT" API_TOKENS="bench:service:$TOKEN" \
    CLOSE_EXPIRED_SCHEDULE="0 0 0 1 1 *" MAIL_DIR="$OUT/mail" RUST_LOG=warn "$BIN" serve \
    >>"$OUT/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && return; sleep 0.1; done
  echo "server did not start" >&2; exit 1
}
api() { curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
URL=http://127.0.0.1:$PORT/api/v1

# The author's first comment through the API (it creates the author record), then N - 1 more
# with one set-based INSERT that copies it.
start
api -X PUT "$URL/articles/export-bench" -o /dev/null -d \
  "{\"title\": \"Export\", \"url\": \"https://www.krone.at/export\", \"published_at\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}"
api -X POST "$URL/articles/export-bench/comments" -o /dev/null \
  -d '{"author": {"id": "u-export", "name": "Vielschreiber"}, "body": "Der erste Kommentar"}'
kill -TERM "$SERVER"; wait "$SERVER" || true

FILLER=$(head -c "$BODY_CHARS" /dev/zero | tr '\0' a)
FILL="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $N - 1)
INSERT INTO comments (article_id, author_id, author_name, body, status, created_at)
SELECT c.article_id, c.author_id, c.author_name,
       'Kommentar ' || n.i || ' $FILLER',
       'visible', c.created_at
FROM n, (SELECT * FROM comments WHERE author_id = 'u-export' LIMIT 1) c;"
if [[ $KIND == sqlite ]]; then
  sqlite3 "$OUT/comments.db" "$FILL"
else
  psql "$DATABASE_URL" -q -c "$FILL"
fi

start
before=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
read -r bytes seconds < <(curl -fsS -H "Authorization: Bearer $TOKEN" "$URL/authors/u-export/export" \
  -o "$OUT/export.json" -w '%{size_download} %{time_total}\n')
after=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER/status")
comments=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['comments']))" "$OUT/export.json")
kill -TERM "$SERVER"; wait "$SERVER" || true

echo "$KIND: exported $comments comments, $bytes bytes in ${seconds}s"
echo "peak RSS of the server: $((before / 1024)) MB before the export, $((after / 1024)) MB after it"
