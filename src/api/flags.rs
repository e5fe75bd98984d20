//! `POST /api/v1/comments/{id}/flags`: readers flag a comment; thresholds queue emails to the
//! community team in the same transaction.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::comments::load_comment;
use crate::api::dto::ts;
use crate::api::openapi::ErrorBody;
use crate::api::required;
use crate::auth::ServiceCaller;
use crate::clock;
use crate::db;
use crate::domain::comment::{CommentStatus, FlagReason, parse_author_id, parse_flag_note};
use crate::entity::flag;
use crate::error::{ApiError, FieldErrors};
use crate::mail::NotificationKind;
use crate::startup::AppState;
use crate::store::{articles, comments, flags};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/comments/{id}/flags", web::post().to(flag_comment));
}

/// The reader who flags.
#[derive(Deserialize, ToSchema)]
pub(crate) struct Reporter {
    /// The reader's id at the website (1 to 128 characters); not the comment's author.
    #[schema(value_type = String, required)]
    id: Option<String>,
}

/// A reader flags a comment.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"reporter": {"id": "u-456"}, "reason": "abuse", "note": "beleidigend"}))]
pub(crate) struct FlagBody {
    #[schema(value_type = Reporter, required)]
    reporter: Option<Reporter>,
    #[schema(schema_with = crate::api::openapi::flag_reason, required)]
    reason: Option<String>,
    /// Up to 500 characters; required when `reason` is `other`.
    note: Option<String>,
}

/// A flag.
#[derive(Serialize, ToSchema)]
pub(crate) struct FlagView {
    id: String,
    comment_id: String,
    #[schema(schema_with = crate::api::openapi::flag_reason)]
    reason: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    created_at: DateTime<Utc>,
}

impl From<&flag::Model> for FlagView {
    fn from(f: &flag::Model) -> Self {
        FlagView {
            id: f.id.to_string(),
            comment_id: f.comment_id.to_string(),
            reason: f.reason.clone(),
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
    path = "/api/v1/comments/{id}/flags",
    tag = "flags",
    params(("id" = String, Path, description = "The comment id.")),
    request_body = FlagBody,
    responses(
        (status = 200, description = "This reader had already flagged the comment: the first flag; nothing changed.", body = FlagView),
        (status = 201, description = "The flag was recorded.", body = FlagView),
        (status = 400, description = "`bad_request`: the body is not JSON of this shape.", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no or an unknown token.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such comment, or it is hidden or deleted.", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: the body is over 64 KiB.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a bad reporter, reason or note, or the reporter is the comment's author.", body = ErrorBody),
        (status = 500, description = "`internal`.", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
async fn flag_comment(
    _caller: ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<FlagBody>,
) -> Result<HttpResponse, ApiError> {
    let comment = load_comment(&state, &path).await?;
    let input = body.into_inner();
    let mut errors = FieldErrors::new();
    let reporter = required(&mut errors, "reporter", input.reporter)
        .and_then(|r| required(&mut errors, "reporter.id", r.id))
        .and_then(|id| errors.check("reporter.id", parse_author_id(&id)));
    let reason = required(&mut errors, "reason", input.reason).and_then(|r| {
        errors.check(
            "reason",
            FlagReason::parse(r.trim())
                .ok_or("must be one of spam, abuse, off_topic, illegal, misinformation, other"),
        )
    });
    let note = reason.and_then(|r| errors.check("note", parse_flag_note(r, input.note.as_deref())));
    errors.into_result()?;
    let (Some(reporter), Some(reason), Some(note)) = (reporter, reason, note) else {
        return Err(ApiError::BadRequest("incomplete flag".into()));
    };
    if reporter == comment.author_id {
        return Err(ApiError::field(
            "reporter.id",
            "readers cannot flag their own comment",
        ));
    }
    let status = CommentStatus::parse(&comment.status).unwrap_or(CommentStatus::Hidden);
    if matches!(status, CommentStatus::Hidden | CommentStatus::Deleted) {
        return Err(ApiError::NotFound(format!(
            "no visible comment `{}`",
            comment.id
        )));
    }
    if let Some(existing) = flags::open_flag_of(&state.db, comment.id, &reporter).await? {
        return Ok(HttpResponse::Ok().json(FlagView::from(&existing)));
    }

    let now = clock::now();
    let settings = &state.settings;
    let txn = db::begin_write(&state.db, &state.write_gate).await?;
    let inserted = flags::insert(
        &*txn,
        flags::NewFlag {
            comment_id: comment.id,
            reporter_id: &reporter,
            reason: reason.as_str(),
            note: note.as_deref(),
        },
        now,
    )
    .await;
    let (flag, count) = match inserted {
        Ok(v) => v,
        Err(e) if db::is_unique_violation(&e) => {
            // The same reader flagged concurrently: answer with that flag.
            drop(txn);
            let existing = flags::open_flag_of(&state.db, comment.id, &reporter)
                .await?
                .ok_or_else(|| ApiError::internal(e))?;
            return Ok(HttpResponse::Ok().json(FlagView::from(&existing)));
        }
        Err(e) => return Err(e.into()),
    };
    let count = count.max(0) as u32;
    // Reaching the hide threshold hides the comment pending review; reaching the notify threshold
    // (when it is lower) only tells the team. Either way one email, queued with the flag.
    let kind = if count == settings.moderation.flag_hide_threshold {
        Some(NotificationKind::PendingReview)
    } else if count == settings.moderation.flag_notify_threshold {
        Some(NotificationKind::Flagged)
    } else {
        None
    };
    if let Some(kind) = kind {
        let current = comments::find(&*txn, comment.id)
            .await?
            .unwrap_or_else(|| comment.clone());
        if kind == NotificationKind::PendingReview
            && current.status == CommentStatus::Visible.as_str()
        {
            comments::change_status(
                &*txn,
                &current,
                CommentStatus::Visible,
                CommentStatus::PendingReview,
            )
            .await?;
        }
        let article = articles::find(&*txn, &comment.article_id)
            .await?
            .ok_or_else(|| ApiError::NotFound("the comment's article is gone".into()))?;
        crate::notifications::queue(
            &*txn,
            settings,
            &state.signer,
            kind,
            &current,
            &article,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    if kind.is_some() {
        state.invalidate_article(&comment.article_id);
        state.jobs.deliver.wake();
    }
    tracing::info!(
        comment = comment.id,
        reason = reason.as_str(),
        open_flags = count,
        "comment flagged"
    );
    ::metrics::counter!(crate::metrics::FLAGS, "reason" => reason.as_str()).increment(1);
    Ok(HttpResponse::Created().json(FlagView::from(&flag)))
}
