//! Readers' reactions in the live stream: a trigger adds a `reactions` row to `live_events` for
//! every reaction given or taken back (the stream sends the comment's new count, at most once a
//! second per comment). Erasing a reader's reactions deletes them by reader and, like every
//! delete, tells the stream too.

use sea_orm_migration::prelude::*;

use crate::util::execute_by_backend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The row of the reaction `r` (`NEW` or `OLD`).
fn insert(r: &str) -> String {
    format!(
        "INSERT INTO live_events (article_id, kind, comment_id) \
         SELECT article_id, 'reactions', id FROM comments WHERE id = {r}.comment_id"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_by_backend(
            manager,
            &[
                format!(
                    "CREATE FUNCTION live_reaction_events() RETURNS trigger LANGUAGE plpgsql AS $$
                     BEGIN
                       IF TG_OP = 'INSERT' THEN {}; ELSE {}; END IF;
                       PERFORM pg_notify('live_events', '');
                       RETURN NULL;
                     END $$",
                    insert("NEW"),
                    insert("OLD")
                ),
                "CREATE TRIGGER live_reaction_events AFTER INSERT OR DELETE ON reactions
                 FOR EACH ROW EXECUTE FUNCTION live_reaction_events()"
                    .to_owned(),
            ],
            &[
                format!(
                    "CREATE TRIGGER live_reaction_added AFTER INSERT ON reactions BEGIN {}; END",
                    insert("NEW")
                ),
                format!(
                    "CREATE TRIGGER live_reaction_taken_back AFTER DELETE ON reactions BEGIN {}; END",
                    insert("OLD")
                ),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_by_backend(
            manager,
            &[
                "DROP TRIGGER live_reaction_events ON reactions",
                "DROP FUNCTION live_reaction_events()",
            ],
            &[
                "DROP TRIGGER live_reaction_added",
                "DROP TRIGGER live_reaction_taken_back",
            ],
        )
        .await
    }
}
