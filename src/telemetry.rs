//! Logging through tracing (human-readable or JSON lines) and the access log: one line per
//! request with method, route, status, latency and request id; the id is returned in
//! `X-Request-Id`. The same middleware records the request metrics.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber once; later calls (tests) do nothing. Lines go to stdout
/// through a writer thread that batches them (one write for many lines under load); keep the
/// returned guard alive until exit so the last lines are flushed.
pub fn init(format: LogFormat) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        // At most this many lines wait for the writer (then requests wait for it): bounds memory.
        .buffered_lines_limit(4096)
        .finish(std::io::BufWriter::with_capacity(
            64 * 1024,
            std::io::stdout(),
        ));
    let fmt = tracing_subscriber::fmt::layer()
        .with_timer(Timestamps)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_writer(writer);
    let registry = tracing_subscriber::registry().with(filter);
    let installed = match format {
        LogFormat::Json => registry
            .with(ClientErrorsAsWarnings(
                fmt.json().flatten_event(true).with_current_span(false),
            ))
            .try_init(),
        LogFormat::Human => registry.with(ClientErrorsAsWarnings(fmt)).try_init(),
    };
    installed.is_ok().then_some(guard)
}

/// The lines' timestamps, as tracing-subscriber's `SystemTime` writes them
/// (`2026-12-02T10:19:12.213076Z`), with the part up to the second formatted once per second on
/// each thread rather than on every line.
struct Timestamps;

impl tracing_subscriber::fmt::time::FormatTime for Timestamps {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        write_timestamp(std::time::SystemTime::now(), w)
    }
}

fn write_timestamp(at: std::time::SystemTime, w: &mut impl std::fmt::Write) -> std::fmt::Result {
    thread_local! {
        static SECOND: std::cell::RefCell<(u64, String)> = const { std::cell::RefCell::new((0, String::new())) };
    }
    let since_epoch = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = since_epoch.as_secs();
    SECOND.with_borrow_mut(|(second, text)| {
        if *second != secs || text.is_empty() {
            *second = secs;
            text.clear();
            if let Some(t) = i64::try_from(secs)
                .ok()
                .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
            {
                use std::fmt::Write as _;
                write!(text, "{}", t.format("%Y-%m-%dT%H:%M:%S"))?;
            }
        }
        write!(w, "{text}.{:06}Z", since_epoch.subsec_micros())
    })
}

/// actix-http logs a request it cannot read (a malformed header, a broken request line, a
/// client that stalls) as an ERROR "stream error", after answering 400 itself. That is the
/// client's mistake, not the service's: this layer hands such events to the log at WARN, under
/// its own message, and everything else unchanged.
struct ClientErrorsAsWarnings<L>(L);

const DISPATCHER: &str = "actix_http::h1::dispatcher";
const STREAM_ERROR: &str = "stream error: ";

struct ClientErrorCallsite;
static CLIENT_ERROR_CALLSITE: ClientErrorCallsite = ClientErrorCallsite;
static CLIENT_ERROR: tracing::Metadata<'static> = tracing::Metadata::new(
    "a client sent a request that could not be read",
    "comment_service::telemetry",
    tracing::Level::WARN,
    Some(file!()),
    Some(line!()),
    Some(module_path!()),
    tracing::field::FieldSet::new(
        &["message", "error"],
        tracing_core::identify_callsite!(&CLIENT_ERROR_CALLSITE),
    ),
    tracing_core::metadata::Kind::EVENT,
);

impl tracing_core::Callsite for ClientErrorCallsite {
    fn set_interest(&self, _: tracing_core::Interest) {}

    fn metadata(&self) -> &tracing::Metadata<'_> {
        &CLIENT_ERROR
    }
}

/// The `message` of an event.
#[derive(Default)]
struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

/// The error of an actix-http "stream error" event, if the event is one.
fn client_stream_error(event: &tracing::Event<'_>) -> Option<String> {
    let meta = event.metadata();
    if meta.target() != DISPATCHER || *meta.level() != tracing::Level::ERROR {
        return None;
    }
    let mut message = Message::default();
    event.record(&mut message);
    message.0.strip_prefix(STREAM_ERROR).map(str::to_string)
}

/// Only what the formatting layer uses is passed on: it is built without span events, so span
/// entries, exits and closes do nothing there.
impl<S, L> tracing_subscriber::Layer<S> for ClientErrorsAsWarnings<L>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    L: tracing_subscriber::Layer<S>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        self.0.on_new_span(attrs, id, ctx)
    }

    fn on_record(
        &self,
        span: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        self.0.on_record(span, values, ctx)
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: tracing_subscriber::layer::Context<'_, S>) {
        let Some(error) = client_stream_error(event) else {
            return self.0.on_event(event, ctx);
        };
        let fields = CLIENT_ERROR.fields();
        let (Some(message), Some(error_field)) = (fields.field("message"), fields.field("error"))
        else {
            return;
        };
        let text = format_args!("a client sent a request that could not be read; answered 400");
        let values: [(&tracing::field::Field, Option<&dyn tracing::Value>); 2] = [
            (&message, Some(&text as &dyn tracing::Value)),
            (&error_field, Some(&error as &dyn tracing::Value)),
        ];
        let values = fields.value_set(&values);
        self.0
            .on_event(&tracing::Event::new(&CLIENT_ERROR, &values), ctx)
    }
}

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A caller's request id when it is a sensible token; otherwise a new one.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string)
        .unwrap_or_else(|| format!("{:016x}", rand::random::<u64>()))
}

/// The access log and request metrics.
pub async fn access_log(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let method = req.method().clone();
    // Labels from a closed set: the metrics must not grow with what clients invent.
    let method_label = crate::metrics::method_label(&method);
    let span = tracing::info_span!("request", request_id = id.as_str());
    let result = next.call(req).instrument(span).await;
    let latency = started.elapsed();
    // Read once the router has matched the request: before, actix-web finds the pattern by
    // matching the path against every route again (a regex each).
    let (status, pattern) = match &result {
        Ok(res) => (res.status().as_u16(), res.request().match_pattern()),
        Err(e) => (e.as_response_error().status_code().as_u16(), None),
    };
    let route = crate::metrics::route_label(pattern);
    tracing::info!(
        request_id = id.as_str(),
        method = method.as_str(),
        route = route.as_str(),
        status,
        latency_ms = latency.as_secs_f64() * 1000.0,
        "request"
    );
    ::metrics::counter!(crate::metrics::HTTP_REQUESTS, "method" => method_label, "route" => route.clone(), "status" => crate::metrics::status_label(status))
        .increment(1);
    ::metrics::histogram!(crate::metrics::HTTP_DURATION, "method" => method_label, "route" => route)
        .record(latency.as_secs_f64());
    let mut res = result?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps_are_rfc3339_utc_with_microseconds() {
        let mut written = String::new();
        for (secs, micros, expected) in [
            (1_764_670_752, 213_076, "2025-12-02T10:19:12.213076Z"),
            (1_764_670_752, 7, "2025-12-02T10:19:12.000007Z"),
            (1_764_670_753, 999_999, "2025-12-02T10:19:13.999999Z"),
            (0, 0, "1970-01-01T00:00:00.000000Z"),
        ] {
            written.clear();
            let at = UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros);
            super::write_timestamp(at, &mut written).unwrap();
            assert_eq!(written, expected);
        }
    }
}
