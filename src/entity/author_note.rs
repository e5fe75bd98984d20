use sea_orm::entity::prelude::*;

/// What a moderator noted about an author id.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "author_notes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub author_id: String,
    /// The name of the moderator's token.
    pub moderator: String,
    pub text: String,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
