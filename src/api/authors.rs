//! Authors (moderator): what moderation knows about an author id, their status, their comments.

use crate::api::privacy;
use crate::api::routes::Documented;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::openapi::{ErrorBody, ForModerators, JsonBody};
use crate::api::pagination::{self, IdPage};
use crate::auth::Moderator;
use crate::domain::comment::parse_line;
use crate::domain::statement::{Statement, StatementInput};
use crate::domain::states::{AuthorStatus, Category, Ground, ModerationAction, Via};
use crate::entity::author;
use crate::error::{FieldErrors, ServiceError};
use crate::service::authors::{self, StatusChange};
use crate::service::screening::effective_status;
use crate::state::AppState;
use crate::views::dto::{self, ts, ts_opt};

pub fn configure(cfg: &mut ServiceConfig) {
    // `DELETE` (the erasure) is on the same resource: two resources with one path would shadow
    // each other.
    cfg.service(
        Documented::route(__path_get_author, get_author)
            .and(privacy::__path_erase_author, privacy::erase_author),
    )
    .service(Documented::route(__path_put_status, put_status))
    .service(Documented::route(__path_author_comments, author_comments));
}

/// An author's comments by what happened to them (kept up to date with every write).
#[derive(Serialize, ToSchema)]
pub(crate) struct AuthorStats {
    comments: i64,
    visible: i64,
    /// Comments a moderator approved.
    approved: i64,
    hidden: i64,
    deleted_by_moderator: i64,
    deleted_by_author: i64,
    /// Flags readers gave the author's comments.
    flags_received: i64,
    /// Comments waiting for review now.
    held: i64,
}

/// What moderation knows about an author.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "u-123", "name": "Leser123", "status": "suspended", "until": "2026-12-05T00:00:00Z", "reason": "wiederholte Beleidigungen", "first_seen_at": "2026-01-02T08:00:00Z", "stats": {"comments": 41, "visible": 37, "approved": 3, "hidden": 2, "deleted_by_moderator": 1, "deleted_by_author": 1, "flags_received": 6, "held": 0}}))]
pub(crate) struct AuthorView {
    id: String,
    /// The name of their latest comment; null for an author who has not posted yet.
    #[schema(required)]
    name: Option<String>,
    /// At the time of the request: a suspension whose `until` has passed is `active`.
    status: AuthorStatus,
    /// When a suspension ends.
    #[schema(value_type = Option<String>, format = DateTime, required)]
    #[serde(serialize_with = "ts_opt")]
    until: Option<DateTime<Utc>>,
    #[schema(required)]
    reason: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    first_seen_at: DateTime<Utc>,
    stats: AuthorStats,
}

impl AuthorView {
    fn new(a: author::Model, now: DateTime<Utc>) -> AuthorView {
        let (status, until, reason) = effective_status(&a, now);
        let reason = reason.map(str::to_string);
        AuthorView {
            status,
            until,
            reason,
            name: (!a.name.is_empty()).then(|| a.name.clone()),
            first_seen_at: a.first_seen_at,
            stats: AuthorStats {
                comments: a.comments,
                visible: a.visible,
                approved: a.approved,
                hidden: a.hidden,
                deleted_by_moderator: a.deleted_by_moderator,
                deleted_by_author: a.deleted_by_author,
                flags_received: a.flags_received,
                held: a.held,
            },
            id: a.id,
        }
    }
}

/// An author
#[utoipa::path(
    get,
    path = "/authors/{id}",
    tag = "authors",
    params(("id" = String, Path, description = "The author id the website uses.")),
    responses(
        (status = 200, description = "The author.", body = AuthorView),
        ForModerators,
        (status = 404, description = "`not_found`: the service has not seen this author id.", body = ErrorBody),
    ),
)]
async fn get_author(
    _moderator: Moderator,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ServiceError> {
    let author = authors::load(&state, &path).await?;
    Ok(HttpResponse::Ok().json(AuthorView::new(author, state.clock().now())))
}

/// A status a moderator gives an author.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"status": "suspended", "until": "2026-12-05T00:00:00+01:00", "reason": "wiederholte Beleidigungen"}))]
pub(crate) struct StatusBody {
    #[schema(value_type = AuthorStatus, required)]
    status: Option<String>,
    /// When a suspension ends (required for `suspended`, in the future); RFC 3339, any offset.
    #[schema(value_type = Option<String>, format = DateTime)]
    until: Option<String>,
    /// Required for `suspended` and `banned`; up to 500 characters.
    #[schema(max_length = 500)]
    reason: Option<String>,
    /// With `banned` or `suspended`: hide every visible comment of the author in the same step,
    /// each with the statement of reasons below (`ground` and `category` are then required).
    #[serde(default)]
    hide_existing: bool,
    /// With `hide_existing`, required: on what the hides rest.
    #[schema(value_type = Option<Ground>)]
    ground: Option<String>,
    /// With `hide_existing`, required: what kind of content it is.
    #[schema(value_type = Option<Category>)]
    category: Option<String>,
    /// With `hide_existing`: why, in words the author is shown (up to 2000 characters).
    #[schema(max_length = 2000)]
    explanation: Option<String>,
    /// With `hide_existing`, required when `ground` is `illegal`: the law (`§ 111 StGB`).
    #[schema(max_length = 200)]
    legal_reference: Option<String>,
}

/// Set an author's status
///
/// `premod` holds every comment of the author for review; `suspended` refuses their comments and
/// edits until `until` (it ends by itself then); `banned` refuses them for good; `active` lifts
/// all of this. An author id the service has not seen gets a record, so a known troll can be
/// stopped before posting. Audit-logged (`author_<status>`). A ban or a suspension with
/// `hide_existing: true` also hides every visible comment of the author in the same step, each
/// with a `hide` decision carrying the one statement of reasons (held, hidden and deleted
/// comments stay as they are).
#[utoipa::path(
    put,
    path = "/authors/{id}/status",
    tag = "authors",
    params(("id" = String, Path, description = "The author id the website uses.")),
    request_body = StatusBody,
    responses(
        (status = 200, description = "The author with the new status.", body = AuthorView),
        JsonBody,
        ForModerators,
        (status = 422, description = "`validation_failed`: a bad status, a missing or past `until`, a missing reason, a bad author id, or `hide_existing` without a ground and category or with another status than `banned` or `suspended`.", body = ErrorBody),
    ),
)]
async fn put_status(
    Moderator(moderator): Moderator,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<StatusBody>,
) -> Result<HttpResponse, ServiceError> {
    let body = body.into_inner();
    let input = StatusInput {
        status: body.status.as_deref(),
        until: body.until.as_deref(),
        reason: body.reason.as_deref(),
        hide_existing: body.hide_existing,
        statement: StatementInput {
            ground: body.ground.as_deref(),
            category: body.category.as_deref(),
            explanation: body.explanation.as_deref(),
            legal_reference: body.legal_reference.as_deref(),
        },
    };
    let (id, change) = parse_status_change(&path, input)?;
    let author = authors::set_status(&state, &moderator, Via::Api, &id, change).await?;
    Ok(HttpResponse::Ok().json(AuthorView::new(author, state.clock().now())))
}

/// A status change as a request gives it: every field as sent (`None`: not given).
pub(crate) struct StatusInput<'a> {
    pub status: Option<&'a str>,
    pub until: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub hide_existing: bool,
    pub statement: StatementInput<'a>,
}

/// Parses the author id `raw_id` and a status change (the API's and the console's): every bad
/// field at once, as `validation_failed`.
pub(crate) fn parse_status_change(
    raw_id: &str,
    input: StatusInput<'_>,
) -> Result<(String, StatusChange), ServiceError> {
    let mut errors = FieldErrors::new();
    let id = errors.check("id", crate::domain::comment::parse_known_author_id(raw_id));
    let status = match input.status {
        None => {
            errors.add("status", "is required");
            None
        }
        Some(raw) => errors.check(
            "status",
            raw.parse::<AuthorStatus>()
                .map_err(|_| "must be `active`, `premod`, `suspended` or `banned`"),
        ),
    };
    let until = input
        .until
        .and_then(|raw| errors.check("until", dto::parse_ts(raw)));
    let reason = match input.reason.map(str::trim) {
        Some(r) if !r.is_empty() => errors.check("reason", parse_line(r, 500)),
        _ => None,
    };
    let statement = input.statement;
    let given = [
        ("ground", statement.ground.is_some()),
        ("category", statement.category.is_some()),
        ("explanation", statement.explanation.is_some()),
        ("legal_reference", statement.legal_reference.is_some()),
    ];
    let hide_existing = match Statement::parse(ModerationAction::Hide, statement) {
        Ok(statement) if input.hide_existing => statement,
        Ok(_) => None,
        Err(fields) => {
            // Without `hide_existing` the statement is not needed, but what is given must
            // still be valid.
            for (field, reason) in fields {
                let was_given = given.iter().any(|(name, is)| *name == field && *is);
                if input.hide_existing || (was_given && !reason.starts_with("is required")) {
                    errors.add(&field, reason);
                }
            }
            None
        }
    };
    errors.into_result()?;
    let (Some(id), Some(status)) = (id, status) else {
        return Err(ServiceError::BadRequest("incomplete status".into()));
    };
    let change = StatusChange {
        status,
        until,
        reason,
        hide_existing,
    };
    Ok((id, change))
}

/// One of an author's comments, with its article.
#[derive(Serialize, ToSchema)]
pub(crate) struct AuthorComment {
    comment: dto::Comment,
    article: dto::ArticleSummary,
}

/// A page of an author's comments, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct AuthorCommentPage {
    items: Vec<AuthorComment>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    #[schema(required)]
    next_cursor: Option<String>,
}

/// An author's comments, newest first, any status
#[utoipa::path(
    get,
    path = "/authors/{id}/comments",
    tag = "authors",
    params(("id" = String, Path, description = "The author id the website uses."), pagination::PageQuery),
    responses(
        (status = 200, description = "A page of the author's comments.", body = AuthorCommentPage),
        crate::api::openapi::ListQuery,
        ForModerators,
        (status = 404, description = "`not_found`: the service has not seen this author id.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: a bad limit.", body = ErrorBody),
    ),
)]
async fn author_comments(
    _moderator: Moderator,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<pagination::PageQuery>,
) -> Result<HttpResponse, ServiceError> {
    let page = IdPage::parse(query.limit.as_deref(), query.cursor.as_deref(), "a")?;
    let rows = authors::comments(&state, &path, page.before, page.limit + 1).await?;
    let (rows, next_cursor) = page.finish(rows, |(c, _)| c.id);
    let reactions =
        crate::service::reactions::counts_of(&state, rows.iter().map(|(c, _)| c)).await?;
    let items = rows
        .iter()
        .map(|(c, a)| AuthorComment {
            comment: dto::Comment::view(c, reactions.get(&c.id).copied().unwrap_or(0), true),
            article: dto::ArticleSummary::from(a),
        })
        .collect();
    Ok(HttpResponse::Ok().json(AuthorCommentPage { items, next_cursor }))
}
