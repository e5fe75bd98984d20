//! Legal duties (EU Digital Services Act, GDPR): statements of reasons, appeals and notices.
//!
//! - `decisions`: every decision that changed what readers see of a comment, with its statement
//!   of reasons (ground, category, explanation, legal reference), whether it was automated (the
//!   content rules held the comment) and, for the transparency report, when the flags and the
//!   first notice of illegal content that it answered came in.
//! - `appeals`: an author contests a restricting decision, once per decision, within 6 months.
//! - `flags.reporter_email`, `.legal_reference` (what a notice may carry) and `.decision_id` (what
//!   the reporter is told); `comments.due_at` (the deadline of an undecided notice),
//!   `.reminded` (its one reminder went out) and `.appeal_open`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::util::{add_column, create_table, drop_columns, drop_tables, execute_all};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(
            manager,
            Table::create()
                .table("decisions")
                .col(big_pk_auto("id"))
                .col(big_integer("comment_id"))
                .col(text("action"))
                .col(text_null("ground"))
                .col(text_null("category"))
                .col(text_null("explanation"))
                .col(text_null("legal_reference"))
                .col(boolean("automated").default(false))
                .col(text_null("moderator"))
                .col(text_null("via"))
                .col(timestamp_with_time_zone("decided_at"))
                .col(timestamp_with_time_zone_null("first_flag_at"))
                .col(timestamp_with_time_zone_null("first_notice_at"))
                .col(big_integer_null("appeal_id")),
        )
        .await?;
        create_table(
            manager,
            Table::create()
                .table("appeals")
                .col(big_pk_auto("id"))
                .col(big_integer("comment_id"))
                .col(big_integer("decision_id").unique_key())
                .col(text("author_id"))
                .col(text("text"))
                .col(text("status"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(text_null("decided_by")),
        )
        .await?;
        add_column(manager, "flags", text_null("reporter_email")).await?;
        add_column(manager, "flags", text_null("legal_reference")).await?;
        add_column(manager, "flags", big_integer_null("decision_id")).await?;
        add_column(manager, "comments", timestamp_with_time_zone_null("due_at")).await?;
        add_column(manager, "comments", boolean("reminded").default(false)).await?;
        add_column(manager, "comments", boolean("appeal_open").default(false)).await?;
        execute_all(
            manager,
            &[
                // A comment's statement: its latest decision.
                "CREATE INDEX idx_decisions_comment ON decisions (comment_id, id)",
                // The transparency report: decisions of a period.
                "CREATE INDEX idx_decisions_decided_at ON decisions (decided_at)",
                // The transparency report: flags of a period.
                "CREATE INDEX idx_flags_created_at ON flags (created_at)",
                // What a reporter filed (export, erasure).
                "CREATE INDEX idx_flags_reporter ON flags (reporter_id)",
                "CREATE INDEX idx_appeals_comment ON appeals (comment_id, id)",
                "CREATE INDEX idx_appeals_author ON appeals (author_id)",
                // The reminder job: undecided notices by deadline.
                "CREATE INDEX idx_comments_due ON comments (due_at) WHERE due_at IS NOT NULL",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        execute_all(
            manager,
            &[
                "DROP INDEX idx_comments_due",
                "DROP INDEX idx_flags_reporter",
                "DROP INDEX idx_flags_created_at",
            ],
        )
        .await?;
        drop_columns(manager, "comments", &["appeal_open", "reminded", "due_at"]).await?;
        drop_columns(
            manager,
            "flags",
            &["decision_id", "legal_reference", "reporter_email"],
        )
        .await?;
        drop_tables(manager, &["appeals", "decisions"]).await
    }
}
