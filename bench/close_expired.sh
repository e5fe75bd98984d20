#!/usr/bin/env bash
# close-expired benchmark: 100,000 and 1,000,000 due discussions, on SQLite and PostgreSQL,
# each in a fresh database. PG_URL (default postgres://postgres@127.0.0.1:5432) names the server.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
OUT=target/bench
mkdir -p "$OUT"
cargo build --release --quiet --example bench_close_expired
BIN=target/release/examples/bench_close_expired
for n in ${COUNTS:-100000 1000000}; do
  rm -f "$OUT"/close.db*
  DATABASE_URL="sqlite://$OUT/close.db?mode=rwc" RUST_LOG=warn "$BIN" "$n"
  psql "$PG_URL/postgres" -q -c "DROP DATABASE IF EXISTS comment_service_close_bench WITH (FORCE)" \
    -c "CREATE DATABASE comment_service_close_bench"
  DATABASE_URL="$PG_URL/comment_service_close_bench" RUST_LOG=warn "$BIN" "$n"
done
