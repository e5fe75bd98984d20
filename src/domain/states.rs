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

/// Defines a closed set of wire names as an enum with its parser, serde form, OpenAPI schema and
/// database column type.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($kind:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $value:tt, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema, sea_orm::DeriveValueType,
        )]
        #[sea_orm(value_type = "String")]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $value)] $variant, )+
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

            /// The wire names, for messages such as "must be one of ...".
            pub fn names() -> String {
                [$($value),+].map(|v| format!("`{v}`")).join(", ")
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

wire_enum! {
    /// Who can see a comment: `visible`, `pending_review` (hidden until a moderator decides),
    /// `hidden` or `deleted`.
    pub enum CommentStatus ("comment status") {
        Visible = "visible",
        /// Hidden until a moderator decides (reached the flag threshold).
        PendingReview = "pending_review",
        Hidden = "hidden",
        Deleted = "deleted",
    }
}

wire_enum! {
    /// A comment's status as a caller sees it: `visible`, `pending_review` (hidden until a
    /// moderator decides), `hidden` or `deleted`; service tokens see a comment that is not
    /// visible as `removed`, without body and author.
    pub enum ShownStatus ("shown comment status") {
        Visible = "visible",
        PendingReview = "pending_review",
        Hidden = "hidden",
        Deleted = "deleted",
        Removed = "removed",
    }
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

wire_enum! {
    /// Whether readers may write to a discussion at the time of the request.
    pub enum DiscussionStatus ("discussion status") {
        Open = "open",
        Closed = "closed",
    }
}

wire_enum! {
    /// Why a discussion is closed.
    pub enum ClosedReason ("closed reason") {
        /// The article passed the age limit.
        Expired = "expired",
        /// A moderator closed it.
        Moderator = "moderator",
    }
}

wire_enum! {
    /// Why a reader flags a comment; `other` needs a note.
    pub enum FlagReason ("flag reason") {
        Spam = "spam",
        Abuse = "abuse",
        OffTopic = "off_topic",
        Illegal = "illegal",
        Misinformation = "misinformation",
        Other = "other",
    }
}

wire_enum! {
    /// A moderator's decision on a comment.
    pub enum ModerationAction ("moderation action") {
        Approve = "approve",
        Hide = "hide",
        Delete = "delete",
    }
}

wire_enum! {
    /// What a moderator did, as the audit log records it.
    pub enum LogAction ("logged action") {
        Approve = "approve",
        Hide = "hide",
        Delete = "delete",
        CloseDiscussion = "close_discussion",
        ReopenDiscussion = "reopen_discussion",
    }
}

wire_enum! {
    /// How a moderator acted: through the API or an emailed action link.
    pub enum Via ("way of acting") {
        Api = "api",
        Email = "email",
    }
}

wire_enum! {
    /// Which email the community team gets: `flagged` when the flags reached
    /// `FLAG_NOTIFY_THRESHOLD`; `pending_review` when they reached `FLAG_HIDE_THRESHOLD` and the
    /// comment is hidden until a decision.
    pub enum NotificationKind ("notification kind") {
        /// The unresolved flags reached `FLAG_NOTIFY_THRESHOLD`; the comment is still visible.
        Flagged = "flagged",
        /// The unresolved flags reached `FLAG_HIDE_THRESHOLD`; the comment is now `pending_review`.
        PendingReview = "pending_review",
    }
}

wire_enum! {
    /// Delivery state of a notification in the outbox.
    pub enum NotificationStatus ("notification status") {
        Pending = "pending",
        Sent = "sent",
        Failed = "failed",
    }
}

wire_enum! {
    /// Sort order of an article's top-level comments (default `newest`).
    pub enum CommentOrder ("comment order") {
        Newest = "newest",
        Oldest = "oldest",
    }
}

wire_enum! {
    /// What a moderator does to a discussion: close it now, or reopen it.
    pub enum DiscussionAction ("discussion action") {
        Close = "close",
        Reopen = "reopen",
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
        round_trips(CommentStatus::ALL);
        round_trips(ShownStatus::ALL);
        round_trips(DiscussionStatus::ALL);
        round_trips(ClosedReason::ALL);
        round_trips(FlagReason::ALL);
        round_trips(ModerationAction::ALL);
        round_trips(LogAction::ALL);
        round_trips(Via::ALL);
        round_trips(NotificationKind::ALL);
        round_trips(NotificationStatus::ALL);
        round_trips(CommentOrder::ALL);
        round_trips(DiscussionAction::ALL);
    }

    #[test]
    fn unknown_names_are_errors_not_defaults() {
        let err = "Visible".parse::<CommentStatus>().unwrap_err();
        assert_eq!(err.to_string(), "`Visible` is not a comment status");
        assert!("".parse::<NotificationStatus>().is_err());
        assert!("rude".parse::<FlagReason>().is_err());
        assert_eq!(
            FlagReason::names(),
            "`spam`, `abuse`, `off_topic`, `illegal`, `misinformation`, `other`"
        );
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
