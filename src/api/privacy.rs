//! Personal data (GDPR Art. 15, 17, 20): an author's export, streamed, and their erasure.
//! `DELETE /authors/{id}` shares its resource with `GET /authors/{id}` (`api::authors`).

use crate::api::routes::Documented;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::api::openapi::ErrorBody;
use crate::auth::ServiceCaller;
use crate::domain::comment::{Badges, parse_known_author_id};
use crate::domain::states::{
    AppealStatus, AuthorStatus, Category, CommentStatus, DecidedAction, FlagReason, Ground,
    LogAction, Via,
};
use crate::entity::{appeal, author, comment, decision, flag, moderation_log};
use crate::error::{FieldErrors, ServiceError};
use crate::moderation::Detection;
use crate::service::privacy::{self, Export, Part};
use crate::state::AppState;
use crate::store::reactions;
use crate::views::dto::{self, ts, ts_opt};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(Documented::route(__path_export_author, export_author));
}

/// The author id of the path, or 422.
fn author_id(raw: &str) -> Result<String, ServiceError> {
    let mut errors = FieldErrors::new();
    let id = errors.check("id", parse_known_author_id(raw));
    errors.into_result()?;
    id.ok_or_else(|| ServiceError::BadRequest("no author id".into()))
}

/// The author record as the service keeps it.
#[derive(Serialize, ToSchema)]
pub(crate) struct ExportAuthor {
    id: String,
    /// The name of their latest comment (empty for an author who has not posted).
    name: String,
    status: AuthorStatus,
    #[schema(value_type = Option<String>, format = DateTime, required)]
    #[serde(serialize_with = "ts_opt")]
    until: Option<DateTime<Utc>>,
    #[schema(required)]
    reason: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    first_seen_at: DateTime<Utc>,
}

impl From<author::Model> for ExportAuthor {
    fn from(a: author::Model) -> ExportAuthor {
        ExportAuthor {
            id: a.id,
            name: a.name,
            status: a.status,
            until: a.until,
            reason: a.reason,
            first_seen_at: a.first_seen_at,
        }
    }
}

/// One of the author's comments, any status, with its text.
#[derive(Serialize, ToSchema)]
pub(crate) struct ExportComment {
    id: String,
    article_id: String,
    #[schema(required)]
    parent_id: Option<String>,
    author_name: String,
    /// The labels the website gave the author with the comment.
    author_badges: Vec<String>,
    body: String,
    status: CommentStatus,
    /// The author deleted it.
    deleted_by_author: bool,
    /// A moderator approved it.
    approved: bool,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    created_at: DateTime<Utc>,
    #[schema(value_type = Option<String>, format = DateTime, required)]
    #[serde(serialize_with = "ts_opt")]
    edited_at: Option<DateTime<Utc>>,
    /// Why the content rules held it; only for moderator tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    detections: Option<Vec<Detection>>,
}

impl ExportComment {
    fn new(c: comment::Model, moderator: bool) -> ExportComment {
        ExportComment {
            detections: moderator.then(|| dto::detections_of(&c)),
            id: c.id.to_string(),
            article_id: c.article_id,
            parent_id: c.parent_id.map(|p| p.to_string()),
            author_name: c.author_name,
            author_badges: Badges::stored(&c.author_badges)
                .map(str::to_string)
                .collect(),
            body: c.body,
            status: c.status,
            deleted_by_author: c.deleted_by_author,
            approved: c.approved,
            created_at: c.created_at,
            edited_at: c.edited_at,
        }
    }
}

/// A flag the author filed as a reader.
#[derive(Serialize, ToSchema)]
pub(crate) struct ExportFlag {
    id: String,
    comment_id: String,
    reason: FlagReason,
    #[schema(required)]
    note: Option<String>,
    #[schema(required)]
    reporter_email: Option<String>,
    #[schema(required)]
    legal_reference: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    created_at: DateTime<Utc>,
    /// When a moderator's decision settled it; null while it is open.
    #[schema(value_type = Option<String>, format = DateTime, required)]
    #[serde(serialize_with = "ts_opt")]
    resolved_at: Option<DateTime<Utc>>,
}

impl From<flag::Model> for ExportFlag {
    fn from(f: flag::Model) -> ExportFlag {
        ExportFlag {
            id: f.id.to_string(),
            comment_id: f.comment_id.to_string(),
            reason: f.reason,
            note: f.note,
            reporter_email: f.reporter_email,
            legal_reference: f.legal_reference,
            created_at: f.created_at,
            resolved_at: f.resolved_at,
        }
    }
}

/// A reaction the author gave as a reader.
#[derive(Serialize, ToSchema)]
pub(crate) struct ExportReaction {
    comment_id: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    created_at: DateTime<Utc>,
}

impl From<reactions::Given> for ExportReaction {
    fn from(r: reactions::Given) -> ExportReaction {
        ExportReaction {
            comment_id: r.comment_id.to_string(),
            created_at: r.created_at,
        }
    }
}

/// A decision on one of the author's comments, with its statement of reasons.
#[derive(Serialize, ToSchema)]
pub(crate) struct ExportDecision {
    id: String,
    comment_id: String,
    action: DecidedAction,
    #[schema(required)]
    ground: Option<Ground>,
    #[schema(required)]
    category: Option<Category>,
    #[schema(required)]
    explanation: Option<String>,
    #[schema(required)]
    legal_reference: Option<String>,
    /// The content rules held the comment (no moderator has decided yet).
    automated: bool,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    decided_at: DateTime<Utc>,
}

impl From<decision::Model> for ExportDecision {
    fn from(d: decision::Model) -> ExportDecision {
        ExportDecision {
            id: d.id.to_string(),
            comment_id: d.comment_id.to_string(),
            action: d.action,
            ground: d.ground,
            category: d.category,
            explanation: d.explanation,
            legal_reference: d.legal_reference,
            automated: d.automated,
            decided_at: d.decided_at,
        }
    }
}

/// An appeal of the author against a decision.
#[derive(Serialize, ToSchema)]
pub(crate) struct ExportAppeal {
    id: String,
    comment_id: String,
    decision_id: String,
    text: String,
    status: AppealStatus,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    created_at: DateTime<Utc>,
    #[schema(value_type = Option<String>, format = DateTime, required)]
    #[serde(serialize_with = "ts_opt")]
    decided_at: Option<DateTime<Utc>>,
}

impl From<appeal::Model> for ExportAppeal {
    fn from(a: appeal::Model) -> ExportAppeal {
        ExportAppeal {
            id: a.id.to_string(),
            comment_id: a.comment_id.to_string(),
            decision_id: a.decision_id.to_string(),
            text: a.text,
            status: a.status,
            created_at: a.created_at,
            decided_at: a.decided_at,
        }
    }
}

/// An audit-log entry about the author (a status a moderator gave them).
#[derive(Serialize, ToSchema)]
pub(crate) struct ExportLogEntry {
    id: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "ts")]
    at: DateTime<Utc>,
    action: LogAction,
    #[schema(required)]
    comment_id: Option<String>,
    #[schema(required)]
    article_id: Option<String>,
    #[schema(required)]
    note: Option<String>,
    via: Via,
}

impl From<moderation_log::Model> for ExportLogEntry {
    fn from(e: moderation_log::Model) -> ExportLogEntry {
        ExportLogEntry {
            id: e.id.to_string(),
            at: e.at,
            action: e.action,
            comment_id: e.comment_id.map(|c| c.to_string()),
            article_id: e.article_id,
            note: e.note,
            via: e.via,
        }
    }
}

/// Everything stored about an author id (the shape of the streamed document).
#[derive(ToSchema)]
#[allow(dead_code)] // documents the streamed body; never built as a whole
pub(crate) struct AuthorExport {
    author_id: String,
    #[schema(value_type = String, format = DateTime)]
    exported_at: String,
    /// Null when the service keeps no record of the id (only comments, flags or log entries).
    #[schema(required)]
    author: Option<ExportAuthor>,
    /// Every comment, oldest first, any status, with its text.
    comments: Vec<ExportComment>,
    /// The flags the author filed as a reader.
    flags_filed: Vec<ExportFlag>,
    /// The reactions the author gave as a reader, by comment.
    reactions: Vec<ExportReaction>,
    /// Decisions and statements of reasons on the author's comments.
    decisions: Vec<ExportDecision>,
    appeals: Vec<ExportAppeal>,
    /// Audit-log entries about the author (without the moderators' names).
    audit_log: Vec<ExportLogEntry>,
}

/// Writes the export document part by part.
struct ExportWriter {
    export: Export,
    moderator: bool,
    /// The list being written, and whether it has an item yet.
    open: Option<(&'static str, bool)>,
    closed: bool,
}

fn to_json(value: &impl Serialize) -> Result<String, ServiceError> {
    serde_json::to_string(value).map_err(|e| ServiceError::Internal(e.into()))
}

impl ExportWriter {
    fn list<T: Serialize>(
        &mut self,
        out: &mut String,
        key: &'static str,
        items: impl IntoIterator<Item = T>,
    ) -> Result<(), ServiceError> {
        if self.open.map(|(open, _)| open) != Some(key) {
            out.push_str(if self.open.is_some() { "]," } else { "," });
            out.push_str(&to_json(&key)?);
            out.push_str(":[");
            self.open = Some((key, false));
        }
        for item in items {
            if let Some((_, wrote)) = &mut self.open {
                if *wrote {
                    out.push(',');
                }
                *wrote = true;
            }
            out.push_str(&to_json(&item)?);
        }
        Ok(())
    }

    /// The next chunk of the document; None after its end.
    async fn next_chunk(&mut self) -> Result<Option<Bytes>, ServiceError> {
        if self.closed {
            return Ok(None);
        }
        let mut out = String::new();
        let moderator = self.moderator;
        match self.export.next().await? {
            None => {
                out.push_str(if self.open.is_some() { "]}" } else { "}" });
                self.closed = true;
            }
            Some(Part::Author(found)) => {
                out.push_str("{\"author_id\":");
                out.push_str(&to_json(&self.export.author_id())?);
                out.push_str(",\"exported_at\":");
                out.push_str(&to_json(&dto::format_ts(self.export.exported_at))?);
                out.push_str(",\"author\":");
                out.push_str(&to_json(&found.map(ExportAuthor::from))?);
            }
            Some(Part::Comments(rows)) => self.list(
                &mut out,
                "comments",
                rows.into_iter().map(|c| ExportComment::new(c, moderator)),
            )?,
            Some(Part::FlagsFiled(rows)) => self.list(
                &mut out,
                "flags_filed",
                rows.into_iter().map(ExportFlag::from),
            )?,
            Some(Part::Reactions(rows)) => self.list(
                &mut out,
                "reactions",
                rows.into_iter().map(ExportReaction::from),
            )?,
            Some(Part::Decisions(rows)) => self.list(
                &mut out,
                "decisions",
                rows.into_iter().map(ExportDecision::from),
            )?,
            Some(Part::Appeals(rows)) => self.list(
                &mut out,
                "appeals",
                rows.into_iter().map(ExportAppeal::from),
            )?,
            Some(Part::AuditLog(rows)) => self.list(
                &mut out,
                "audit_log",
                rows.into_iter().map(ExportLogEntry::from),
            )?,
        }
        Ok(Some(Bytes::from(out)))
    }
}

/// `author-<id>.json`, with anything but letters, digits, `.`, `_` and `-` replaced.
fn file_name(author_id: &str) -> String {
    let safe: String = author_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("author-{safe}.json")
}

/// Everything stored about an author (GDPR Art. 15, 20)
///
/// One JSON document, streamed as it is read (pages of 500 rows, so an author with 100,000
/// comments costs bounded memory): the author record, every comment of the author (any status,
/// with text), the flags they filed, the decisions and statements of reasons on their comments,
/// their appeals and the audit-log entries about them. Moderators' names are not part of it;
/// `detections` only for moderator tokens. Should the database fail halfway, the connection is
/// cut, so a truncated document is never mistaken for a whole one.
#[utoipa::path(
    get,
    path = "/authors/{id}/export",
    tag = "personal data",
    params(("id" = String, Path, description = "The author id the website uses.")),
    responses(
        (status = 200, description = "The document, as an attachment `author-<id>.json`.", body = AuthorExport),
        (status = 404, description = "`not_found`: nothing is stored about this author id.", body = ErrorBody),
        (status = 422, description = "`validation_failed`: not an author id (1 to 128 characters).", body = ErrorBody),
    ),
)]
async fn export_author(
    ServiceCaller(caller): ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ServiceError> {
    let id = author_id(&path)?;
    let export = privacy::export(&state, &id).await?;
    let writer = ExportWriter {
        export,
        moderator: caller.is_moderator(),
        open: None,
        closed: false,
    };
    let body = futures_util::stream::unfold(writer, |mut writer| async move {
        match writer.next_chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), writer)),
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "an export failed halfway; the connection is cut");
                writer.closed = true;
                Some((Err(e), writer))
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", file_name(&id)),
        ))
        .streaming(body))
}

/// What an erasure changed.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"comments": 41, "flags": 3}))]
pub(crate) struct ErasureView {
    /// The author's comments, now `deleted` with body and name wiped (0 on a repeated call).
    comments: u64,
    /// The flags they filed, now without who filed them (0 on a repeated call).
    flags: u64,
}

/// Erase an author's personal data (GDPR Art. 17)
///
/// Irreversible, in one transaction: the author's comments become `deleted` with body and name
/// wiped (replies stay; the erased comment shows as `removed`), the flags they filed keep their
/// reason but lose who filed them and their note, mails about their comments lose their texts,
/// their appeals lose their text, the author record is removed, and the audit log keeps its
/// entries under a stable pseudonym (`anon-…`). Logged as `author_erased`; the website gets
/// `author.erased` with only the pseudonym. Idempotent: a repeated call answers zero counts.
#[utoipa::path(
    delete,
    path = "/authors/{id}",
    tag = "personal data",
    params(("id" = String, Path, description = "The author id the website uses.")),
    responses(
        (status = 200, description = "What was erased.", body = ErasureView),
        (status = 422, description = "`validation_failed`: not an author id (1 to 128 characters).", body = ErrorBody),
    ),
)]
pub(crate) async fn erase_author(
    ServiceCaller(caller): ServiceCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ServiceError> {
    let id = author_id(&path)?;
    let erased = privacy::erase(&state, &caller, &id).await?;
    Ok(HttpResponse::Ok().json(ErasureView {
        comments: erased.comments,
        flags: erased.flags,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_keeps_only_safe_characters() {
        assert_eq!(file_name("u-123"), "author-u-123.json");
        assert_eq!(file_name("a\"b/c ä"), "author-a_b_c__.json");
    }
}
