//! `comment-service generate`: fills a database with articles and comments quickly (multi-row
//! inserts in large transactions), for benchmarks and load tests.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
    TransactionTrait,
};

use crate::config::Settings;
use crate::domain::lifecycle;
use crate::domain::states::{
    AppealStatus, Category, ClosedReason, CommentStatus, DecidedAction, FlagReason, Ground,
    LogAction, Via,
};

/// What to generate.
pub struct Plan {
    pub articles: u64,
    pub comments: u64,
    pub topics: u64,
    /// Comments (all top-level) of one extra open article `gen-big`, taken from `comments`, for
    /// measuring deep pages.
    pub big: u64,
    /// Flags spread over the year before now, on the generated comments, with what moderation
    /// made of them (see [`flags`]).
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

const BATCH: usize = 1000;

/// A transaction for bulk inserts. On PostgreSQL the counting triggers are switched off for it
/// (one article's count updated half a million times in one transaction is quadratic there) and
/// the generator writes the counts itself; this needs a superuser. On SQLite the triggers count.
async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let txn = db.begin().await?;
    if db.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("SET LOCAL session_replication_role = replica")
            .await
            .map_err(|e| {
                DbErr::Custom(format!("the generator needs a PostgreSQL superuser: {e}"))
            })?;
    }
    Ok(txn)
}

fn ts(backend: DbBackend, t: DateTime<Utc>) -> String {
    // The textual form sqlx writes for SQLite, so generated rows compare like written ones.
    match backend {
        DbBackend::Sqlite => format!("'{}'", t.to_rfc3339_opts(SecondsFormat::AutoSi, false)),
        _ => format!(
            "'{}'::timestamptz",
            t.to_rfc3339_opts(SecondsFormat::Micros, true)
        ),
    }
}

struct Inserter<'a, C: ConnectionTrait> {
    db: &'a C,
    head: &'static str,
    rows: Vec<String>,
}

impl<'a, C: ConnectionTrait> Inserter<'a, C> {
    fn new(db: &'a C, head: &'static str) -> Self {
        Inserter {
            db,
            head,
            rows: Vec::with_capacity(BATCH),
        }
    }

    async fn push(&mut self, row: String) -> Result<(), DbErr> {
        self.rows.push(row);
        if self.rows.len() >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), DbErr> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let sql = format!("{} VALUES {}", self.head, self.rows.join(","));
        self.rows.clear();
        self.db
            .execute_raw(Statement::from_string(self.db.get_database_backend(), sql))
            .await?;
        Ok(())
    }
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
            deep_cursor = Some(crate::api::pagination::encode("n", &[last_of_page_10000]));
        }
    }

    let flags = if plan.flags > 0 && written > 0 {
        let flags = self::flags(db, start_id + 1, written, plan.flags, now).await?;
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

/// What [`flags`] wrote.
pub struct GeneratedFlags {
    pub flags: u64,
    pub decisions: u64,
    pub appeals: u64,
    pub log_entries: u64,
}

/// Rows of several tables, inserted together in one transaction in statements of `BATCH` rows.
#[derive(Default)]
struct Rows {
    flags: Vec<String>,
    decisions: Vec<String>,
    appeals: Vec<String>,
    log: Vec<String>,
}

impl Rows {
    fn len(&self) -> usize {
        self.flags.len() + self.decisions.len() + self.appeals.len() + self.log.len()
    }

    async fn write(&mut self, db: &DatabaseConnection) -> Result<(), DbErr> {
        let backend = db.get_database_backend();
        let txn = begin(db).await?;
        for (head, rows) in [
            (
                "INSERT INTO flags (comment_id, reporter_id, reason, note, created_at, resolved_at, reporter_email, legal_reference, decision_id)",
                &mut self.flags,
            ),
            (
                "INSERT INTO decisions (id, comment_id, action, ground, category, explanation, legal_reference, automated, moderator, via, decided_at, first_flag_at, first_notice_at, appeal_id)",
                &mut self.decisions,
            ),
            (
                "INSERT INTO appeals (id, comment_id, decision_id, author_id, text, status, created_at, decided_at, decided_by)",
                &mut self.appeals,
            ),
            (
                "INSERT INTO moderation_log (at, moderator, action, comment_id, article_id, note, via, author_id, details)",
                &mut self.log,
            ),
        ] {
            for chunk in rows.chunks(BATCH) {
                txn.execute_raw(Statement::from_string(
                    backend,
                    format!("{head} VALUES {}", chunk.join(",")),
                ))
                .await?;
            }
            rows.clear();
        }
        txn.commit().await
    }
}

/// A number from 0 to 99 that looks random but is the same on every run.
fn pick(a: u64, b: u64) -> u64 {
    let mut x = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    x % 100
}

fn quoted(value: Option<&str>) -> String {
    value.map_or_else(|| "NULL".to_string(), |v| format!("'{v}'"))
}

/// Writes `count` flags spread evenly over the year before `now` on comments from `first` on
/// (`comments` of them), one to three flags per comment, reasons mixed (about one in twelve a
/// notice of illegal content). Nine in ten flagged comments get a moderator's decision between
/// five minutes and three days after their last flag (notices within a day) that resolves their
/// flags, with a ground and category when it restricts; every tenth stays open in the queue.
/// One comment per ten flagged ones is held by the content rules (an automated `hold`); one in eight
/// restricting decisions is appealed (half upheld, a quarter reversed, a quarter open). Every
/// manual decision has its audit-log entry, and one author per 1,000 flagged comments is suspended, banned,
/// put on premod or set active again. Comments keep their status (the rows are for the
/// transparency report and the queue); the authors' records, written after, count the flags.
pub async fn flags(
    db: &DatabaseConnection,
    first: i64,
    comments: u64,
    count: u64,
    now: DateTime<Utc>,
) -> Result<GeneratedFlags, DbErr> {
    let backend = db.get_database_backend();
    let next_id = |table: &'static str| async move {
        let row = db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COALESCE(MAX(id), 0) AS m FROM {table}"),
            ))
            .await?;
        Ok::<i64, DbErr>(
            row.map(|r| r.try_get::<i64>("", "m"))
                .transpose()?
                .unwrap_or(0)
                + 1,
        )
    };
    let mut decision_id = next_id("decisions").await?;
    let mut appeal_id = next_id("appeals").await?;
    let year = Duration::days(365);
    let start = now - year;
    // Comments with 1, 2 or 3 flags: two per comment on average.
    let flagged = count.div_ceil(2).max(1);
    let step = year.num_seconds() as f64 / flagged as f64;
    let t = |s: f64| start + Duration::milliseconds((s * 1000.0) as i64);
    let comment_of = |j: u64| first + (j % comments) as i64;
    let author_of = |id: i64| format!("user-{}", (id * 7) % 50_000);
    let mut rows = Rows::default();
    let mut written = GeneratedFlags {
        flags: 0,
        decisions: 0,
        appeals: 0,
        log_entries: 0,
    };
    let mut j = 0u64;
    while written.flags < count {
        let comment_id = comment_of(j);
        let first_at = t(j as f64 * step);
        let n = (1 + j % 3).min(count - written.flags);
        let reasons: Vec<FlagReason> = (0..n)
            .map(|i| match pick(j, i) {
                0..35 => FlagReason::Spam,
                35..70 => FlagReason::Abuse,
                70..80 => FlagReason::OffTopic,
                80..88 => FlagReason::Illegal,
                88..95 => FlagReason::Misinformation,
                _ => FlagReason::Other,
            })
            .collect();
        let times: Vec<DateTime<Utc>> = (0..n)
            .map(|i| first_at + Duration::minutes(i as i64 * 17))
            .collect();
        let notice_at = reasons
            .iter()
            .zip(&times)
            .find(|(r, _)| **r == FlagReason::Illegal)
            .map(|(_, t)| *t);
        let delay = match notice_at {
            Some(_) => 5 + (pick(j, 7) * 14) as i64,
            None => 5 + (pick(j, 8) * 43) as i64,
        };
        let decided_at = times[times.len() - 1] + Duration::minutes(delay);
        let decision = (!j.is_multiple_of(10) && decided_at <= now).then(|| {
            let id = decision_id;
            decision_id += 1;
            id
        });
        for (i, (reason, at)) in reasons.iter().zip(&times).enumerate() {
            let illegal = *reason == FlagReason::Illegal;
            rows.flags.push(format!(
                "({comment_id}, 'reader-{j}-{i}', '{reason}', {note}, {at}, {resolved}, {email}, {law}, {decision})",
                note = quoted(illegal.then_some("Verhetzung gegen eine Volksgruppe")),
                at = ts(backend, *at),
                resolved = decision.map_or("NULL".into(), |_| ts(backend, decided_at)),
                email = quoted(illegal.then_some("leser@example.com")),
                law = quoted(illegal.then_some("§ 283 StGB")),
                decision = decision.map_or("NULL".into(), |d| d.to_string()),
            ));
        }
        written.flags += n;
        if let Some(id) = decision {
            let action = match pick(j, 9) {
                0..40 => DecidedAction::Approve,
                40..75 => DecidedAction::Hide,
                _ => DecidedAction::Delete,
            };
            let restricts = action != DecidedAction::Approve;
            let ground = match (restricts, notice_at) {
                (false, _) => None,
                (true, Some(_)) if pick(j, 10) < 70 => Some(Ground::Illegal),
                (true, _) => Some(Ground::Terms),
            };
            let category = restricts.then(|| match reasons[0] {
                FlagReason::Spam => Category::Spam,
                FlagReason::Abuse if pick(j, 11) < 70 => Category::Insult,
                FlagReason::Abuse => Category::Hate,
                FlagReason::OffTopic => Category::OffTopic,
                FlagReason::Illegal if pick(j, 11) < 50 => Category::Hate,
                FlagReason::Illegal => Category::Threat,
                FlagReason::Misinformation => Category::Misinformation,
                FlagReason::Other => Category::Other,
            });
            let moderator = format!("mod-{}", j % 7);
            let via = if j.is_multiple_of(3) {
                Via::Email
            } else {
                Via::Api
            };
            rows.decisions.push(format!(
                "({id}, {comment_id}, '{action}', {ground}, {category}, {explanation}, {law}, FALSE, '{moderator}', '{via}', {decided}, {first}, {notice}, NULL)",
                ground = quoted(ground.map(Ground::as_str)),
                category = quoted(category.map(Category::as_str)),
                explanation = quoted(restricts.then_some("Verstößt gegen die Community-Richtlinien")),
                law = quoted((ground == Some(Ground::Illegal)).then_some("§ 283 StGB")),
                decided = ts(backend, decided_at),
                first = ts(backend, first_at),
                notice = notice_at.map_or("NULL".into(), |t| ts(backend, t)),
            ));
            rows.log.push(format!(
                "({decided}, '{moderator}', '{action}', {comment_id}, NULL, NULL, '{via}', NULL, NULL)",
                decided = ts(backend, decided_at),
                action = match action {
                    DecidedAction::Approve => LogAction::Approve,
                    DecidedAction::Hide | DecidedAction::Hold => LogAction::Hide,
                    DecidedAction::Delete => LogAction::Delete,
                },
            ));
            written.decisions += 1;
            written.log_entries += 1;
            // One in eight restricting decisions is appealed a day later, decided two days after.
            if restricts && pick(j, 12) < 13 {
                let created = decided_at + Duration::days(1);
                let decided = created + Duration::days(2);
                let status = match pick(j, 13) {
                    0..50 => AppealStatus::Upheld,
                    50..75 => AppealStatus::Reversed,
                    _ => AppealStatus::Open,
                };
                let status = if decided > now {
                    AppealStatus::Open
                } else {
                    status
                };
                if created <= now {
                    let appeal = appeal_id;
                    appeal_id += 1;
                    let decided_by = format!("mod-{}", (j + 1) % 7);
                    let open = status == AppealStatus::Open;
                    rows.appeals.push(format!(
                        "({appeal}, {comment_id}, {id}, '{author}', 'Das war keine Beleidigung.', '{status}', {created}, {decided}, {by})",
                        author = author_of(comment_id),
                        created = ts(backend, created),
                        decided = if open { "NULL".into() } else { ts(backend, decided) },
                        by = quoted((!open).then_some(decided_by.as_str())),
                    ));
                    written.appeals += 1;
                    if !open {
                        let (action, ground, category) = if status == AppealStatus::Reversed {
                            (DecidedAction::Approve, None, None)
                        } else {
                            (action, ground, category)
                        };
                        rows.decisions.push(format!(
                            "({d}, {comment_id}, '{action}', {ground}, {category}, 'Beschwerde geprüft', NULL, FALSE, '{decided_by}', 'api', {at}, NULL, NULL, {appeal})",
                            d = decision_id,
                            ground = quoted(ground.map(Ground::as_str)),
                            category = quoted(category.map(Category::as_str)),
                            at = ts(backend, decided),
                        ));
                        decision_id += 1;
                        written.decisions += 1;
                    }
                }
            }
        }
        // Held by the content rules: an unflagged comment (the flagged ones take the lowest ids).
        if j % 10 == 5 {
            let held = comment_of(comments.saturating_sub(1 + j % comments.max(1)));
            rows.decisions.push(format!(
                "({id}, {held}, '{hold}', '{terms}', '{category}', 'Automatisch zurückgehalten', NULL, TRUE, NULL, NULL, {at}, NULL, NULL, NULL)",
                id = decision_id,
                hold = DecidedAction::Hold,
                terms = Ground::Terms,
                category = if j.is_multiple_of(2) { Category::Spam } else { Category::Insult },
                at = ts(backend, first_at),
            ));
            decision_id += 1;
            written.decisions += 1;
        }
        // An author's status changes now and then.
        if j.is_multiple_of(1000) {
            let action = match (j / 1000) % 4 {
                0 => LogAction::AuthorSuspended,
                1 => LogAction::AuthorBanned,
                2 => LogAction::AuthorPremod,
                _ => LogAction::AuthorActive,
            };
            rows.log.push(format!(
                "({at}, 'mod-{m}', '{action}', NULL, NULL, 'wiederholte Beleidigungen', 'api', '{author}', NULL)",
                at = ts(backend, first_at),
                m = j % 7,
                author = author_of(comment_id),
            ));
            written.log_entries += 1;
        }
        if rows.len() >= 50 * BATCH {
            rows.write(db).await?;
        }
        j += 1;
    }
    rows.write(db).await?;
    // The flags still open count in the queue.
    db.execute_unprepared(
        "UPDATE comments SET flag_count = (SELECT COUNT(*) FROM flags f \
           WHERE f.comment_id = comments.id AND f.resolved_at IS NULL), \
         first_flag_at = (SELECT MIN(f.created_at) FROM flags f \
           WHERE f.comment_id = comments.id AND f.resolved_at IS NULL) \
         WHERE id IN (SELECT comment_id FROM flags WHERE resolved_at IS NULL)",
    )
    .await?;
    if backend == DbBackend::Postgres {
        for table in ["flags", "decisions", "appeals", "moderation_log"] {
            db.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
            ))
            .await?;
        }
    }
    Ok(written)
}
