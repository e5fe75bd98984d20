#!/usr/bin/env bash
# Transparency report benchmark on PostgreSQL: a fresh database with 10,000 articles, 1,000,000
# comments and FLAGS (default 1,000,000) flags spread over the last year, with their decisions,
# automated holds, appeals and audit-log entries (the `generate` binary's `--flags`); then the
# report of that year (`GET /api/v1/moderation/report`), timed with curl RUNS times as JSON and as
# CSV. PG_URL (default postgres://postgres@127.0.0.1:5432) names the server; KEEP=1 reuses the
# database of an earlier run.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
DB=comment_service_report_bench
FLAGS=${FLAGS:-1000000}
RUNS=${RUNS:-5}
PORT=${PORT:-18091}
TARGET=${CARGO_TARGET_DIR:-target}
OUT=$TARGET/bench
mkdir -p "$OUT/mail"
cargo build --release --quiet
BIN=$TARGET/release/comment-service
export DATABASE_URL="$PG_URL/$DB" RUST_LOG=warn MAIL_DIR="$OUT/mail"
if [ -z "${KEEP:-}" ]; then
  psql "$PG_URL/postgres" -q -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
  "$TARGET/release/generate" --articles 10000 --comments 1000000 --flags "$FLAGS"
  # What autovacuum would have done by the time anyone asks for a report.
  psql "$DATABASE_URL" -q -c "VACUUM ANALYZE"
fi
psql "$DATABASE_URL" -At -c "SELECT 'rows: ' || (SELECT count(*) FROM flags) || ' flags, ' || \
  (SELECT count(*) FROM decisions) || ' decisions, ' || (SELECT count(*) FROM appeals) || \
  ' appeals, ' || (SELECT count(*) FROM moderation_log) || ' audit-log entries'"

TOKEN=bench-moderator-token
BIND_ADDR=127.0.0.1:$PORT API_TOKENS="bench:moderator:$TOKEN" "$BIN" serve &
PID=$!
trap 'kill $PID' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done

FROM=$(date -u -d '-366 days' +%Y-%m-%dT%H:%M:%SZ)
TO=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
URL="http://127.0.0.1:$PORT/api/v1/moderation/report?from=$FROM&to=$TO"
curl -fsS -H "Authorization: Bearer $TOKEN" "$URL"
echo
for accept in application/json text/csv; do
  for _ in $(seq 1 "$RUNS"); do
    curl -fsS -o /dev/null -H "Authorization: Bearer $TOKEN" -H "Accept: $accept" \
      -w "$accept: %{time_total} s\n" "$URL"
  done
done
