//! Flags on the generated comments, with what moderation made of them: decisions, automated
//! holds, appeals and audit-log entries (for the transparency report).

use chrono::{DateTime, Duration, Utc};
use comment_service::domain::states::{
    AppealStatus, Category, DecidedAction, FlagReason, Ground, LogAction, Via,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

use crate::sql::{BATCH, begin, ts};

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
