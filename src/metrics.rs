//! Prometheus metrics through the `metrics` crate and its Prometheus exporter.
//!
//! The recorder is the process's one `metrics` recorder (installed once); the handle that renders
//! it lives in the application state. The outbox gauges are set by the deliver job after each run
//! (and at start-up), never by a scrape; the `/metrics` handler sets the pool's and the page
//! cache's from what they hold in memory.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::domain::states::NotificationStatus;

pub const HTTP_REQUESTS: &str = "http_requests_total";
pub const HTTP_DURATION: &str = "http_request_duration_seconds";
pub const COMMENTS_POSTED: &str = "comments_posted_total";
pub const COMMENTS_HELD: &str = "comments_held_total";
pub const COMMENTS_REJECTED: &str = "comments_rejected_total";
pub const FLAGS: &str = "flags_total";
pub const DISCUSSIONS_CLOSED: &str = "discussions_closed_total";
pub const LIVE_SUBSCRIBERS: &str = "live_subscribers";
pub const NOTIFICATIONS: &str = "notifications";
pub const NOTIFICATIONS_SENT: &str = "notifications_sent_total";
pub const DB_POOL_SIZE: &str = "db_pool_connections";
pub const DB_POOL_IDLE: &str = "db_pool_idle_connections";
pub const PAGE_CACHE_BYTES: &str = "page_cache_bytes";
pub const PAGE_READER_IDLE: &str = "db_page_reader_idle_connections";

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the recorder once per process and returns the handle that renders it.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_string()), LATENCY_BUCKETS)
                .map(|b| b.build_recorder())
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
            }
            describe();
            let upkeep = handle.clone();
            std::thread::spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(5));
                    upkeep.run_upkeep();
                }
            });
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests by method, route template and status"
    );
    metrics::describe_histogram!(
        HTTP_DURATION,
        metrics::Unit::Seconds,
        "HTTP request latency by route"
    );
    metrics::describe_counter!(COMMENTS_POSTED, "Comments posted");
    metrics::describe_counter!(
        COMMENTS_HELD,
        "New or edited comments the content rules held for review"
    );
    metrics::describe_counter!(
        COMMENTS_REJECTED,
        "Comments the content rules refused, by rule"
    );
    metrics::describe_counter!(FLAGS, "Flags by reason");
    metrics::describe_gauge!(LIVE_SUBSCRIBERS, "Open live streams of this process");
    metrics::describe_counter!(DISCUSSIONS_CLOSED, "Discussions closed, by reason");
    metrics::describe_gauge!(NOTIFICATIONS, "Notifications in the outbox by status");
    metrics::describe_counter!(NOTIFICATIONS_SENT, "Notifications sent by this process");
    metrics::describe_gauge!(DB_POOL_SIZE, "Open database connections in the pool");
    metrics::describe_gauge!(DB_POOL_IDLE, "Idle database connections in the pool");
    metrics::describe_gauge!(PAGE_CACHE_BYTES, "Bytes held by the comment page cache");
    metrics::describe_gauge!(
        PAGE_READER_IDLE,
        "Connections the page reader keeps open between reads (SQLite's or PostgreSQL's, besides the pools)"
    );
}

/// The `method` label of the request metrics: one of the standard methods, else `other`, so an
/// invented method (any client can send one) adds no label set.
pub fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "other",
    }
}

/// The `route` label of the request metrics: the registered route template the request matched,
/// else `unmatched`, so invented paths add no label set.
pub fn route_label(pattern: Option<String>) -> String {
    pattern.unwrap_or_else(|| "unmatched".to_string())
}

/// The `status` label of the request metrics: the status code's three digits, written once per
/// process rather than on every request.
pub fn status_label(status: u16) -> &'static str {
    static LABELS: std::sync::LazyLock<Vec<String>> =
        std::sync::LazyLock::new(|| (100..=999).map(|code: u16| code.to_string()).collect());
    match status {
        100..=999 => &LABELS[usize::from(status - 100)],
        _ => "other",
    }
}

/// Sets the outbox gauges from the counts per status (a status without rows is 0).
pub fn set_outbox(counts: &[(NotificationStatus, i64)]) {
    for &status in NotificationStatus::ALL {
        let n = counts
            .iter()
            .find(|(s, _)| *s == status)
            .map(|(_, n)| *n)
            .unwrap_or(0);
        metrics::gauge!(NOTIFICATIONS, "status" => status.as_str()).set(n as f64);
    }
}

/// Sets the database pool gauges.
pub fn set_pool(size: u32, idle: usize) {
    metrics::gauge!(DB_POOL_SIZE).set(size as f64);
    metrics::gauge!(DB_POOL_IDLE).set(idle as f64);
}

/// Sets the page cache gauges: its bytes, and the page reader's idle connections.
pub fn set_page_cache(bytes: usize, reader_idle: usize) {
    metrics::gauge!(PAGE_CACHE_BYTES).set(bytes as f64);
    metrics::gauge!(PAGE_READER_IDLE).set(reader_idle as f64);
}

#[cfg(test)]
mod status_label_tests {
    use super::status_label;

    #[test]
    fn status_labels_are_the_codes_digits() {
        assert_eq!(status_label(200), "200");
        assert_eq!(status_label(404), "404");
        assert_eq!(status_label(100), "100");
        assert_eq!(status_label(999), "999");
        assert_eq!(status_label(42), "other");
        assert_eq!(status_label(1000), "other");
    }
}
