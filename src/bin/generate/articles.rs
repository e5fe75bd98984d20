//! Articles, topics and comments: the bulk of the generated data.

use chrono::{DateTime, Duration, Utc};
use comment_service::config::Settings;
use comment_service::domain::lifecycle;
use comment_service::domain::states::{ClosedReason, CommentStatus};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

use crate::flags::GeneratedFlags;
use crate::sql::{BATCH, Inserter, begin, ts};

/// What to generate.
pub struct Plan {
    pub articles: u64,
    pub comments: u64,
    pub topics: u64,
    /// Comments (all top-level) of one extra open article `gen-big`, taken from `comments`, for
    /// measuring deep pages.
    pub big: u64,
    /// Flags spread over the year before now, on the generated comments, with what moderation
    /// made of them (see [`flags`](crate::flags::flags)).
    pub flags: u64,
}

/// What was generated.
pub struct Generated {
    pub articles: u64,
    pub comments: u64,
    /// The `newest` cursor 10,000 pages of 50 into `gen-big` (when it has that many comments).
    pub deep_cursor: Option<String>,
    /// Flags, decisions, appeals and audit-log entries.
    pub flags: Option<GeneratedFlags>,
}

/// Generates `plan` into `db`: article ids `gen-0`…, topics `topic-0`…; about one in ten articles
/// is past the age limit; one in five comments is a reply.
pub async fn run(
    db: &DatabaseConnection,
    settings: &Settings,
    plan: Plan,
    now: DateTime<Utc>,
) -> Result<Generated, DbErr> {
    let backend = db.get_database_backend();
    // Whether the rows carry their counts (PostgreSQL, triggers off) or the triggers count.
    let counted = backend == DbBackend::Postgres;
    let txn = begin(db).await?;
    let mut topics = Inserter::new(
        &txn,
        "INSERT INTO topics (slug, name, overview_url, created_at, updated_at)",
    );
    for t in 0..plan.topics.max(1) {
        topics
            .push(format!(
                "('topic-{t}', 'Thema {t}', 'https://www.krone.at/thema-{t}', {now}, {now})",
                now = ts(backend, now)
            ))
            .await?;
    }
    topics.flush().await?;
    txn.commit().await?;

    let start_id: i64 = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT COALESCE(MAX(id), 0) AS m FROM comments",
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "m"))
        .transpose()?
        .unwrap_or(0);
    let big = plan.big.min(plan.comments);
    let spread = plan.comments - big;
    let per_article = spread.checked_div(plan.articles).unwrap_or(0);
    let mut extra = spread.checked_rem(plan.articles).unwrap_or(0);
    let mut next_id = start_id + 1;
    let mut written = 0u64;
    let mut deep_cursor = None;
    let span_minutes = 17 * 30 * 24 * 60;
    let mut txn = begin(db).await?;
    let mut articles = Inserter::new(
        &txn,
        "INSERT INTO articles (id, title, url, topic, published_at, closes_at, closed_at, closed_reason, comment_count, created_at, updated_at)",
    );
    let mut comments_sql: Vec<String> = Vec::new();
    for a in 0..plan.articles {
        // Newest first: gen-0 is the newest; one in ten is older than the age limit.
        let published = if a % 10 == 9 {
            now - Duration::days(600 + (a % 400) as i64)
        } else {
            now - Duration::minutes(((a * 7919) % span_minutes) as i64 + 60)
        };
        let published = chrono::SubsecRound::trunc_subsecs(published, 0);
        let closes_at = lifecycle::closes_at(
            published,
            settings.lifecycle.close_after_months,
            settings.lifecycle.newsroom_timezone,
        );
        let (closed_at, reason) = if closes_at <= now {
            (
                ts(backend, closes_at),
                format!("'{}'", ClosedReason::Expired),
            )
        } else {
            ("NULL".to_string(), "NULL".to_string())
        };
        let count = per_article
            + if extra > 0 {
                extra -= 1;
                1
            } else {
                0
            };
        // Comments of this article: every fifth is a reply to an earlier top-level comment.
        let mut thread: Vec<(i64, Option<i64>, i64)> = Vec::with_capacity(count as usize);
        let mut top_level: Vec<usize> = Vec::new();
        for j in 0..count {
            let id = next_id;
            next_id += 1;
            let parent = if j % 5 == 4 && !top_level.is_empty() {
                let index = top_level[(j as usize * 31) % top_level.len()];
                thread[index].2 += 1;
                Some(thread[index].0)
            } else {
                top_level.push(thread.len());
                None
            };
            thread.push((id, parent, 0));
        }
        for (j, (id, parent, replies)) in thread.iter().enumerate() {
            let replies = if counted { *replies } else { 0 };
            let created = published + Duration::seconds(j as i64 * 37 + 1);
            comments_sql.push(format!(
                "({id}, 'gen-{a}', {parent}, 'user-{user}', 'Leser {user}', 'Kommentar {j} zu Artikel {a}: Das ist ein typischer Beitrag mit etwas Text, wie er unter Artikeln steht.', '{visible}', {replies}, 0, NULL, {created}, NULL)",
                visible = CommentStatus::Visible,
                parent = parent.map(|p| p.to_string()).unwrap_or_else(|| "NULL".into()),
                user = (id * 7) % 50_000,
                created = ts(backend, created),
            ));
        }
        articles
            .push(format!(
                "('gen-{a}', 'Artikel {a}', 'https://www.krone.at/gen-{a}', 'topic-{topic}', {published}, {closes}, {closed_at}, {reason}, {total}, {now}, {now})",
                total = if counted { count } else { 0 },
                topic = a % plan.topics.max(1),
                published = ts(backend, published),
                closes = ts(backend, closes_at),
                now = ts(backend, now),
            ))
            .await?;
        if comments_sql.len() >= 20 * BATCH || a + 1 == plan.articles {
            articles.flush().await?;
            for chunk in comments_sql.chunks(BATCH) {
                let sql = format!(
                    "INSERT INTO comments (id, article_id, parent_id, author_id, author_name, body, status, reply_count, flag_count, first_flag_at, created_at, edited_at) VALUES {}",
                    chunk.join(",")
                );
                txn.execute_raw(Statement::from_string(backend, sql))
                    .await?;
            }
            written += comments_sql.len() as u64;
            comments_sql.clear();
            drop(articles);
            txn.commit().await?;
            txn = begin(db).await?;
            articles = Inserter::new(
                &txn,
                "INSERT INTO articles (id, title, url, topic, published_at, closes_at, closed_at, closed_reason, comment_count, created_at, updated_at)",
            );
        }
    }
    articles.flush().await?;
    drop(articles);
    txn.commit().await?;
    // The big article comes last, so its comments have the newest ids, as the most-discussed
    // article's would.
    if big > 0 {
        let first_big_id = next_id;
        let published = chrono::SubsecRound::trunc_subsecs(now - Duration::days(1), 0);
        let closes_at = lifecycle::closes_at(
            published,
            settings.lifecycle.close_after_months,
            settings.lifecycle.newsroom_timezone,
        );
        let txn = begin(db).await?;
        txn.execute_raw(Statement::from_string(
            backend,
            format!(
                "INSERT INTO articles (id, title, url, topic, published_at, closes_at, closed_at, closed_reason, comment_count, created_at, updated_at) \
                 VALUES ('gen-big', 'Großer Artikel', 'https://www.krone.at/gen-big', 'topic-0', {p}, {c}, NULL, NULL, {count}, {n}, {n})",
                count = if counted { big } else { 0 },
                p = ts(backend, published),
                c = ts(backend, closes_at),
                n = ts(backend, now)
            ),
        ))
        .await?;
        let mut rows = Inserter::new(
            &txn,
            "INSERT INTO comments (id, article_id, parent_id, author_id, author_name, body, status, reply_count, flag_count, first_flag_at, created_at, edited_at)",
        );
        for j in 0..big {
            let id = next_id;
            next_id += 1;
            rows.push(format!(
                "({id}, 'gen-big', NULL, 'user-{u}', 'Leser {u}', 'Kommentar {j} zum großen Artikel: ein typischer Beitrag mit etwas Text.', '{visible}', 0, 0, NULL, {t}, NULL)",
                visible = CommentStatus::Visible,
                u = (id * 7) % 50_000,
                t = ts(backend, published + Duration::milliseconds(j as i64 * 100)),
            ))
            .await?;
        }
        rows.flush().await?;
        drop(rows);
        txn.commit().await?;
        written += big;
        // Newest first: page 10,001 starts after the 500,000 newest comments.
        if big > 500_000 {
            let last_of_page_10000 = first_big_id + big as i64 - 500_000;
            deep_cursor = Some(comment_service::api::pagination::encode(
                "n",
                &[last_of_page_10000],
            ));
        }
    }

    let flags = if plan.flags > 0 && written > 0 {
        let flags = crate::flags::flags(db, start_id + 1, written, plan.flags, now).await?;
        // Without statistics on the new rows the planner joins every author's comments with all
        // the flags in the statement below (minutes instead of seconds for a million flags).
        db.execute_unprepared("ANALYZE").await?;
        Some(flags)
    } else {
        None
    };

    // The authors of the generated comments, as if they had posted them (on SQLite the trigger
    // counted them already).
    if counted {
        db.execute_unprepared(migration::AUTHORS_FROM_COMMENTS)
            .await?;
    }
    if backend == DbBackend::Postgres {
        db.execute_unprepared("SELECT setval(pg_get_serial_sequence('comments', 'id'), (SELECT COALESCE(MAX(id), 1) FROM comments))")
            .await?;
        db.execute_unprepared("ANALYZE").await?;
    } else {
        db.execute_unprepared("ANALYZE").await?;
    }
    Ok(Generated {
        articles: plan.articles + u64::from(big > 0),
        comments: written,
        deep_cursor,
        flags,
    })
}
