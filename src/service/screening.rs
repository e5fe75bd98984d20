//! The rules every new comment and every edit passes, in the contract's order: the author's
//! status (403), then the content rules (422 or held for review, see `moderation`).

use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;

use crate::domain::states::{
    AuthorStatus, Category, CommentStatus, DecidedAction, EventType, HoldReason, NotificationKind,
};
use crate::entity::{article, author, comment};
use crate::error::ServiceError;
use crate::events::Stream;
use crate::moderation::live::Loaded;
use crate::moderation::{AuthorFacts, Detection, Findings, Verdict, repeat_post_key};
use crate::service::rate_limit;
use crate::state::AppState;
use crate::store::authors::{self, Tally};
use crate::store::decisions;

/// An author's status at `now`: a suspension ends by itself at `until`, exactly.
pub fn effective_status(
    author: &author::Model,
    now: DateTime<Utc>,
) -> (AuthorStatus, Option<DateTime<Utc>>, Option<&str>) {
    match (author.status, author.until) {
        (AuthorStatus::Suspended, Some(until)) if until <= now => {
            (AuthorStatus::Active, None, None)
        }
        (status, until) => (status, until, author.reason.as_deref()),
    }
}

/// Step 1: a banned or suspended author may not post or edit.
pub fn ensure_may_write(
    author: Option<&author::Model>,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let Some(author) = author else { return Ok(()) };
    match effective_status(author, now) {
        (AuthorStatus::Banned, ..) => Err(ServiceError::AuthorBlocked {
            suspended: false,
            until: None,
        }),
        (AuthorStatus::Suspended, until, _) => Err(ServiceError::AuthorBlocked {
            suspended: true,
            until,
        }),
        _ => Ok(()),
    }
}

/// What the rules made of a comment that may be stored.
pub struct Screened {
    /// `visible`, or `pending_review` when held.
    pub status: CommentStatus,
    /// Why it was held (empty when visible).
    pub detections: Vec<Detection>,
}

impl Screened {
    /// The detections as stored with the comment.
    pub fn detections_json(&self) -> Option<String> {
        (!self.detections.is_empty())
            .then(|| serde_json::to_string(&self.detections).ok())
            .flatten()
    }

    /// The community team gets an email for a comment held for what it says or for the author's
    /// history, not for who wrote it or where (`new_author`, `premod_author`, `premod_article` would
    /// flood the mailbox).
    pub fn needs_email(&self) -> bool {
        self.detections.iter().any(|d| {
            matches!(
                d.rule,
                HoldReason::SuspectWord | HoldReason::Links | HoldReason::History
            )
        })
    }
}

/// One comment's text, author and place, as the rules see it.
pub struct Subject<'a> {
    pub author_id: &'a str,
    pub author: Option<&'a author::Model>,
    pub text: &'a str,
    /// The comment's article holds every comment for review (its settings' `premod`).
    pub article_premod: bool,
    /// The comment being edited (it is not its own repeat).
    pub editing: Option<i64>,
}

/// Steps 2 to 5 (and, for a new comment, the rate limit), inside the write transaction after
/// the author's turn was taken (`rate_limit::take_turn`), so what it reads of the author's
/// recent comments holds until the comment is stored.
pub async fn screen(
    db: &impl ConnectionTrait,
    state: &AppState,
    rules: &Loaded,
    findings: &Findings,
    subject: Subject<'_>,
    now: DateTime<Utc>,
) -> Result<Screened, ServiceError> {
    let limit = state.settings().moderation.comment_rate_limit;
    let recent = if reads_recent(rules, findings, &subject) {
        authors::recent(
            db,
            subject.author_id,
            now - recent_window(rules),
            subject.editing,
            u64::from(limit).max(500),
        )
        .await?
    } else {
        Vec::new()
    };
    screen_with_recent(db, state, rules, findings, subject, now, &recent).await
}

/// Whether screening reads the author's recent comments (not for a banned word, which is refused
/// anyway).
pub fn reads_recent(rules: &Loaded, findings: &Findings, subject: &Subject<'_>) -> bool {
    !findings.is_banned()
        && (subject.editing.is_none() || rules.rules().repeat_post_window().is_some())
}

/// How far back the rate limit and the repeat-post rule look.
pub fn recent_window(rules: &Loaded) -> chrono::Duration {
    rules
        .rules()
        .repeat_post_window()
        .unwrap_or_default()
        .max(rate_limit::WINDOW)
}

/// [`screen`] with the author's recent comments (posted since `now - recent_window`, newest
/// first) already read, as a batch of posts reads them for all its authors at once.
pub async fn screen_with_recent(
    db: &impl ConnectionTrait,
    state: &AppState,
    rules: &Loaded,
    findings: &Findings,
    subject: Subject<'_>,
    now: DateTime<Utc>,
    recent: &[(DateTime<Utc>, String)],
) -> Result<Screened, ServiceError> {
    let facts = author_facts(db, state, rules, findings, &subject, now, recent).await?;
    match rules.compiled.decide(findings, &facts) {
        Verdict::Publish => Ok(Screened {
            status: CommentStatus::Visible,
            detections: Vec::new(),
        }),
        Verdict::Hold(detections) => Ok(Screened {
            status: CommentStatus::PendingReview,
            detections,
        }),
        Verdict::Reject(rule) => {
            tracing::info!(author = subject.author_id, %rule, "comment rejected by the content rules");
            ::metrics::counter!(crate::metrics::COMMENTS_REJECTED, "rule" => rule.as_str())
                .increment(1);
            Err(ServiceError::CommentRejected(rule))
        }
    }
}

/// What the rules need to know about the author and the article of a comment: the rate limit
/// (a new comment past it is refused here), repeat posts, premod, the author's history.
async fn author_facts(
    db: &impl ConnectionTrait,
    state: &AppState,
    rules: &Loaded,
    findings: &Findings,
    subject: &Subject<'_>,
    now: DateTime<Utc>,
    recent: &[(DateTime<Utc>, String)],
) -> Result<AuthorFacts, ServiceError> {
    let config = rules.rules();
    let rate_limited = subject.editing.is_none();
    let repeat_window = config.repeat_post_window();
    let mut facts = AuthorFacts {
        premod_article: subject.article_premod,
        ..AuthorFacts::default()
    };
    if reads_recent(rules, findings, subject) {
        let limit = state.settings().moderation.comment_rate_limit;
        if rate_limited {
            rate_limit::check(recent.iter().map(|(at, _)| *at), limit, now)?;
        }
        if let Some(window) = repeat_window {
            let key = repeat_post_key(subject.text);
            facts.repeat_post = recent
                .iter()
                .any(|(at, text)| *at > now - window && repeat_post_key(text) == key);
        }
    }
    if let Some(author) = subject.author {
        facts.premod = effective_status(author, now).0 == AuthorStatus::Premod;
        facts.approved_or_visible = author.approved_or_visible.max(0) as u64;
        let history = &config.history;
        // Only an author moderators ever removed comments of can trip the history rule.
        if Tally::from(author).removed_by_moderators() > 0
            && author.comments >= history.min_comments
            && history.max_rejected_ratio < 1.0
        {
            let (total, removed) =
                authors::history(db, subject.author_id, now - config.history_window()).await?;
            facts.recent_comments = total;
            facts.recent_removed = removed;
        }
    }
    Ok(facts)
}

/// What the rules would make of a text, and what they found in it.
pub struct Trial {
    pub findings: Findings,
    pub verdict: Verdict,
}

/// What the rules in force would make of `text` posted now to `article` by `author_id` (the
/// console's rule tester): the steps a post takes (the author's status, the words and links
/// with the article's link rule, the author's recent comments, premod, history), read only,
/// with nothing stored, logged or counted.
pub async fn trial(
    state: &AppState,
    text: &str,
    article: Option<&article::Model>,
    author_id: &str,
    author: Option<&author::Model>,
) -> Result<Trial, ServiceError> {
    let now = state.clock().now();
    ensure_may_write(author, now)?;
    let rules = state.rules().get(state.db(), now).await?;
    let links = article.and_then(|a| a.link_policy.overriding());
    let findings = rules.compiled.inspect_in(text, links);
    let subject = Subject {
        author_id,
        author,
        text,
        article_premod: article.is_some_and(|a| a.premod),
        editing: None,
    };
    let recent = if author.is_some() && reads_recent(&rules, &findings, &subject) {
        let limit = state.settings().moderation.comment_rate_limit;
        let since = now - recent_window(&rules);
        authors::recent(
            state.db(),
            author_id,
            since,
            None,
            u64::from(limit).max(500),
        )
        .await?
    } else {
        Vec::new()
    };
    let facts = author_facts(state.db(), state, &rules, &findings, &subject, now, &recent).await?;
    let verdict = rules.compiled.decide(&findings, &facts);
    Ok(Trial { findings, verdict })
}

/// The statement of reasons of an automated hold: a category and words the author is shown
/// (naming the rules, never the matched words).
pub fn hold_statement(detections: &[Detection]) -> (Category, String) {
    let category = match detections.first().map(|d| d.rule) {
        Some(HoldReason::SuspectWord) => Category::Insult,
        Some(HoldReason::Links) => Category::Spam,
        _ => Category::Other,
    };
    let mut reasons: Vec<&str> = Vec::new();
    for d in detections {
        let reason = match d.rule {
            HoldReason::SuspectWord => "ein Wort, das geprüft wird",
            HoldReason::Links => "ein Link",
            HoldReason::PremodArticle => {
                "Kommentare zu diesem Artikel werden vor der Veröffentlichung geprüft"
            }
            HoldReason::PremodAuthor | HoldReason::NewAuthor => {
                "Kommentare dieses Kontos werden vor der Veröffentlichung geprüft"
            }
            HoldReason::History => "frühere Kommentare dieses Kontos wurden entfernt",
        };
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }
    let explanation = format!(
        "Der Kommentar wird vor der Veröffentlichung vom Community-Team geprüft (automatisch zurückgehalten: {}).",
        reasons.join("; ")
    );
    (category, explanation)
}

/// What a held comment sets off, in its transaction: the `comment.held` event and, when the
/// hold is about its content or its author's history, the community team's email.
pub async fn held(
    db: &impl ConnectionTrait,
    state: &AppState,
    screened: &Screened,
    comment: &comment::Model,
    article: &article::Model,
    now: DateTime<Utc>,
) -> Result<(), ServiceError> {
    let data = serde_json::json!({
        "comment_id": comment.id.to_string(),
        "article_id": comment.article_id,
        "status": CommentStatus::PendingReview,
        "automated": true,
    });
    state
        .events()
        .record(
            db,
            EventType::CommentHeld,
            Stream::Comment(comment.id),
            data,
            now,
        )
        .await?;
    let (category, explanation) = hold_statement(&screened.detections);
    decisions::insert(
        db,
        decisions::NewDecision {
            comment_id: comment.id,
            action: DecidedAction::Hold,
            statement: None,
            automated: Some((category, &explanation)),
            moderator: None,
            via: None,
            first_flag_at: None,
            first_notice_at: None,
            appeal_id: None,
        },
        now,
    )
    .await?;
    if screened.needs_email() {
        crate::notifications::queue(
            db,
            state.settings(),
            NotificationKind::Held,
            comment,
            article,
            now,
        )
        .await?;
    }
    let reasons: Vec<&str> = screened
        .detections
        .iter()
        .map(|d| d.rule.as_str())
        .collect();
    tracing::info!(comment = comment.id, reasons = ?reasons, "comment held for review");
    ::metrics::counter!(crate::metrics::COMMENTS_HELD).increment(1);
    Ok(())
}
