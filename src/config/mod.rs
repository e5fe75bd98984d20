//! Settings from the environment: every variable, its default and its validation.
//!
//! The variables are declared once, on [`Vars`](vars::Vars) (clap arguments with their `env`
//! name, default and parser); [`Settings`] groups the parsed values by concern and adds the checks that involve
//! several variables. A bad value stops start-up with a message naming the variable. Secrets (API
//! tokens, the action-link secret, credentials inside `SMTP_URL` or `DATABASE_URL`) are held in
//! `secrecy` types, so `Debug` never shows them.

mod parse;
#[cfg(test)]
mod tests;
mod vars;

use std::path::PathBuf;

use chrono_tz::Tz;
use secrecy::SecretSlice;

use crate::auth::Tokens;
use crate::cron::CronSchedule;
use crate::redact::SecretUrl;

#[cfg(test)]
pub(crate) use parse::webhook_key;

/// Log output format (`LOG_FORMAT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// All settings of one process.
#[derive(Clone, Debug)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub http: HttpSettings,
    pub live: LiveSettings,
    /// `API_TOKENS`; empty refuses every `/api/v1` call.
    pub api_tokens: Tokens,
    pub mail: MailSettings,
    pub moderation: ModerationSettings,
    pub lifecycle: LifecycleSettings,
    pub schedules: ScheduleSettings,
    /// `WEBHOOK_URL` and what goes with it; `None` sends no events.
    pub webhooks: Option<WebhookSettings>,
    pub log_format: LogFormat,
}

#[derive(Clone, Debug)]
pub struct DatabaseSettings {
    /// `DATABASE_URL`.
    pub url: SecretUrl,
    /// Largest number of pooled connections (`DATABASE_MAX_CONNECTIONS`); `None` sizes the pool
    /// from the database kind and the number of cores.
    pub max_connections: Option<u32>,
}

impl DatabaseSettings {
    pub fn is_sqlite(&self) -> bool {
        secrecy::ExposeSecret::expose_secret(&self.url).starts_with("sqlite:")
    }
}

#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// `BIND_ADDR`.
    pub bind_addr: String,
    /// `PUBLIC_BASE_URL`, without a trailing `/`.
    pub public_base_url: String,
    /// Megabytes the comment page cache may hold (`PAGE_CACHE_MB`); 0 turns it off.
    pub page_cache_mb: u32,
}

/// The live stream of a discussion (`/live/articles/{id}`).
#[derive(Clone, Debug)]
pub struct LiveSettings {
    /// `LIVE_ALLOWED_ORIGINS`: the websites whose pages may open the stream (CORS), each
    /// `scheme://host[:port]`; none when unset.
    pub allowed_origins: Vec<String>,
    /// `LIVE_MAX_SUBSCRIBERS`: open streams per process; more are answered 503.
    pub max_subscribers: usize,
}

/// Where and as whom mail goes out: the settings the process's one
/// [`Mailer`](crate::mail::Mailer) is built from. `Debug` shows the SMTP URL without credentials.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// `SMTP_URL`: `smtp://host:port`, `smtp://user:pass@host:587?tls=required`, `smtps://...`.
    /// `None` writes mail to `mail_dir` instead.
    pub smtp_url: Option<SecretUrl>,
    /// `MAIL_DIR`: used when `smtp_url` is `None`, one `.eml` file per mail.
    pub mail_dir: PathBuf,
    /// `MODERATION_EMAIL_TO`, e.g. `["forum@krone.at"]`; an entry may itself be a
    /// comma-separated list.
    pub to: Vec<String>,
    /// `MODERATION_EMAIL_FROM`, e.g. `Kommentare <noreply@krone.at>`.
    pub from: String,
    /// `MAIL_MAX_ATTEMPTS`.
    pub max_attempts: u32,
}

#[derive(Clone, Debug)]
pub struct ModerationSettings {
    /// `COMMENT_MAX_CHARS`.
    pub comment_max_chars: usize,
    /// `COMMENT_EDIT_MINUTES`.
    pub comment_edit_minutes: i64,
    /// `COMMENT_RATE_LIMIT`.
    pub comment_rate_limit: u32,
    /// `FLAG_NOTIFY_THRESHOLD`.
    pub flag_notify_threshold: u32,
    /// `FLAG_HIDE_THRESHOLD`.
    pub flag_hide_threshold: u32,
    /// `ACTION_LINK_SECRET`; without it the service uses the secret it keeps in its database.
    pub action_link_secret: Option<SecretSlice<u8>>,
    /// `ACTION_LINK_DAYS`.
    pub action_link_days: i64,
    /// `COMMUNITY_EMAIL`.
    pub community_email: String,
    /// `ILLEGAL_REVIEW_HOURS` (1 to 8760): a notice of illegal content is due for a decision this
    /// long after the first one on a comment. Its reminder is due 2 hours before the deadline: at
    /// 2 hours or less, at once (the first `send-reminders` run after the notice sends it).
    pub illegal_review_hours: i64,
}

#[derive(Clone, Debug)]
pub struct LifecycleSettings {
    /// `CLOSE_AFTER_MONTHS`.
    pub close_after_months: u32,
    /// `NEWSROOM_TIMEZONE`.
    pub newsroom_timezone: Tz,
    /// `DEFAULT_TOPIC_OVERVIEW_URL`.
    pub default_topic_overview_url: Option<String>,
    /// `RETENTION_DAYS`: how long resolved flags and the texts of sent notifications are kept.
    pub retention_days: u32,
}

#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// `WEBHOOK_URL`.
    pub url: SecretUrl,
    /// The signing key from `WEBHOOK_SECRET`.
    pub key: SecretSlice<u8>,
    /// `WEBHOOK_MAX_ATTEMPTS`.
    pub max_attempts: u32,
}

#[derive(Clone, Debug)]
pub struct ScheduleSettings {
    /// `CLOSE_EXPIRED_SCHEDULE`.
    pub close_expired: CronSchedule,
    /// `DELIVER_NOTIFICATIONS_SCHEDULE`.
    pub deliver_notifications: CronSchedule,
    /// `DELIVER_EVENTS_SCHEDULE`.
    pub deliver_events: CronSchedule,
    /// `PURGE_SCHEDULE`.
    pub purge: CronSchedule,
    /// `REMINDERS_SCHEDULE`.
    pub send_reminders: CronSchedule,
}

/// A variable that has a value the service cannot use.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {var}: {message}")]
pub struct ConfigError {
    pub var: String,
    pub message: String,
}

fn bad(var: &str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var: var.to_owned(),
        message: message.into(),
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/comments.db?mode=rwc";
pub const DEFAULT_BIND_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_COMMUNITY_EMAIL: &str = "forum@krone.at";
/// The longest `ACTION_LINK_DAYS`: no action link lives longer.
pub const MAX_ACTION_LINK_DAYS: u32 = 365;
