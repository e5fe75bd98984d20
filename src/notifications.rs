//! The community team's emails about flagged comments. The flag's transaction queues a snapshot
//! of the comment and its flags (what the mail shows is what was flagged, even if the comment
//! changes later); the deliverer renders the mail from it when it sends, and only then signs the
//! action links, so no live link is ever stored.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::config::Settings;
use crate::domain::action_link::ActionLinkSigner;
use crate::domain::states::{ModerationAction, NotificationKind};
use crate::entity::{article, comment, notification};
use crate::mail::{MailError, NotificationView, OutgoingEmail, render_notification_in};
use crate::store::{flags, outbox};

/// The link a moderator follows to act on a comment from an email.
pub fn action_url(
    settings: &Settings,
    signer: &ActionLinkSigner,
    comment_id: i64,
    action: ModerationAction,
    round: i64,
    now: DateTime<Utc>,
) -> String {
    let token = signer.sign(
        comment_id,
        action,
        round,
        now + Duration::days(settings.moderation.action_link_days),
    );
    format!(
        "{}/moderation/actions/{token}",
        settings.http.public_base_url
    )
}

/// What a notification shows, as it was when the flag was committed.
pub use crate::mail::NotificationContent as Snapshot;

/// The domain of `MODERATION_EMAIL_FROM`, for Message-IDs.
fn message_id_domain(from: &str) -> String {
    let address = from
        .rsplit('<')
        .next()
        .unwrap_or(from)
        .trim_end_matches('>');
    address
        .rsplit_once('@')
        .map(|(_, d)| d.trim().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "comment-service".to_string())
}

/// Queues one notification about `comment` with a snapshot of it and its open flags. Every mail
/// about one comment joins the thread of the first one (`In-Reply-To`/`References`).
pub async fn queue(
    db: &impl ConnectionTrait,
    settings: &Settings,
    kind: NotificationKind,
    comment: &comment::Model,
    article: &article::Model,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let summary = flags::summaries(db, &[comment.id])
        .await?
        .remove(&comment.id)
        .unwrap_or_default();
    let snapshot = Snapshot {
        article_title: article.title.clone(),
        article_url: article.url.clone(),
        comment_body: comment.body.clone(),
        author_name: comment.author_name.clone(),
        author_id: comment.author_id.clone(),
        comment_created_at: comment.created_at,
        flag_count: summary.total,
        reasons: summary.reasons_by_count(),
        notes: summary.notes.clone(),
        detections: crate::views::dto::detections_of(comment),
        due_at: comment.due_at,
    };
    let view = view(comment.id, kind, snapshot, Default::default());
    // The subject holds no link: it is rendered now and kept.
    let (subject, _, _) = render_notification_in(&view, settings.lifecycle.newsroom_timezone)
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    let snapshot =
        serde_json::to_string(&view.content).map_err(|e| DbErr::Custom(e.to_string()))?;
    let root = outbox::thread_root(db, comment.id).await?;
    let nonce: u64 = rand::random();
    let message_id = format!(
        "<comment-{}.{}.{:016x}@{}>",
        comment.id,
        kind.as_str(),
        nonce,
        message_id_domain(&settings.mail.from)
    );
    outbox::enqueue(
        db,
        outbox::NewNotification {
            comment_id: comment.id,
            kind,
            message_id,
            in_reply_to: root,
            subject,
            snapshot,
            review_round: comment.review_round,
        },
        now,
    )
    .await?;
    Ok(())
}

fn view(
    comment_id: i64,
    kind: NotificationKind,
    content: Snapshot,
    [approve_url, hide_url, delete_url]: [String; 3],
) -> NotificationView {
    NotificationView {
        kind,
        comment_id: comment_id.to_string(),
        content,
        approve_url,
        hide_url,
        delete_url,
    }
}

/// The mail of an outbox row, with action links signed `now`. A row queued before snapshots
/// existed is sent as it was stored.
pub fn render(
    row: &notification::Model,
    settings: &Settings,
    signer: &ActionLinkSigner,
    now: DateTime<Utc>,
) -> Result<OutgoingEmail, MailError> {
    let (text, html) = match &row.snapshot {
        Some(json) => {
            let snapshot: Snapshot =
                serde_json::from_str(json).map_err(|e| MailError::Template {
                    template: "snapshot".to_owned(),
                    reason: e.to_string(),
                })?;
            let link = |action| {
                action_url(
                    settings,
                    signer,
                    row.comment_id,
                    action,
                    row.review_round,
                    now,
                )
            };
            let links = [
                link(ModerationAction::Approve),
                link(ModerationAction::Hide),
                link(ModerationAction::Delete),
            ];
            let view = view(row.comment_id, row.kind, snapshot, links);
            let (_, text, html) =
                render_notification_in(&view, settings.lifecycle.newsroom_timezone)?;
            (text, html)
        }
        None => (row.body_text.clone(), row.body_html.clone()),
    };
    let urgent = row
        .snapshot
        .as_deref()
        .and_then(|json| serde_json::from_str::<Snapshot>(json).ok())
        .is_some_and(|s| s.due_at.is_some());
    Ok(OutgoingEmail {
        urgent,
        subject: row.subject.clone(),
        text,
        html,
        message_id: row.message_id.clone(),
        in_reply_to: row.in_reply_to.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_use_the_senders_domain() {
        assert_eq!(
            message_id_domain("Kommentare <noreply@krone.at>"),
            "krone.at"
        );
        assert_eq!(message_id_domain("noreply@example.org"), "example.org");
        assert_eq!(message_id_domain("nobody"), "comment-service");
    }
}
