//! Moderators' notes on authors (moderator): what the community team wants the next moderator to
//! know about an author id.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::openapi::{ErrorBody, ForModerators, JsonBody};
use crate::api::pagination::{self, IdPage};
use crate::api::routes::Documented;
use crate::auth::Moderator;
use crate::domain::comment::{CommentBody, parse_known_author_id};
use crate::domain::states::Via;
use crate::entity::author_note;
use crate::error::{FieldErrors, ServiceError};
use crate::service::notes;
use crate::state::AppState;
use crate::views::dto::ts;
use utoipa_actix_web::service_config::ServiceConfig;

/// The longest note, in characters after trimming.
pub const MAX_NOTE_CHARS: usize = 2000;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(Documented::route(__path_list_notes, list_notes).and(__path_add_note, add_note));
}

/// A note a moderator writes about an author.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"text": "Schreibt nach jeder Sperre unter neuem Namen weiter."}))]
pub(crate) struct NoteBody {
    /// Plain text, 1 to 2,000 characters after trimming; newline and tab are the only control
    /// characters allowed.
    #[schema(value_type = String, min_length = 1, max_length = 2000, required)]
    text: Option<String>,
}

/// A moderator's note about an author.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"id": "12", "author_id": "u-123", "moderator": "anna", "text": "Schreibt nach jeder Sperre unter neuem Namen weiter.", "created_at": "2026-12-03T10:00:00Z"}))]
pub(crate) struct NoteView {
    id: String,
    author_id: String,
    /// The name of the moderator's token.
    moderator: String,
    text: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    created_at: DateTime<Utc>,
}

impl From<author_note::Model> for NoteView {
    fn from(n: author_note::Model) -> NoteView {
        NoteView {
            id: n.id.to_string(),
            author_id: n.author_id,
            moderator: n.moderator,
            text: n.text,
            created_at: n.created_at,
        }
    }
}

/// A page of notes about an author, newest first.
#[derive(Serialize, ToSchema)]
pub(crate) struct NotePage {
    notes: Vec<NoteView>,
    /// Pass as `?cursor=` for the next page; null on the last page.
    #[schema(required)]
    next_cursor: Option<String>,
}

fn parse_author(raw: &str) -> Result<String, ServiceError> {
    parse_known_author_id(raw).map_err(|reason| ServiceError::field("id", reason))
}

/// Notes about an author, newest first
///
/// An author id without notes (or one the service has not seen) has an empty list.
#[utoipa::path(
    get,
    path = "/authors/{id}/notes",
    tag = "authors",
    params(("id" = String, Path, description = "The author id the website uses."), pagination::PageQuery),
    responses(
        (status = 200, description = "A page of the notes about the author.", body = NotePage),
        (status = 400, description = "`bad_request`: a cursor this list did not give out, or a query parameter given twice.", body = ErrorBody),
        ForModerators,
        (status = 422, description = "`validation_failed`: a bad limit or author id.", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
async fn list_notes(
    _moderator: Moderator,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<pagination::PageQuery>,
) -> Result<HttpResponse, ServiceError> {
    let author_id = parse_author(&path)?;
    let page = IdPage::parse(query.limit.as_deref(), query.cursor.as_deref(), "n")?;
    let rows = notes::list(&state, &author_id, page.before, page.limit + 1).await?;
    let (rows, next_cursor) = page.finish(rows, |n| n.id);
    let notes = rows.into_iter().map(NoteView::from).collect();
    Ok(HttpResponse::Ok().json(NotePage { notes, next_cursor }))
}

/// Add a note about an author
///
/// Stored with the moderator's name and audit-logged (`author_note`). A note about an author id
/// the service has not seen yet stores the note and nothing else. Erased with the author's data.
#[utoipa::path(
    post,
    path = "/authors/{id}/notes",
    tag = "authors",
    params(("id" = String, Path, description = "The author id the website uses.")),
    request_body = NoteBody,
    responses(
        (status = 201, description = "The note as stored.", body = NoteView),
        JsonBody,
        ForModerators,
        (status = 422, description = "`validation_failed`: a missing, empty or too long text, or a bad author id.", body = ErrorBody),
    ),
    security(("bearer" = [])),
)]
async fn add_note(
    Moderator(moderator): Moderator,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<NoteBody>,
) -> Result<HttpResponse, ServiceError> {
    let (author_id, text) = parse_note(&path, body.into_inner().text.as_deref())?;
    let note = notes::add(&state, &moderator, Via::Api, &author_id, text.as_str()).await?;
    Ok(HttpResponse::Created().json(NoteView::from(note)))
}

/// Parses the author id `raw_id` and a note's text (the API's and the console's).
pub(crate) fn parse_note(
    raw_id: &str,
    text: Option<&str>,
) -> Result<(String, CommentBody), ServiceError> {
    let mut errors = FieldErrors::new();
    let author_id = errors.check("id", parse_known_author_id(raw_id));
    let text = match text {
        None => {
            errors.add("text", "is required");
            None
        }
        Some(raw) => errors.check("text", CommentBody::parse(raw, MAX_NOTE_CHARS)),
    };
    errors.into_result()?;
    let (Some(author_id), Some(text)) = (author_id, text) else {
        return Err(ServiceError::BadRequest("incomplete note".into()));
    };
    Ok((author_id, text))
}
