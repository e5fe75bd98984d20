//! The moderation API: the queue, decisions on comments, the audit log and the outbox.

use crate::api::routes::Documented;
use std::collections::{BTreeMap, HashMap};
use utoipa_actix_web::service_config::ServiceConfig;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::api::openapi::{ErrorBody, ForModerators, JsonBody};
use crate::api::pagination::{self, IdPage};
use crate::auth::Moderator;
use crate::domain::comment::CommentBody;
use crate::domain::statement::{Statement, StatementInput};
use crate::domain::states::{
    Category, FlagReason, Ground, LogAction, ModerationAction, NotificationKind,
    NotificationStatus, QueueKind, Via,
};
use crate::error::ServiceError;
use crate::moderation::Detection;
use crate::service::moderation::{self as decisions, Decided, Decision};
use crate::state::AppState;
use crate::store::{articles, audit, flags, moderation, outbox};
use crate::views::dto::{self, ts, ts_opt};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(Documented::route(__path_queue, queue))
        .service(Documented::route(__path_log, log))
        .service(Documented::route(__path_notifications, notifications))
        .service(Documented::route(__path_decide, decide));
}

/// The unresolved flags of a comment.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"total": 3, "by_reason": {"abuse": 2, "spam": 1}, "notes": ["beleidigend"], "first_at": "2019-04-26T09:00:00Z", "last_at": "2019-04-26T09:30:00Z"}))]
pub(crate) struct FlagsView {
    total: u32,
    /// Count per reason.
    by_reason: BTreeMap<&'static str, u32>,
    /// The newest 20 of the reporters' notes, oldest first.
    notes: Vec<String>,
    /// How many of the open flags carry a note (`notes` shows at most 20 of them).
    note_count: u32,
    #[schema(value_type = Option<String>, format = DateTime, required)]
    #[serde(serialize_with = "ts_opt")]
    first_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = DateTime, required)]
    #[serde(serialize_with = "ts_opt")]
    last_at: Option<DateTime<Utc>>,
}

/// A flagged or held comment waiting for a decision.
#[derive(Serialize, ToSchema)]
pub(crate) struct QueueItem {
    comment: dto::Comment,
    #[schema(required)]
    article: Option<dto::ArticleSummary>,
    flags: FlagsView,
    /// Why the comment is in the queue: `flagged`, `illegal` (a notice among its flags), and
    /// each rule that held it (`suspect_word`, `links`, `premod_author`, `new_author`, `history`).
    #[schema(example = json!(["flagged", "suspect_word"]))]
    reasons: Vec<&'static str>,
    /// What the content rules found, with the matched words.
    detections: Vec<Detection>,
    /// The deadline of an undecided notice of illegal content (`ILLEGAL_REVIEW_HOURS` after the
    /// first one); null without.
    #[schema(value_type = Option<String>, format = DateTime, required)]
    #[serde(serialize_with = "ts_opt")]
    due_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct QueueQuery {
    /// Which items: `all` (default), `flagged`, `held` (by the content rules or the flag
    /// threshold), `illegal` (notices) or `appeal`.
    #[param(value_type = Option<QueueKind>, required = false)]
    kind: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of the moderation queue.
#[derive(Serialize, ToSchema)]
pub(crate) struct QueuePage {
    items: Vec<QueueItem>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    #[schema(required)]
    next_cursor: Option<String>,
}

/// Comments waiting for a decision: notices of illegal content first (nearest deadline first),
/// then appeals, then flagged and held comments with most flags first, then the oldest first flag
/// (held comments without flags by their creation); three queries per page whatever its size.
#[utoipa::path(
    get,
    path = "/moderation/queue",
    tag = "moderation",
    params(QueueQuery),
    responses(
        (status = 200, description = "A page of the queue.", body = QueuePage),
        crate::api::openapi::ListQuery,
        ForModerators,
        (status = 422, description = "`validation_failed`: a bad kind or limit.", body = ErrorBody),
    ),
)]
async fn queue(
    _moderator: Moderator,
    state: web::Data<AppState>,
    query: web::Query<QueueQuery>,
) -> Result<HttpResponse, ServiceError> {
    let kind = match query.kind.as_deref() {
        None => QueueKind::All,
        Some(raw) => raw.parse().map_err(|_| {
            ServiceError::field(
                "kind",
                "must be `all`, `flagged`, `held`, `illegal` or `appeal`",
            )
        })?,
    };
    let limit = pagination::limit(query.limit.as_deref(), pagination::DEFAULT_LIMIT)?;
    let after = query.cursor.as_deref().map(queue_position).transpose()?;
    let rows = moderation::queue(state.db(), kind, after, limit + 1).await?;
    let (rows, more) = pagination::split(rows, limit);
    let next_cursor = if more {
        rows.last().map(queue_cursor)
    } else {
        None
    };
    let items = queue_items(&state, rows).await?;
    Ok(HttpResponse::Ok().json(QueuePage { items, next_cursor }))
}

/// The cursor of the queue page that follows the comment `c`.
pub(crate) fn queue_cursor(c: &crate::entity::comment::Model) -> String {
    let p = moderation::QueuePosition::of(c);
    pagination::encode(
        "q",
        &[
            p.tier,
            p.due_at.timestamp_micros(),
            p.flag_count,
            p.queued_at.timestamp_micros(),
            p.id,
        ],
    )
}

/// The latest instant a queue cursor may hold (the end of year 9999): later ones no database
/// stores alike, and none is a comment's.
const LATEST_CURSOR_MICROS: i64 = 253_402_300_799_999_999;

/// Where the previous queue page ended. Every number must lie in the range a page gives out
/// (a tier of 0 to 2, a flag count and an id of 0 or more, instants from 1970 to 9999), so the
/// keyset query neither overflows nor hands a database a time it cannot store.
pub(crate) fn queue_position(cursor: &str) -> Result<moderation::QueuePosition, ServiceError> {
    let bad = || ServiceError::BadRequest("the cursor is not one this list gave out".into());
    let p = pagination::decode(cursor, "q", 5)?;
    let time = |micros: i64| {
        (0..=LATEST_CURSOR_MICROS)
            .contains(&micros)
            .then(|| DateTime::from_timestamp_micros(micros))
            .flatten()
            .ok_or_else(bad)
    };
    if !(0..=2).contains(&p[0]) || p[2] < 0 || p[4] < 0 {
        return Err(bad());
    }
    Ok(moderation::QueuePosition {
        tier: p[0],
        due_at: time(p[1])?,
        flag_count: p[2],
        queued_at: time(p[3])?,
        id: p[4],
    })
}

/// The queue items of a page: three more queries (articles, flags, reactions) whatever its size.
pub(crate) async fn queue_items(
    state: &AppState,
    rows: Vec<crate::entity::comment::Model>,
) -> Result<Vec<QueueItem>, ServiceError> {
    let mut article_ids: Vec<String> = rows.iter().map(|c| c.article_id.clone()).collect();
    article_ids.sort();
    article_ids.dedup();
    let articles: HashMap<String, _> = articles::find_many(state.db(), &article_ids)
        .await?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let ids: Vec<i64> = rows.iter().map(|c| c.id).collect();
    let mut summaries = flags::summaries(state.db(), &ids).await?;
    let reactions = crate::store::reactions::counts(state.db(), &ids).await?;
    Ok(rows
        .iter()
        .map(|c| {
            let s = summaries.remove(&c.id).unwrap_or_default();
            let detections = dto::detections_of(c);
            let mut reasons = Vec::new();
            if s.total > 0 {
                reasons.push("flagged");
            }
            if c.due_at.is_some() || s.by_reason.contains_key(&FlagReason::Illegal) {
                reasons.push("illegal");
            }
            if c.appeal_open {
                reasons.push("appeal");
            }
            for d in &detections {
                if !reasons.contains(&d.rule.as_str()) {
                    reasons.push(d.rule.as_str());
                }
            }
            QueueItem {
                due_at: c.due_at,
                reasons,
                detections,
                comment: dto::Comment::view(c, reactions.get(&c.id).copied().unwrap_or(0), true),
                article: articles.get(&c.article_id).map(dto::ArticleSummary::from),
                flags: FlagsView {
                    total: s.total,
                    by_reason: s.by_reason.iter().map(|(r, n)| (r.as_str(), *n)).collect(),
                    notes: s.notes,
                    note_count: s.note_count,
                    first_at: s.first_at,
                    last_at: s.last_at,
                },
            }
        })
        .collect())
}

/// A moderator's decision on a comment.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"action": "hide", "ground": "terms", "category": "insult", "explanation": "Beschimpft andere Leser.", "note": "intern: Wiederholungstäter"}))]
pub(crate) struct DecisionBody {
    #[schema(value_type = ModerationAction, required)]
    action: Option<String>,
    /// Internal note for the audit log (not shown to the author).
    #[schema(schema_with = crate::api::schema_rules::decision_note)]
    note: Option<String>,
    /// Statement of reasons, required for `hide` and `delete`: on what the decision rests.
    #[schema(value_type = Option<Ground>)]
    ground: Option<String>,
    /// Statement of reasons, required for `hide` and `delete`: what kind of content it is.
    #[schema(value_type = Option<Category>)]
    category: Option<String>,
    /// Statement of reasons: why, in words the author is shown (up to 2000 characters).
    #[schema(max_length = 2000)]
    explanation: Option<String>,
    /// Statement of reasons, required when `ground` is `illegal`: the law (`§ 111 StGB`).
    #[schema(max_length = 200)]
    legal_reference: Option<String>,
}

/// Approve, hide or delete a comment; resolves its flags, ends its review round (action links of
/// earlier emails stop acting) and writes the audit log in the same transaction. Repeating the
/// same decision is harmless; a comment its author deleted cannot be restored.
#[utoipa::path(
    post,
    path = "/comments/{id}/moderation",
    tag = "moderation",
    params(("id" = String, Path, description = "The comment id.")),
    request_body = DecisionBody,
    responses(
        (status = 200, description = "The comment after the decision.", body = dto::Comment),
        JsonBody,
        ForModerators,
        crate::api::openapi::NoSuchComment,
        (status = 409, description = "`state_conflict`: the author deleted the comment, so it cannot be approved or hidden; `details.current` is its status.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a bad action or note.", body = ErrorBody),
    ),
)]
async fn decide(
    Moderator(moderator): Moderator,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<DecisionBody>,
) -> Result<HttpResponse, ServiceError> {
    let input = body.into_inner();
    let action = input
        .action
        .as_deref()
        .and_then(|a| a.parse::<ModerationAction>().ok())
        .ok_or_else(|| ServiceError::field("action", "must be `approve`, `hide` or `delete`"))?;
    let note = match input.note.as_deref().map(str::trim) {
        Some(n) if !n.is_empty() => {
            // Free text like a flag's note: newlines and tabs are fine.
            let note = CommentBody::parse(n, 500).map_err(|e| ServiceError::field("note", e))?;
            Some(note.into_string())
        }
        _ => None,
    };
    let statement = Statement::parse(
        action,
        StatementInput {
            ground: input.ground.as_deref(),
            category: input.category.as_deref(),
            explanation: input.explanation.as_deref(),
            legal_reference: input.legal_reference.as_deref(),
        },
    )
    .map_err(ServiceError::Validation)?;
    let not_found = || ServiceError::NotFound(format!("no comment `{}`", path.as_str()));
    let comment_id = crate::domain::ids::CommentId::parse(&path).ok_or_else(not_found)?;
    let decision = Decision {
        comment_id: comment_id.0,
        action,
        moderator: &moderator.name,
        note: note.as_deref(),
        via: Via::Api,
        statement,
        link: None,
    };
    match decisions::decide(&state, decision).await? {
        Decided::Done(updated) => {
            Ok(HttpResponse::Ok()
                .json(crate::service::reactions::view(&state, &updated, true).await?))
        }
        Decided::DeletedByAuthor(c) => Err(ServiceError::StateConflict {
            message: "the author deleted this comment; it cannot be restored".into(),
            current: c.status.to_string(),
        }),
        // Only a link's decision is refused as already decided; this one has none.
        Decided::CommentGone | Decided::AlreadyDecided(_) => Err(not_found()),
    }
}

/// An entry of the moderation audit log.
#[derive(Serialize, ToSchema)]
pub(crate) struct LogEntry {
    id: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    at: DateTime<Utc>,
    /// The moderator's token name, or the community team's address for email actions.
    moderator: String,
    action: LogAction,
    #[schema(required)]
    comment_id: Option<String>,
    #[schema(required)]
    article_id: Option<String>,
    #[schema(required)]
    note: Option<String>,
    via: Via,
    /// The author an entry is about (status changes).
    #[serde(skip_serializing_if = "Option::is_none")]
    author_id: Option<String>,
    /// What a rules change changed: per list how many entries were added and removed
    /// (`{"added": 2, "removed": 1}`), per other field `{"from", "to"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    details: Option<serde_json::Value>,
}

/// A page of the audit log, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct LogPage {
    entries: Vec<LogEntry>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    #[schema(required)]
    next_cursor: Option<String>,
}

/// The moderation audit log, newest first
#[utoipa::path(
    get,
    path = "/moderation/log",
    tag = "moderation",
    params(pagination::PageQuery),
    responses(
        (status = 200, description = "A page of the audit log.", body = LogPage),
        crate::api::openapi::ListQuery,
        ForModerators,
        (status = 422, description = "`validation_failed`: a bad limit.", body = ErrorBody),
    ),
)]
async fn log(
    _moderator: Moderator,
    state: web::Data<AppState>,
    query: web::Query<pagination::PageQuery>,
) -> Result<HttpResponse, ServiceError> {
    let page = IdPage::parse(query.limit.as_deref(), query.cursor.as_deref(), "l")?;
    let rows = audit::list(state.db(), page.before, page.limit + 1).await?;
    let (rows, next_cursor) = page.finish(rows, |e| e.id);
    let entries = rows
        .into_iter()
        .map(|e| LogEntry {
            id: e.id.to_string(),
            at: e.at,
            moderator: e.moderator,
            action: e.action,
            comment_id: e.comment_id.map(|c| c.to_string()),
            article_id: e.article_id,
            note: e.note,
            via: e.via,
            author_id: e.author_id,
            details: e.details.and_then(|d| serde_json::from_str(&d).ok()),
        })
        .collect();
    Ok(HttpResponse::Ok().json(LogPage {
        entries,
        next_cursor,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct NotificationQuery {
    /// Only notifications in this state; all without.
    #[param(value_type = Option<NotificationStatus>, required = false)]
    status: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A notification email in the outbox.
#[derive(Serialize, ToSchema)]
pub(crate) struct NotificationView {
    id: String,
    comment_id: String,
    kind: NotificationKind,
    status: NotificationStatus,
    /// Delivery attempts so far (at most `MAIL_MAX_ATTEMPTS`).
    attempts: i32,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    created_at: DateTime<Utc>,
    /// When the next attempt is due; null unless pending.
    #[schema(value_type = Option<String>, format = DateTime, required)]
    #[serde(serialize_with = "ts_opt")]
    next_attempt_at: Option<DateTime<Utc>>,
    #[schema(value_type = Option<String>, format = DateTime, required)]
    #[serde(serialize_with = "ts_opt")]
    sent_at: Option<DateTime<Utc>>,
    #[schema(required)]
    last_error: Option<String>,
}

/// A page of the outbox, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct NotificationPage {
    notifications: Vec<NotificationView>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    #[schema(required)]
    next_cursor: Option<String>,
}

/// The notification outbox, newest first
#[utoipa::path(
    get,
    path = "/moderation/notifications",
    tag = "moderation",
    params(NotificationQuery),
    responses(
        (status = 200, description = "A page of the outbox.", body = NotificationPage),
        crate::api::openapi::ListQuery,
        ForModerators,
        (status = 422, description = "`validation_failed`: a bad status or limit.", body = ErrorBody),
    ),
)]
async fn notifications(
    _moderator: Moderator,
    state: web::Data<AppState>,
    query: web::Query<NotificationQuery>,
) -> Result<HttpResponse, ServiceError> {
    let status = pagination::delivery_status::<NotificationStatus>(query.status.as_deref())?;
    let page = IdPage::parse(query.limit.as_deref(), query.cursor.as_deref(), "m")?;
    let rows = outbox::list(state.db(), status, page.before, page.limit + 1).await?;
    let (rows, next_cursor) = page.finish(rows, |n| n.id);
    let notifications = rows
        .into_iter()
        .map(|n| NotificationView {
            id: n.id.to_string(),
            comment_id: n.comment_id.to_string(),
            next_attempt_at: (n.status == NotificationStatus::Pending).then_some(n.next_attempt_at),
            kind: n.kind,
            status: n.status,
            attempts: n.attempts,
            created_at: n.created_at,
            sent_at: n.sent_at,
            last_error: n.last_error,
        })
        .collect();
    Ok(HttpResponse::Ok().json(NotificationPage {
        notifications,
        next_cursor,
    }))
}
