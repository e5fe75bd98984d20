//! Every status, reason, action and kind the service stores or speaks, one enum each.
//!
//! Each enum is its database column's type (`DeriveValueType`, stored as its wire name), its
//! serde form, its OpenAPI schema and its parser. No other code spells these names.

/// A name that is none of an enum's values.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not a {kind}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
}

/// Defines closed sets of wire names, each as an enum with its parser, serde form, OpenAPI schema
/// and database column type.
macro_rules! wire_enums {
    ($( $(#[$meta:meta])* $name:ident $kind:literal { $($variant:ident = $value:tt),+ $(,)? } )+) => {
        $( wire_enum!($(#[$meta])* $name $kind { $($variant = $value),+ }); )+
    };
}

macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident $kind:literal { $($variant:ident = $value:tt),+ }) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema, sea_orm::DeriveValueType,
        )]
        #[sea_orm(value_type = "String")]
        pub enum $name {
            $( #[serde(rename = $value)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $value, )+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = UnknownValue;

            fn from_str(raw: &str) -> Result<$name, UnknownValue> {
                match raw {
                    $( $value => Ok($name::$variant), )+
                    _ => Err(UnknownValue { kind: $kind, value: raw.to_string() }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enums! {
    /// Who can see a comment: `visible`, `pending_review` (hidden until a moderator decides, as
    /// when its flags reached the hide threshold), `hidden` or `deleted`.
    CommentStatus "comment status" { Visible = "visible", PendingReview = "pending_review", Hidden = "hidden", Deleted = "deleted" }

    /// A comment's status as a caller sees it: `visible`, `pending_review` (hidden until a
    /// moderator decides), `hidden` or `deleted`; service tokens see a comment that is not
    /// visible as `removed`, without body and author.
    ShownStatus "shown comment status" { Visible = "visible", PendingReview = "pending_review", Hidden = "hidden", Deleted = "deleted", Removed = "removed" }

    /// Whether readers may write to a discussion at the time of the request.
    DiscussionStatus "discussion status" { Open = "open", Closed = "closed" }

    /// Why a discussion is closed: the article passed the age limit (`expired`), or a moderator
    /// closed it.
    ClosedReason "closed reason" { Expired = "expired", Moderator = "moderator" }

    /// Why a reader flags a comment; `other` needs a note.
    FlagReason "flag reason" { Spam = "spam", Abuse = "abuse", OffTopic = "off_topic", Illegal = "illegal", Misinformation = "misinformation", Other = "other" }

    /// A moderator's decision on a comment.
    ModerationAction "moderation action" { Approve = "approve", Hide = "hide", Delete = "delete" }

    /// What a moderator did, as the audit log records it.
    LogAction "logged action" { Approve = "approve", Hide = "hide", Delete = "delete", CloseDiscussion = "close_discussion", ReopenDiscussion = "reopen_discussion", AuthorActive = "author_active", AuthorPremod = "author_premod", AuthorSuspended = "author_suspended", AuthorBanned = "author_banned", RulesChanged = "rules_changed", AuthorErased = "author_erased", AuthorNote = "author_note", ArticleSettings = "article_settings", Feature = "feature", Unfeature = "unfeature" }

    /// How a moderator acted: through the API, an emailed action link or the console.
    Via "way of acting" { Api = "api", Email = "email", Console = "console" }

    /// Which email the community team gets: `flagged` when the unresolved flags reached
    /// `FLAG_NOTIFY_THRESHOLD` (the comment is still visible); `pending_review` when they reached
    /// `FLAG_HIDE_THRESHOLD` and the comment is hidden until a decision; `held` when the content
    /// rules held a new or edited comment for a suspect word, a link or the author's history;
    /// `reminder` two hours before an undecided notice of illegal content is due.
    NotificationKind "notification kind" { Flagged = "flagged", PendingReview = "pending_review", Held = "held", Reminder = "reminder" }

    /// Delivery state of a notification in the outbox.
    NotificationStatus "notification status" { Pending = "pending", Sent = "sent", Failed = "failed" }

    /// Sort order of an article's top-level comments (default `newest`).
    CommentOrder "comment order" { Newest = "newest", Oldest = "oldest" }

    /// What a moderator does to a discussion: close it now, or reopen it.
    DiscussionAction "discussion action" { Close = "close", Reopen = "reopen" }

    /// What changed, as the website learns it from a webhook.
    EventType "event type" { CommentHeld = "comment.held", CommentApproved = "comment.approved", CommentHidden = "comment.hidden", CommentDeleted = "comment.deleted", CommentAppealDecided = "comment.appeal_decided", FlagDecided = "flag.decided", DiscussionClosed = "discussion.closed", DiscussionReopened = "discussion.reopened", AuthorStatusChanged = "author.status_changed", AuthorErased = "author.erased", CommentFeatured = "comment.featured" }

    /// Delivery state of a webhook event.
    EventStatus "event status" { Pending = "pending", Sent = "sent", Failed = "failed" }

    /// What the content rules do with a comment that links elsewhere: publish it (`allow`),
    /// hold it for review (`premod`) or refuse it (`reject`).
    LinkPolicy "link policy" { Allow = "allow", Premod = "premod", Reject = "reject" }

    /// What a link does to a comment of one article: what the content rules say (`inherit`), or
    /// for this article `allow`, `premod` (held for review) or `reject`.
    ArticleLinkPolicy "article link policy" { Inherit = "inherit", Allow = "allow", Premod = "premod", Reject = "reject" }

    /// Why the content rules refuse a comment (`details.rule` of `comment_rejected`).
    RejectRule "rejection rule" { BannedWord = "banned_word", RepeatPost = "repeat_post", Links = "links" }

    /// Why a new or edited comment is held for review (a detection's `rule`).
    HoldReason "hold reason" { SuspectWord = "suspect_word", Links = "links", PremodArticle = "premod_article", PremodAuthor = "premod_author", NewAuthor = "new_author", History = "history" }

    /// What moderation lets an author do: post (`active`), post into review (`premod`), nothing
    /// until `until` (`suspended`), or nothing (`banned`).
    AuthorStatus "author status" { Active = "active", Premod = "premod", Suspended = "suspended", Banned = "banned" }

    /// What a decision did to a comment: a moderator's `approve`, `hide` or `delete`, or the
    /// content rules' `hold` (automated).
    DecidedAction "decided action" { Approve = "approve", Hide = "hide", Delete = "delete", Hold = "hold" }

    /// On what a restriction rests: the site's terms (`terms`) or the law (`illegal`).
    Ground "ground" { Terms = "terms", Illegal = "illegal" }

    /// What kind of content a restriction is about.
    Category "category" { Insult = "insult", Hate = "hate", Spam = "spam", Threat = "threat", Privacy = "privacy", OffTopic = "off_topic", Misinformation = "misinformation", Other = "other" }

    /// Where an appeal stands: `open`, `upheld` (the decision stands) or `reversed`.
    AppealStatus "appeal status" { Open = "open", Upheld = "upheld", Reversed = "reversed", Withdrawn = "withdrawn" }

    /// Whether a flag was decided (what the website tells the reporter).
    FlagStatus "flag status" { Open = "open", Decided = "decided" }

    /// Which items the moderation queue lists (`all` by default).
    QueueKind "queue kind" { All = "all", Flagged = "flagged", Held = "held", Illegal = "illegal", Appeal = "appeal" }
}

impl From<CommentStatus> for ShownStatus {
    fn from(status: CommentStatus) -> ShownStatus {
        match status {
            CommentStatus::Visible => ShownStatus::Visible,
            CommentStatus::PendingReview => ShownStatus::PendingReview,
            CommentStatus::Hidden => ShownStatus::Hidden,
            CommentStatus::Deleted => ShownStatus::Deleted,
        }
    }
}

impl From<ModerationAction> for LogAction {
    fn from(action: ModerationAction) -> LogAction {
        match action {
            ModerationAction::Approve => LogAction::Approve,
            ModerationAction::Hide => LogAction::Hide,
            ModerationAction::Delete => LogAction::Delete,
        }
    }
}

impl ModerationAction {
    /// The status a decision puts a comment in.
    pub fn target_status(self) -> CommentStatus {
        match self {
            ModerationAction::Approve => CommentStatus::Visible,
            ModerationAction::Hide => CommentStatus::Hidden,
            ModerationAction::Delete => CommentStatus::Deleted,
        }
    }
}

impl From<ModerationAction> for DecidedAction {
    fn from(action: ModerationAction) -> DecidedAction {
        match action {
            ModerationAction::Approve => DecidedAction::Approve,
            ModerationAction::Hide => DecidedAction::Hide,
            ModerationAction::Delete => DecidedAction::Delete,
        }
    }
}

impl ArticleLinkPolicy {
    /// The link rule this article puts in place of the content rules' (none for `inherit`).
    pub fn overriding(self) -> Option<LinkPolicy> {
        match self {
            ArticleLinkPolicy::Inherit => None,
            ArticleLinkPolicy::Allow => Some(LinkPolicy::Allow),
            ArticleLinkPolicy::Premod => Some(LinkPolicy::Premod),
            ArticleLinkPolicy::Reject => Some(LinkPolicy::Reject),
        }
    }
}

impl From<AuthorStatus> for LogAction {
    fn from(status: AuthorStatus) -> LogAction {
        match status {
            AuthorStatus::Active => LogAction::AuthorActive,
            AuthorStatus::Premod => LogAction::AuthorPremod,
            AuthorStatus::Suspended => LogAction::AuthorSuspended,
            AuthorStatus::Banned => LogAction::AuthorBanned,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T>(all: &[T])
    where
        T: Copy
            + std::fmt::Debug
            + PartialEq
            + std::str::FromStr
            + std::fmt::Display
            + serde::Serialize,
        <T as std::str::FromStr>::Err: std::fmt::Debug,
    {
        for v in all {
            let name = v.to_string();
            assert_eq!(name.parse::<T>().unwrap(), *v);
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(name));
        }
    }

    #[test]
    fn every_value_round_trips_through_its_name_and_json() {
        macro_rules! each {
            ($($t:ty),+) => { $( round_trips(<$t>::ALL); )+ };
        }
        each!(
            CommentStatus,
            ShownStatus,
            DiscussionStatus,
            ClosedReason,
            FlagReason
        );
        each!(
            ModerationAction,
            LogAction,
            Via,
            NotificationKind,
            NotificationStatus
        );
        each!(CommentOrder, DiscussionAction, EventType, EventStatus);
        each!(LinkPolicy, ArticleLinkPolicy, RejectRule, HoldReason);
    }

    #[test]
    fn unknown_names_are_errors_not_defaults() {
        let err = "Visible".parse::<CommentStatus>().unwrap_err();
        assert_eq!(err.to_string(), "`Visible` is not a comment status");
        assert!("".parse::<NotificationStatus>().is_err());
        assert!("rude".parse::<FlagReason>().is_err());
    }

    #[test]
    fn decisions_map_to_statuses_and_log_actions() {
        assert_eq!(
            ModerationAction::Approve.target_status(),
            CommentStatus::Visible
        );
        assert_eq!(
            ModerationAction::Hide.target_status(),
            CommentStatus::Hidden
        );
        assert_eq!(
            ModerationAction::Delete.target_status(),
            CommentStatus::Deleted
        );
        assert_eq!(LogAction::from(ModerationAction::Hide), LogAction::Hide);
    }
}
