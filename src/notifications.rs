//! Queuing the community team's emails about flagged comments: rendered from a snapshot of the
//! comment and its flags, in the transaction of the flag that triggers them.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbErr};

use crate::config::Settings;
use crate::domain::action_link::ActionLinkSigner;
use crate::domain::states::{ModerationAction, NotificationKind};
use crate::entity::{article, comment};
use crate::mail::{NotificationView, render_notification_in};
use crate::store::{flags, outbox};

/// The link a moderator follows to act on a comment from an email; it acts only in the comment's
/// review round `round` (the one the email is about).
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

/// Renders and queues one notification about `comment`. Every mail about one comment joins the
/// thread of the first one (`In-Reply-To`/`References`).
pub async fn queue(
    db: &impl ConnectionTrait,
    settings: &Settings,
    signer: &ActionLinkSigner,
    kind: NotificationKind,
    comment: &comment::Model,
    article: &article::Model,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let summary = flags::summaries(db, &[comment.id])
        .await?
        .remove(&comment.id)
        .unwrap_or_default();
    let view = NotificationView {
        kind,
        article_title: article.title.clone(),
        article_url: article.url.clone(),
        comment_id: comment.id.to_string(),
        comment_body: comment.body.clone(),
        author_name: comment.author_name.clone(),
        author_id: comment.author_id.clone(),
        comment_created_at: comment.created_at,
        flag_count: summary.total,
        reasons: summary
            .reasons_by_count()
            .into_iter()
            .map(|(reason, n)| (reason.as_str().to_string(), n))
            .collect(),
        notes: summary.notes.clone(),
        approve_url: action_url(
            settings,
            signer,
            comment.id,
            ModerationAction::Approve,
            comment.review_round,
            now,
        ),
        hide_url: action_url(
            settings,
            signer,
            comment.id,
            ModerationAction::Hide,
            comment.review_round,
            now,
        ),
        delete_url: action_url(
            settings,
            signer,
            comment.id,
            ModerationAction::Delete,
            comment.review_round,
            now,
        ),
    };
    let (subject, text, html) = render_notification_in(&view, settings.lifecycle.newsroom_timezone)
        .map_err(|e| DbErr::Custom(e.to_string()))?;
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
            body_text: text,
            body_html: html,
        },
        now,
    )
    .await?;
    Ok(())
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
