use sea_orm::entity::prelude::*;

use crate::domain::states::CommentStatus;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "comments")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub article_id: String,
    pub parent_id: Option<i64>,
    pub author_id: String,
    pub author_name: String,
    pub body: String,
    pub status: CommentStatus,
    /// Replies the public can see.
    pub reply_count: i64,
    /// Unresolved flags.
    pub flag_count: i64,
    pub first_flag_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub edited_at: Option<DateTimeUtc>,
    /// Ends with every moderator decision; an emailed action link acts only in its round.
    pub review_round: i64,
    /// The author deleted the comment: it can never be restored.
    pub deleted_by_author: bool,
    /// Why the content rules held the comment (JSON list of detections), if they did.
    pub detections: Option<String>,
    /// A moderator approved the comment (it counts toward `new_author_premod`).
    pub approved: bool,
    /// An undecided notice of illegal content must be decided by then.
    pub due_at: Option<DateTimeUtc>,
    /// The notice's one reminder went out.
    pub reminded: bool,
    /// The author contests the latest decision.
    pub appeal_open: bool,
    /// An editors' pick.
    pub featured: bool,
    /// The author's labels when they posted it ([`crate::domain::comment::Badges`]).
    pub author_badges: String,
}

impl ActiveModelBehavior for ActiveModel {}
