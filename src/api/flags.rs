//! `POST /api/v1/comments/{id}/flags`: readers flag a comment; thresholds queue emails to the
//! community team in the same transaction.

use crate::api::routes::Documented;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::openapi::{ErrorBody, JsonBody};
use crate::api::required;
use crate::auth::ServiceCaller;
use crate::domain::comment::{parse_author_id, parse_flag_note, parse_line, parse_reporter_email};
use crate::domain::states::FlagReason;
use crate::entity::flag;
use crate::error::{FieldErrors, ServiceError};
use crate::service::flags::{self, NewFlag};
use crate::state::AppState;
use crate::views::dto::ts;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(Documented::route(__path_flag_comment, flag_comment));
}

/// The reader who flags.
#[derive(Deserialize, ToSchema)]
pub(crate) struct Reporter {
    /// The reader's id at the website (1 to 128 characters); not the comment's author.
    #[schema(schema_with = crate::api::schema_rules::author_id, required)]
    id: Option<String>,
    /// Where the reporter of a notice of illegal content may be reached (optional).
    #[schema(max_length = 254)]
    email: Option<String>,
}

/// A reader flags a comment.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"reporter": {"id": "u-456"}, "reason": "abuse", "note": "beleidigend"}))]
pub(crate) struct FlagBody {
    #[schema(value_type = Reporter, required)]
    reporter: Option<Reporter>,
    #[schema(value_type = FlagReason, required)]
    reason: Option<String>,
    /// Required for `other`, and for `illegal` (why it is illegal, at least 10 characters).
    #[schema(schema_with = crate::api::schema_rules::flag_note)]
    note: Option<String>,
    /// The law a notice of illegal content names (optional), e.g. `§ 283 StGB`.
    #[schema(max_length = 200)]
    legal_reference: Option<String>,
}

/// A flag.
#[derive(Serialize, ToSchema)]
pub(crate) struct FlagView {
    id: String,
    comment_id: String,
    reason: FlagReason,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    created_at: DateTime<Utc>,
}

impl From<&flag::Model> for FlagView {
    fn from(f: &flag::Model) -> Self {
        FlagView {
            id: f.id.to_string(),
            comment_id: f.comment_id.to_string(),
            reason: f.reason,
            created_at: f.created_at,
        }
    }
}

/// Flag a comment
///
/// Works on closed discussions too. When the comment's unresolved flags reach
/// `FLAG_NOTIFY_THRESHOLD` the community team is emailed; at `FLAG_HIDE_THRESHOLD` the comment
/// becomes `pending_review` and another email says so.
#[utoipa::path(
    post,
    path = "/comments/{id}/flags",
    tag = "flags",
    params(("id" = String, Path, description = "The comment id.")),
    request_body = FlagBody,
    responses(
        (status = 200, description = "This reader had already flagged the comment: the first flag; nothing changed.", body = FlagView),
        (status = 201, description = "The flag was recorded.", body = FlagView),
        JsonBody,
        (status = 404, description = "`not_found`: no such comment, or it is hidden or deleted.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a bad reporter, reason or note, or the reporter is the comment's author.", body = ErrorBody),
    ),
)]
async fn flag_comment(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<FlagBody>,
) -> Result<HttpResponse, ServiceError> {
    let input = parse_flag(body.into_inner())?;
    let flagged = flags::flag(&state, &path, input).await?;
    let view = FlagView::from(&flagged.flag);
    Ok(if flagged.created {
        HttpResponse::Created().json(view)
    } else {
        HttpResponse::Ok().json(view)
    })
}

/// Parses a flag's fields, reporting every bad one at once.
fn parse_flag(input: FlagBody) -> Result<NewFlag, ServiceError> {
    let mut errors = FieldErrors::new();
    let (reporter, reporter_email) = match required(&mut errors, "reporter", input.reporter) {
        Some(r) => (
            required(&mut errors, "reporter.id", r.id)
                .and_then(|id| errors.check("reporter.id", parse_author_id(&id))),
            r.email,
        ),
        None => (None, None),
    };
    let reporter_email = match reporter_email.as_deref().map(str::trim) {
        Some(e) if !e.is_empty() => errors.check("reporter.email", parse_reporter_email(e)),
        _ => None,
    };
    let legal_reference = match input.legal_reference.as_deref().map(str::trim) {
        Some(r) if !r.is_empty() => errors.check("legal_reference", parse_line(r, 200)),
        _ => None,
    };
    let reason = required(&mut errors, "reason", input.reason).and_then(|r| {
        errors.check(
            "reason",
            r.trim().parse::<FlagReason>().map_err(|_| {
                format!(
                    "must be one of {}",
                    FlagReason::ALL
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }),
        )
    });
    let note = reason.and_then(|r| errors.check("note", parse_flag_note(r, input.note.as_deref())));
    errors.into_result()?;
    match (reporter, reason, note) {
        (Some(reporter_id), Some(reason), Some(note)) => Ok(NewFlag {
            reporter_id,
            reason,
            note,
            reporter_email,
            legal_reference,
        }),
        _ => Err(ServiceError::BadRequest("incomplete flag".into())),
    }
}
