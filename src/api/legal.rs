//! What the website tells authors and reporters (EU Digital Services Act): the statement of
//! reasons for a comment, what became of a flag, and the author's appeal.

use crate::api::routes::Documented;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::openapi::{ErrorBody, JsonBody};
use crate::api::required;
use crate::auth::ServiceCaller;
use crate::domain::comment::{CommentBody, parse_author_id};
use crate::domain::ids::CommentId;
use crate::domain::statement::appeal_possible_until;
use crate::domain::states::{
    AppealStatus, Category, DecidedAction, FlagReason, FlagStatus, Ground,
};
use crate::entity::{appeal, decision};
use crate::error::{FieldErrors, ServiceError};
use crate::service::appeals::{self, MAX_APPEAL_CHARS};
use crate::state::AppState;
use crate::store::decisions;
use crate::views::dto::{ts, ts_opt};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(Documented::route(__path_get_decision, get_decision))
        .service(Documented::route(__path_post_appeal, post_appeal))
        .service(Documented::route(__path_get_flag, get_flag));
}

/// Whether and until when the author may appeal, and how an appeal stands.
#[derive(Serialize, ToSchema)]
pub(crate) struct AppealState {
    /// Six months after a moderator's decision; null for an automated hold (no moderator has
    /// decided yet).
    #[schema(value_type = Option<String>, format = DateTime, required)]
    #[serde(serialize_with = "ts_opt")]
    possible_until: Option<DateTime<Utc>>,
    /// Null while the author has not appealed.
    #[schema(required)]
    status: Option<AppealStatus>,
}

/// The statement of reasons of the latest decision that restricted a comment.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"action": "hide", "ground": "terms", "category": "insult", "explanation": "Beschimpft andere Leser.", "legal_reference": null, "automated": false, "decided_at": "2026-11-28T10:00:00Z", "appeal": {"possible_until": "2027-05-28T10:00:00Z", "status": null}}))]
pub(crate) struct DecisionView {
    /// `hide`, `delete`, or `hold` (the content rules or the flag threshold held it for review).
    action: DecidedAction,
    #[schema(required)]
    ground: Option<Ground>,
    #[schema(required)]
    category: Option<Category>,
    #[schema(required)]
    explanation: Option<String>,
    #[schema(required)]
    legal_reference: Option<String>,
    /// True while the comment is held automatically and no moderator has decided.
    automated: bool,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    decided_at: DateTime<Utc>,
    appeal: AppealState,
}

fn comment_id(raw: &str) -> Result<CommentId, ServiceError> {
    CommentId::parse(raw).ok_or_else(|| ServiceError::NotFound(format!("no comment `{raw}`")))
}

/// The statement of reasons for a comment
///
/// The latest decision that hid, deleted or held the comment: what the website shows its author.
#[utoipa::path(
    get,
    path = "/comments/{id}/decision",
    tag = "legal",
    params(("id" = String, Path, description = "The comment id.")),
    responses(
        (status = 200, description = "The statement of reasons.", body = DecisionView),
        (status = 404, description = "`not_found`: no such comment, or no decision restricted it.", body = ErrorBody),
    ),
)]
async fn get_decision(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ServiceError> {
    let id = comment_id(&path)?;
    let decision = decisions::latest_restricting(state.db(), id.0)
        .await?
        .ok_or_else(|| {
            ServiceError::NotFound(format!("no decision restricted comment `{}`", id.0))
        })?;
    let appeal = decisions::appeal_of(state.db(), decision.id).await?;
    Ok(HttpResponse::Ok().json(decision_view(decision, appeal)))
}

fn decision_view(d: decision::Model, appeal: Option<appeal::Model>) -> DecisionView {
    DecisionView {
        appeal: AppealState {
            possible_until: (!d.automated).then(|| appeal_possible_until(d.decided_at)),
            status: appeal.map(|a| a.status),
        },
        action: d.action,
        ground: d.ground,
        category: d.category,
        explanation: d.explanation,
        legal_reference: d.legal_reference,
        automated: d.automated,
        decided_at: d.decided_at,
    }
}

/// The decision that resolved a flag, as its reporter is told.
#[derive(Serialize, ToSchema)]
pub(crate) struct FlagDecision {
    action: DecidedAction,
    #[schema(required)]
    ground: Option<Ground>,
    #[schema(required)]
    category: Option<Category>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    decided_at: DateTime<Utc>,
}

/// A flag and what became of it.
#[derive(Serialize, ToSchema)]
pub(crate) struct FlagStatusView {
    id: String,
    comment_id: String,
    reason: FlagReason,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    created_at: DateTime<Utc>,
    status: FlagStatus,
    #[schema(required)]
    decision: Option<FlagDecision>,
}

/// A flag and its outcome
///
/// What the website shows the reporter: open, or decided with the decision's action, ground and
/// category.
#[utoipa::path(
    get,
    path = "/flags/{id}",
    tag = "legal",
    params(("id" = String, Path, description = "The flag id.")),
    responses(
        (status = 200, description = "The flag.", body = FlagStatusView),
        (status = 404, description = "`not_found`: no such flag.", body = ErrorBody),
    ),
)]
async fn get_flag(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ServiceError> {
    let not_found = || ServiceError::NotFound(format!("no flag `{}`", path.as_str()));
    let id = CommentId::parse(&path).ok_or_else(not_found)?;
    let flag = crate::store::flags::find(state.db(), id.0)
        .await?
        .ok_or_else(not_found)?;
    let decision = match flag.decision_id {
        Some(d) => decisions::find(state.db(), d).await?,
        None => None,
    };
    let decided = flag.resolved_at.is_some();
    Ok(HttpResponse::Ok().json(FlagStatusView {
        id: flag.id.to_string(),
        comment_id: flag.comment_id.to_string(),
        reason: flag.reason,
        created_at: flag.created_at,
        status: if decided {
            FlagStatus::Decided
        } else {
            FlagStatus::Open
        },
        decision: decision.map(|d| FlagDecision {
            action: d.action,
            ground: d.ground,
            category: d.category,
            decided_at: d.decided_at,
        }),
    }))
}

/// The author contests a decision.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"author_id": "u-123", "text": "Das war Satire, keine Beleidigung."}))]
pub(crate) struct AppealBody {
    /// Must be the comment's author.
    #[schema(schema_with = crate::api::schema_rules::author_id, required)]
    author_id: Option<String>,
    /// Why the decision is wrong, 1 to 2000 characters.
    #[schema(schema_with = crate::api::schema_rules::comment_body, required)]
    text: Option<String>,
}

/// An appeal.
#[derive(Serialize, ToSchema)]
pub(crate) struct AppealView {
    id: String,
    comment_id: String,
    /// The decision it contests.
    decision_id: String,
    status: AppealStatus,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    created_at: DateTime<Utc>,
}

/// Appeal a decision
///
/// The comment's author contests the latest decision that hid or deleted it: once per decision,
/// within six months. The comment enters the moderation queue as `appeal`; a moderator other than
/// the one who decided answers it (`approve` reverses, `hide`/`delete` upholds).
#[utoipa::path(
    post,
    path = "/comments/{id}/appeal",
    tag = "legal",
    params(("id" = String, Path, description = "The comment id.")),
    request_body = AppealBody,
    responses(
        (status = 201, description = "The appeal was filed.", body = AppealView),
        JsonBody,
        (status = 403, description = "`forbidden`: not the comment's author.", body = ErrorBody),
        crate::api::openapi::NoSuchComment,
        (status = 409, description = "`state_conflict`: nothing to appeal (no moderator's decision hid or deleted it), already appealed, or the six months are over; `details.current` says which.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a missing or bad author id or text.", body = ErrorBody),
    ),
)]
async fn post_appeal(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<AppealBody>,
) -> Result<HttpResponse, ServiceError> {
    let input = body.into_inner();
    let mut errors = FieldErrors::new();
    let author_id = required(&mut errors, "author_id", input.author_id)
        .and_then(|a| errors.check("author_id", parse_author_id(&a)));
    let text = required(&mut errors, "text", input.text)
        .and_then(|t| errors.check("text", CommentBody::parse(&t, MAX_APPEAL_CHARS)));
    errors.into_result()?;
    let (Some(author_id), Some(text)) = (author_id, text) else {
        return Err(ServiceError::BadRequest("incomplete appeal".into()));
    };
    let appeal = appeals::appeal(&state, &path, &author_id, text).await?;
    Ok(HttpResponse::Created().json(AppealView {
        id: appeal.id.to_string(),
        comment_id: appeal.comment_id.to_string(),
        decision_id: appeal.decision_id.to_string(),
        status: appeal.status,
        created_at: appeal.created_at,
    }))
}
