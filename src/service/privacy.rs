//! Personal data (GDPR Art. 15, 17, 20): an author's export, read page by page so that it streams
//! in bounded memory, and their erasure, in one write transaction.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sea_orm::{DatabaseConnection, DbErr};
use sha2::Sha256;

use crate::auth::Caller;
use crate::domain::states::{AppealStatus, CommentStatus, EventType, LogAction, Via};
use crate::entity::{appeal, author, comment, decision, flag, moderation_log};
use crate::error::ServiceError;
use crate::events::Stream;
use crate::state::AppState;
use crate::store::privacy::{self as store, EXPORT_PAGE};
use crate::store::{audit, authors, reactions, secrets};

/// The name of the key of the pseudonyms (generated once, kept in the database).
pub const PSEUDONYM_SECRET: &str = "pseudonym_secret";

/// The stable pseudonym of an author id: `anon-` and the first 16 hex digits of
/// HMAC-SHA256(secret, id). The same id always gets the same pseudonym; without the secret the
/// id cannot be found from it.
pub fn pseudonym(secret: &[u8], author_id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(author_id.as_bytes());
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("anon-{hex}")
}

/// One part of an export, in the order the document holds them: the author record, then each
/// list in pages (every list gives at least one, possibly empty, page).
pub enum Part {
    Author(Option<author::Model>),
    Comments(Vec<comment::Model>),
    FlagsFiled(Vec<flag::Model>),
    Reactions(Vec<reactions::Given>),
    Decisions(Vec<decision::Model>),
    Appeals(Vec<appeal::Model>),
    AuditLog(Vec<moderation_log::Model>),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Step {
    Author,
    Comments,
    FlagsFiled,
    Reactions,
    Decisions,
    Appeals,
    AuditLog,
    Done,
}

impl Step {
    fn next(self) -> Step {
        match self {
            Step::Author => Step::Comments,
            Step::Comments => Step::FlagsFiled,
            Step::FlagsFiled => Step::Reactions,
            Step::Reactions => Step::Decisions,
            Step::Decisions => Step::Appeals,
            Step::Appeals => Step::AuditLog,
            Step::AuditLog | Step::Done => Step::Done,
        }
    }
}

/// Everything stored about one author id, read on demand in keyset-paginated pages of
/// [`EXPORT_PAGE`] rows.
pub struct Export {
    db: DatabaseConnection,
    author_id: String,
    /// When the export was asked for.
    pub exported_at: DateTime<Utc>,
    step: Step,
    after: i64,
}

impl Export {
    pub fn author_id(&self) -> &str {
        &self.author_id
    }

    /// The next part, or None when the document is complete.
    pub async fn next(&mut self) -> Result<Option<Part>, DbErr> {
        let (db, id, after) = (&self.db, self.author_id.as_str(), self.after);
        let (part, last, len) = match self.step {
            Step::Done => return Ok(None),
            Step::Author => {
                let found = authors::find(db, id).await?;
                self.step = self.step.next();
                return Ok(Some(Part::Author(found)));
            }
            Step::Comments => {
                let rows = store::comments_after(db, id, after, EXPORT_PAGE).await?;
                let (last, len) = (rows.last().map(|r| r.id), rows.len());
                (Part::Comments(rows), last, len)
            }
            Step::FlagsFiled => {
                let rows = store::flags_filed_after(db, id, after, EXPORT_PAGE).await?;
                let (last, len) = (rows.last().map(|r| r.id), rows.len());
                (Part::FlagsFiled(rows), last, len)
            }
            Step::Reactions => {
                let rows = reactions::given_after(db, id, after, EXPORT_PAGE).await?;
                let (last, len) = (rows.last().map(|r| r.comment_id), rows.len());
                (Part::Reactions(rows), last, len)
            }
            Step::Decisions => {
                let rows = store::decisions_after(db, id, after, EXPORT_PAGE).await?;
                let (last, len) = (rows.last().map(|r| r.id), rows.len());
                (Part::Decisions(rows), last, len)
            }
            Step::Appeals => {
                let rows = store::appeals_after(db, id, after, EXPORT_PAGE).await?;
                let (last, len) = (rows.last().map(|r| r.id), rows.len());
                (Part::Appeals(rows), last, len)
            }
            Step::AuditLog => {
                let rows = store::log_after(db, id, after, EXPORT_PAGE).await?;
                let (last, len) = (rows.last().map(|r| r.id), rows.len());
                (Part::AuditLog(rows), last, len)
            }
        };
        match last {
            Some(last) if len as u64 == EXPORT_PAGE => self.after = last,
            _ => {
                self.step = self.step.next();
                self.after = 0;
            }
        }
        Ok(Some(part))
    }
}

/// Starts the export of everything stored about `author_id`; 404 when nothing is.
pub async fn export(state: &AppState, author_id: &str) -> Result<Export, ServiceError> {
    if !store::anything_stored(state.db(), author_id).await? {
        return Err(ServiceError::NotFound(format!(
            "nothing is stored about the author `{author_id}`"
        )));
    }
    Ok(Export {
        db: state.db().clone(),
        author_id: author_id.to_string(),
        exported_at: state.clock().now(),
        step: Step::Author,
        after: 0,
    })
}

/// What an erasure did.
#[derive(Debug)]
pub struct Erasure {
    pub comments: u64,
    pub flags: u64,
    pub pseudonym: String,
}

/// Erases what is stored about `author_id`, irreversibly, in one write transaction: their
/// comments become `deleted` (as by the author: never restorable) with body and name wiped and
/// the pseudonym as author id, threads keeping their shape; the flags they filed keep their
/// reason under the pseudonym; mails about their comments lose their texts; stored answers that
/// hold their comments are dropped; events, appeals and the audit log name the pseudonym; the
/// author record goes. Logged as `author_erased` by the caller, and told to the website
/// (`author.erased`, with only the pseudonym). A repeated erasure changes nothing and answers
/// zero counts.
pub async fn erase(
    state: &AppState,
    caller: &Caller,
    author_id: &str,
) -> Result<Erasure, ServiceError> {
    let now = state.clock().now();
    let txn = state.begin_write().await?;
    let generated: [u8; 32] = rand::random();
    let secret = secrets::get_or_insert(&*txn, PSEUDONYM_SECRET, &generated, now).await?;
    let pseudonym = pseudonym(&secret, author_id);
    let settled = store::settle(&*txn, author_id, &caller.name, now).await?;
    record_settled(state, &*txn, &settled, now).await?;
    let erased = store::erase(&*txn, author_id, &pseudonym).await?;
    if erased.anything {
        let details = serde_json::json!({"comments": erased.comments, "flags": erased.flags});
        audit::write(
            &*txn,
            audit::Entry {
                moderator: &caller.name,
                action: LogAction::AuthorErased,
                comment_id: None,
                article_id: None,
                note: None,
                via: Via::Api,
                author_id: Some(&pseudonym),
                details: Some(details.to_string()),
            },
            now,
        )
        .await?;
        state
            .events()
            .record(
                &*txn,
                EventType::AuthorErased,
                Stream::Author(&pseudonym),
                serde_json::json!({"author_id": pseudonym}),
                now,
            )
            .await?;
    }
    txn.commit().await?;
    for article in &erased.articles {
        state.invalidate_article(article);
    }
    if erased.anything {
        state.jobs().events.wake();
        tracing::info!(
            author = %pseudonym,
            comments = erased.comments,
            flags = erased.flags,
            by = %caller.name,
            "author erased"
        );
    }
    Ok(Erasure {
        comments: erased.comments,
        flags: erased.flags,
        pseudonym,
    })
}

/// Tells the website how the erasure settled what waited for a decision: `flag.decided` for
/// each flag (the reporters learn the comment was deleted), `comment.appeal_decided` for each
/// withdrawn appeal.
async fn record_settled(
    state: &AppState,
    txn: &impl sea_orm::ConnectionTrait,
    settled: &[store::Settled],
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), sea_orm::DbErr> {
    let events = state.events();
    for s in settled {
        if !s.flags.is_empty() {
            events
                .flags_decided(txn, s.comment_id, &s.decision, now)
                .await?;
        }
        if let Some(appeal) = s.appeal {
            let data = serde_json::json!({
                "comment_id": s.comment_id.to_string(),
                "article_id": s.article_id,
                "appeal_id": appeal.to_string(),
                "outcome": AppealStatus::Withdrawn,
                "status": CommentStatus::Deleted,
            });
            events
                .record(
                    txn,
                    EventType::CommentAppealDecided,
                    Stream::Comment(s.comment_id),
                    data,
                    now,
                )
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pseudonym_is_stable_per_secret_and_id_and_reveals_neither() {
        let a = pseudonym(b"secret-one", "u-123");
        assert_eq!(a, pseudonym(b"secret-one", "u-123"));
        assert!(a.starts_with("anon-") && a.len() == 21, "{a}");
        assert!(a[5..].chars().all(|c| c.is_ascii_hexdigit()), "{a}");
        assert!(!a.contains("123"));
        assert_ne!(a, pseudonym(b"secret-one", "u-124"));
        assert_ne!(a, pseudonym(b"secret-two", "u-123"));
    }
}
