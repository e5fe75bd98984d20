//! `GET /api/v1/moderation/report`: the transparency figures of a period (EU Digital Services
//! Act, Art. 15), as JSON or, with `Accept: text/csv`, as CSV rows `section,key,value`.

use crate::api::routes::Documented;
use actix_web::http::header::{self, Header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Months, Utc};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::openapi::{ErrorBody, ForModerators};
use crate::auth::Moderator;
use crate::domain::states::FlagReason;
use crate::error::{FieldErrors, ServiceError};
use crate::state::AppState;
use crate::store::report::{self, Durations};
use crate::views::dto::{format_ts, parse_ts, ts};

/// The longest period one report covers.
const MAX_PERIOD_MONTHS: u32 = 24;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(Documented::route(
        __path_transparency_report,
        transparency_report,
    ));
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ReportQuery {
    /// Start of the period, included (RFC 3339, any offset).
    #[param(value_type = String, format = DateTime, required = true, example = "2026-01-01T00:00:00+01:00")]
    from: Option<String>,
    /// End of the period, excluded (RFC 3339, any offset); after `from`, at most 2 years later.
    #[param(value_type = String, format = DateTime, required = true, example = "2027-01-01T00:00:00+01:00")]
    to: Option<String>,
}

/// Counts keyed by wire name, in the enum's order, every name present.
pub(crate) struct Counts(Vec<(&'static str, u64)>);

impl Counts {
    fn of<T: Copy>(counts: &[(T, u64)], name: impl Fn(T) -> &'static str) -> Counts {
        Counts(counts.iter().map(|(v, n)| (name(*v), *n)).collect())
    }
}

impl Serialize for Counts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (key, n) in &self.0 {
            map.serialize_entry(key, n)?;
        }
        map.end()
    }
}

/// The period the figures are about: `from` included, `to` excluded.
#[derive(Serialize, ToSchema)]
pub(crate) struct ReportPeriod {
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    from: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    to: DateTime<Utc>,
}

/// Flags created in the period.
#[derive(Serialize, ToSchema)]
pub(crate) struct ReportFlags {
    total: u64,
    /// Notices of illegal content: flags with reason `illegal`.
    notices: u64,
    /// Every reason with its count.
    #[schema(value_type = std::collections::BTreeMap<String, u64>, example = json!({"spam": 120, "abuse": 80, "off_topic": 12, "illegal": 9, "misinformation": 4, "other": 2}))]
    by_reason: Counts,
}

/// Decisions taken in the period.
#[derive(Serialize, ToSchema)]
pub(crate) struct ReportDecisions {
    total: u64,
    /// Taken by the content rules (comments held for review).
    automated: u64,
    /// Taken by moderators.
    manual: u64,
    /// Every action (`approve`, `hide`, `delete`, `hold`) with its count.
    #[schema(value_type = std::collections::BTreeMap<String, u64>)]
    by_action: Counts,
    /// Every ground (`terms`, `illegal`) with the count of decisions that name it.
    #[schema(value_type = std::collections::BTreeMap<String, u64>)]
    by_ground: Counts,
    /// Every category with the count of decisions that name it.
    #[schema(value_type = std::collections::BTreeMap<String, u64>)]
    by_category: Counts,
}

/// How long decisions of the period took, in hours (rounded to two decimals); the median and
/// 90th percentile interpolate like SQL's `percentile_cont`, and are null without decisions.
#[derive(Serialize, ToSchema)]
pub(crate) struct TimeToDecision {
    /// The decisions the figures are about.
    decisions: u64,
    #[schema(required)]
    median_hours: Option<f64>,
    #[schema(required)]
    p90_hours: Option<f64>,
}

impl From<&Durations> for TimeToDecision {
    fn from(d: &Durations) -> TimeToDecision {
        let hours = |s: Option<f64>| s.map(|s| (s / 36.0).round() / 100.0);
        TimeToDecision {
            decisions: d.decisions,
            median_hours: hours(d.median_seconds),
            p90_hours: hours(d.p90_seconds),
        }
    }
}

/// Time to decision.
#[derive(Serialize, ToSchema)]
pub(crate) struct ReportTimes {
    /// From the first flag a decision answered to the decision, for every decision of the period
    /// that answered flags.
    flagged: TimeToDecision,
    /// From the first notice of illegal content to the decision, for every decision of the
    /// period that answered one.
    illegal: TimeToDecision,
}

/// Appeals by outcome.
#[derive(Serialize, ToSchema)]
pub(crate) struct ReportAppeals {
    /// Lodged in the period.
    received: u64,
    /// Decided in the period: the decision stands.
    upheld: u64,
    /// Decided in the period: the decision was reversed.
    reversed: u64,
    /// Lodged before the end of the period and undecided at its end.
    open: u64,
}

/// Authors suspended and banned in the period (status changes in the audit log).
#[derive(Serialize, ToSchema)]
pub(crate) struct ReportAuthors {
    suspended: u64,
    banned: u64,
}

/// The transparency figures of a period.
#[derive(Serialize, ToSchema)]
pub(crate) struct TransparencyReport {
    period: ReportPeriod,
    flags: ReportFlags,
    decisions: ReportDecisions,
    time_to_decision: ReportTimes,
    appeals: ReportAppeals,
    authors: ReportAuthors,
}

impl TransparencyReport {
    fn new(from: DateTime<Utc>, to: DateTime<Utc>, r: &report::Report) -> TransparencyReport {
        let d = &r.decisions;
        TransparencyReport {
            period: ReportPeriod { from, to },
            flags: ReportFlags {
                total: r.flags_by_reason.iter().map(|(_, n)| n).sum(),
                notices: r
                    .flags_by_reason
                    .iter()
                    .filter(|(reason, _)| *reason == FlagReason::Illegal)
                    .map(|(_, n)| n)
                    .sum(),
                by_reason: Counts::of(&r.flags_by_reason, |v| v.as_str()),
            },
            decisions: ReportDecisions {
                total: d.total,
                automated: d.automated,
                manual: d.manual,
                by_action: Counts::of(&d.by_action, |v| v.as_str()),
                by_ground: Counts::of(&d.by_ground, |v| v.as_str()),
                by_category: Counts::of(&d.by_category, |v| v.as_str()),
            },
            time_to_decision: ReportTimes {
                flagged: (&r.time_to_decision).into(),
                illegal: (&r.time_to_decision_illegal).into(),
            },
            appeals: ReportAppeals {
                received: r.appeals.received,
                upheld: r.appeals.upheld,
                reversed: r.appeals.reversed,
                open: r.appeals.open,
            },
            authors: ReportAuthors {
                suspended: r.suspensions,
                banned: r.bans,
            },
        }
    }

    /// The same figures as CSV: a header, then one row per figure, `section,key,value`, in the
    /// order of the JSON; `section` is the JSON path to the figure's object (`flags.by_reason`),
    /// `key` its name there, and an empty `value` is JSON's null. No field needs quoting.
    fn to_csv(&self) -> String {
        let mut rows: Vec<(&str, &str, String)> = vec![
            ("period", "from", format_ts(self.period.from)),
            ("period", "to", format_ts(self.period.to)),
            ("flags", "total", self.flags.total.to_string()),
            ("flags", "notices", self.flags.notices.to_string()),
        ];
        let counts = |rows: &mut Vec<(&str, &str, String)>, section, counts: &Counts| {
            for (key, n) in &counts.0 {
                rows.push((section, key, n.to_string()));
            }
        };
        counts(&mut rows, "flags.by_reason", &self.flags.by_reason);
        let d = &self.decisions;
        rows.push(("decisions", "total", d.total.to_string()));
        rows.push(("decisions", "automated", d.automated.to_string()));
        rows.push(("decisions", "manual", d.manual.to_string()));
        counts(&mut rows, "decisions.by_action", &d.by_action);
        counts(&mut rows, "decisions.by_ground", &d.by_ground);
        counts(&mut rows, "decisions.by_category", &d.by_category);
        for (section, t) in [
            ("time_to_decision.flagged", &self.time_to_decision.flagged),
            ("time_to_decision.illegal", &self.time_to_decision.illegal),
        ] {
            let hours = |h: Option<f64>| h.map(|h| h.to_string()).unwrap_or_default();
            rows.push((section, "decisions", t.decisions.to_string()));
            rows.push((section, "median_hours", hours(t.median_hours)));
            rows.push((section, "p90_hours", hours(t.p90_hours)));
        }
        let a = &self.appeals;
        rows.push(("appeals", "received", a.received.to_string()));
        rows.push(("appeals", "upheld", a.upheld.to_string()));
        rows.push(("appeals", "reversed", a.reversed.to_string()));
        rows.push(("appeals", "open", a.open.to_string()));
        rows.push(("authors", "suspended", self.authors.suspended.to_string()));
        rows.push(("authors", "banned", self.authors.banned.to_string()));
        let mut csv = String::from("section,key,value\r\n");
        for (section, key, value) in rows {
            csv.push_str(&format!("{section},{key},{value}\r\n"));
        }
        csv
    }
}

/// The period of the query: both ends required, `from` before `to`, at most 2 years apart.
fn period(query: &ReportQuery) -> Result<(DateTime<Utc>, DateTime<Utc>), ServiceError> {
    let mut errors = FieldErrors::new();
    let mut end = |name: &str, raw: Option<&str>| match raw {
        None => {
            errors.add(name, "is required");
            None
        }
        Some(raw) => errors.check(name, parse_ts(raw)),
    };
    let from = end("from", query.from.as_deref());
    let to = end("to", query.to.as_deref());
    if let (Some(from), Some(to)) = (from, to) {
        if from >= to {
            errors.add("to", "must be after `from`");
        } else if from
            .checked_add_months(Months::new(MAX_PERIOD_MONTHS))
            .is_none_or(|latest| to > latest)
        {
            errors.add("to", "must be at most 2 years after `from`");
        }
    }
    errors.into_result()?;
    match (from, to) {
        (Some(from), Some(to)) => Ok((from, to)),
        _ => Err(ServiceError::field("from", "is required")),
    }
}

/// Whether the caller prefers CSV: `text/csv` (or `text/*`) ranks above JSON in `Accept`.
fn wants_csv(req: &HttpRequest) -> bool {
    let Ok(accept) = header::Accept::parse(req) else {
        return false;
    };
    for mime in accept.ranked() {
        match (mime.type_().as_str(), mime.subtype().as_str()) {
            ("text", "csv") | ("text", "*") => return true,
            ("application", "json") | ("application", "*") | ("*", "*") => return false,
            _ => {}
        }
    }
    false
}

/// The transparency figures of `[from, to)`: notices and flags by reason; decisions by action,
/// ground and category, automated and manual; the median and 90th-percentile hours from the
/// first flag (and from the first notice of illegal content) to the decision; appeals by
/// outcome; suspensions and bans of authors. JSON, or with `Accept: text/csv` the same figures
/// as CSV rows `section,key,value` (a header row first; `section` is the figure's JSON path,
/// an empty value is null).
#[utoipa::path(
    get,
    path = "/moderation/report",
    tag = "moderation",
    params(ReportQuery),
    responses(
        (status = 200, description = "The figures of the period.", content(
            (TransparencyReport = "application/json"),
            (String = "text/csv", example = "section,key,value\r\nperiod,from,2026-01-01T00:00:00Z\r\nperiod,to,2027-01-01T00:00:00Z\r\nflags,total,227\r\nflags,notices,9\r\nflags.by_reason,spam,120\r\n…"),
        )),
        (status = 400, description = "`bad_request`: a query parameter given twice.", body = ErrorBody),
        ForModerators,
        (status = 422, description = "`validation_failed`: `from` or `to` missing or not RFC 3339, `to` not after `from`, or more than 2 years after it; `details.fields` names them.", body = ErrorBody),
    ),
)]
async fn transparency_report(
    _moderator: Moderator,
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ServiceError> {
    let (from, to) = period(&query)?;
    let figures = report::report(state.db(), from, to).await?;
    let body = TransparencyReport::new(from, to, &figures);
    let mut response = HttpResponse::Ok();
    response.insert_header((header::VARY, "Accept"));
    if wants_csv(&req) {
        Ok(response
            .content_type("text/csv; charset=utf-8")
            .body(body.to_csv()))
    } else {
        Ok(response.json(body))
    }
}
