# Build the release binary in one stage, run it as a non-root user in a slim image.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY migration migration
COPY src src
RUN cargo build --release --locked --bin comment-service

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --create-home comments
WORKDIR /app
COPY --from=build /src/target/release/comment-service /usr/local/bin/comment-service
USER comments
ENV BIND_ADDR=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///app/data/comments.db?mode=rwc \
    MAIL_DIR=/app/data/mail
VOLUME ["/app/data"]
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["comment-service"]
CMD ["serve"]
