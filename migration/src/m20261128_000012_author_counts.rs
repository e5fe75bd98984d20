//! The database counts each new comment on its author's record in the insert itself (creating
//! the record on an author's first comment and keeping their latest name), as it counts visible
//! comments on articles: the post's write transaction needs no statement of its own for it.
//! Status changes are counted by the service, in their transactions.

use sea_orm_migration::prelude::*;

use crate::util::execute_by_backend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Counts the new comment on its author's record (creating it on their first).
const COUNT_ON_AUTHOR: &str =
    "INSERT INTO authors (id, name, first_seen_at, comments, visible, held, approved_or_visible)
   VALUES (NEW.author_id, NEW.author_name, NEW.created_at, 1,
           CASE WHEN NEW.status = 'visible' THEN 1 ELSE 0 END,
           CASE WHEN NEW.status = 'pending_review' THEN 1 ELSE 0 END,
           CASE WHEN NEW.status = 'visible' THEN 1 ELSE 0 END)
   ON CONFLICT (id) DO UPDATE SET name = excluded.name, comments = authors.comments + 1,
     visible = authors.visible + excluded.visible, held = authors.held + excluded.held,
     approved_or_visible = authors.approved_or_visible + excluded.approved_or_visible;";

fn sqlite_up() -> String {
    format!(
        "CREATE TRIGGER comments_author_after_insert AFTER INSERT ON comments
         BEGIN
           {COUNT_ON_AUTHOR}
         END"
    )
}

fn postgres_up() -> [String; 2] {
    [
        format!(
            "CREATE FUNCTION comments_author_count() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
               {COUNT_ON_AUTHOR}
               RETURN NULL;
             END $$"
        ),
        "CREATE TRIGGER comments_author_after_insert AFTER INSERT ON comments
         FOR EACH ROW EXECUTE FUNCTION comments_author_count()"
            .to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_by_backend(manager, &postgres_up(), &[sqlite_up()]).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_by_backend(
            manager,
            &[
                "DROP TRIGGER comments_author_after_insert ON comments",
                "DROP FUNCTION comments_author_count()",
            ],
            &["DROP TRIGGER comments_author_after_insert"],
        )
        .await
    }
}
