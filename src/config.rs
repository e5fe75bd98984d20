//! Settings from the environment: every variable, its default and its validation.
//!
//! The variables are declared once, on [`Vars`] (clap arguments with their `env` name, default and
//! parser); [`Settings`] groups the parsed values by concern and adds the checks that involve
//! several variables. A bad value stops start-up with a message naming the variable. Secrets (API
//! tokens, the action-link secret, credentials inside `SMTP_URL` or `DATABASE_URL`) are held in
//! `secrecy` types, so `Debug` never shows them.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use chrono_tz::Tz;
use clap::error::{ContextKind, ContextValue};
use clap::{CommandFactory, FromArgMatches, Parser};
use secrecy::{SecretSlice, SecretString};

use crate::auth::{ApiToken, Role, Tokens};
use crate::cron::CronSchedule;
use crate::redact::SecretUrl;

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

#[derive(Clone, Debug)]
pub struct MailSettings {
    /// `SMTP_URL`; `None` writes mail to `mail_dir`.
    pub smtp_url: Option<SecretUrl>,
    /// `MAIL_DIR`.
    pub mail_dir: PathBuf,
    /// `MODERATION_EMAIL_TO`.
    pub to: Vec<String>,
    /// `MODERATION_EMAIL_FROM`.
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

/// Every variable, each parsed and checked on its own. Unset and blank variables take the
/// default; values are trimmed.
#[derive(Parser)]
#[command(no_binary_name = true, disable_help_flag = true)]
struct Vars {
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, value_parser = database_url)]
    database_url: SecretUrl,
    #[arg(long, env = "DATABASE_MAX_CONNECTIONS", value_parser = whole_number::<1, 1000>)]
    database_max_connections: Option<u32>,

    #[arg(long, env = "BIND_ADDR", default_value = DEFAULT_BIND_ADDR, value_parser = socket_addr)]
    bind_addr: String,
    /// Defaults to `http://{BIND_ADDR}`.
    #[arg(long, env = "PUBLIC_BASE_URL", value_parser = public_base_url)]
    public_base_url: Option<String>,
    #[arg(long, env = "PAGE_CACHE_MB", default_value = "16", value_parser = whole_number::<0, 4096>)]
    page_cache_mb: u32,

    #[arg(long, env = "API_TOKENS", value_parser = api_tokens)]
    api_tokens: Option<Tokens>,

    #[arg(long, env = "SMTP_URL", value_parser = smtp_url)]
    smtp_url: Option<SecretUrl>,
    #[arg(long, env = "MAIL_DIR", default_value = "data/mail")]
    mail_dir: PathBuf,
    #[arg(long, env = "MODERATION_EMAIL_TO", default_value = DEFAULT_COMMUNITY_EMAIL, value_parser = recipients)]
    moderation_email_to: Recipients,
    #[arg(long, env = "MODERATION_EMAIL_FROM", default_value = "Kommentare <noreply@krone.at>", value_parser = email)]
    moderation_email_from: String,
    #[arg(long, env = "MAIL_MAX_ATTEMPTS", default_value = "8", value_parser = whole_number::<1, 100>)]
    mail_max_attempts: u32,

    #[arg(long, env = "COMMENT_MAX_CHARS", default_value = "2000", value_parser = whole_number::<1, 60_000>)]
    comment_max_chars: u32,
    #[arg(long, env = "COMMENT_EDIT_MINUTES", default_value = "15", value_parser = whole_number::<0, 525_600>)]
    comment_edit_minutes: u32,
    #[arg(long, env = "COMMENT_RATE_LIMIT", default_value = "5", value_parser = whole_number::<1, 100_000>)]
    comment_rate_limit: u32,
    #[arg(long, env = "FLAG_NOTIFY_THRESHOLD", default_value = "1", value_parser = whole_number::<1, 10_000>)]
    flag_notify_threshold: u32,
    /// Must not be below `FLAG_NOTIFY_THRESHOLD`.
    #[arg(long, env = "FLAG_HIDE_THRESHOLD", default_value = "3", value_parser = whole_number::<1, 10_000>)]
    flag_hide_threshold: u32,
    /// A random secret is generated when unset.
    #[arg(long, env = "ACTION_LINK_SECRET", value_parser = action_link_secret)]
    action_link_secret: Option<SecretString>,
    #[arg(long, env = "ACTION_LINK_DAYS", default_value = "7", value_parser = whole_number::<1, MAX_ACTION_LINK_DAYS>)]
    action_link_days: u32,
    #[arg(long, env = "COMMUNITY_EMAIL", default_value = DEFAULT_COMMUNITY_EMAIL, value_parser = email)]
    community_email: String,
    #[arg(long, env = "ILLEGAL_REVIEW_HOURS", default_value = "24", value_parser = whole_number::<1, 8_760>)]
    illegal_review_hours: u32,

    #[arg(long, env = "CLOSE_AFTER_MONTHS", default_value = "18", value_parser = whole_number::<1, 1200>)]
    close_after_months: u32,
    #[arg(long, env = "NEWSROOM_TIMEZONE", default_value = "Europe/Vienna", value_parser = timezone)]
    newsroom_timezone: Tz,
    #[arg(long, env = "DEFAULT_TOPIC_OVERVIEW_URL", value_parser = http_url)]
    default_topic_overview_url: Option<String>,
    #[arg(long, env = "RETENTION_DAYS", default_value = "365", value_parser = whole_number::<1, 36_500>)]
    retention_days: u32,

    #[arg(long, env = "CLOSE_EXPIRED_SCHEDULE", default_value = "0 */5 * * * *", value_parser = CronSchedule::parse)]
    close_expired_schedule: CronSchedule,
    #[arg(long, env = "DELIVER_NOTIFICATIONS_SCHEDULE", default_value = "*/10 * * * * *", value_parser = CronSchedule::parse)]
    deliver_notifications_schedule: CronSchedule,
    #[arg(long, env = "DELIVER_EVENTS_SCHEDULE", default_value = "*/5 * * * * *", value_parser = CronSchedule::parse)]
    deliver_events_schedule: CronSchedule,

    #[arg(long, env = "WEBHOOK_URL", value_parser = webhook_url)]
    webhook_url: Option<SecretUrl>,
    /// Required with `WEBHOOK_URL`.
    #[arg(long, env = "WEBHOOK_SECRET", value_parser = webhook_secret)]
    webhook_secret: Option<SecretSlice<u8>>,
    #[arg(long, env = "WEBHOOK_MAX_ATTEMPTS", default_value = "10", value_parser = whole_number::<1, 100>)]
    webhook_max_attempts: u32,

    #[arg(long, env = "PURGE_SCHEDULE", default_value = "0 30 3 * * *", value_parser = CronSchedule::parse)]
    purge_schedule: CronSchedule,
    #[arg(long, env = "REMINDERS_SCHEDULE", default_value = "0 */10 * * * *", value_parser = CronSchedule::parse)]
    reminders_schedule: CronSchedule,

    #[arg(long, env = "LOG_FORMAT", default_value = "human", value_parser = log_format)]
    log_format: LogFormat,
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, ConfigError> {
        Settings::from_vars(std::env::vars())
    }

    /// Reads settings from the given variables (the environment, or a test's map); the process
    /// environment is not consulted.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> = vars.into_iter().collect();
        // Each set variable becomes `--long=value` for its argument; clap's own reading of the
        // environment is switched off so that only `vars` count.
        let command = Vars::command();
        let mut variables = Vec::new();
        let mut args = Vec::new();
        for arg in command.get_arguments() {
            let (Some(env), Some(long)) = (arg.get_env().and_then(|e| e.to_str()), arg.get_long())
            else {
                continue;
            };
            if let Some(value) = vars.get(env).map(|v| v.trim()).filter(|v| !v.is_empty()) {
                args.push(format!("--{long}={value}"));
            }
            variables.push((long.to_owned(), env.to_owned()));
        }
        let error = |e: clap::Error| config_error(&variables, &e);
        let matches = command
            .mut_args(|arg| arg.env(None::<&'static str>))
            .try_get_matches_from(args)
            .map_err(error)?;
        let vars = Vars::from_arg_matches(&matches).map_err(error)?;
        Settings::from_parsed(vars)
    }

    /// Groups the parsed variables and checks what involves several of them.
    fn from_parsed(v: Vars) -> Result<Settings, ConfigError> {
        if v.flag_hide_threshold < v.flag_notify_threshold {
            return Err(bad(
                "FLAG_HIDE_THRESHOLD",
                "must not be below FLAG_NOTIFY_THRESHOLD",
            ));
        }
        let webhooks = match (v.webhook_url, v.webhook_secret) {
            (Some(url), Some(key)) => Some(WebhookSettings {
                url,
                key,
                max_attempts: v.webhook_max_attempts,
            }),
            (Some(_), None) => {
                return Err(bad("WEBHOOK_SECRET", "is required when WEBHOOK_URL is set"));
            }
            (None, _) => None,
        };
        let public_base_url = v
            .public_base_url
            .unwrap_or_else(|| format!("http://{}", v.bind_addr));
        let action_link_secret = v.action_link_secret.map(|secret| {
            SecretSlice::from(
                secrecy::ExposeSecret::expose_secret(&secret)
                    .as_bytes()
                    .to_vec(),
            )
        });
        Ok(Settings {
            database: DatabaseSettings {
                url: v.database_url,
                max_connections: v.database_max_connections,
            },
            http: HttpSettings {
                bind_addr: v.bind_addr,
                public_base_url,
                page_cache_mb: v.page_cache_mb,
            },
            api_tokens: v.api_tokens.unwrap_or_default(),
            mail: MailSettings {
                smtp_url: v.smtp_url,
                mail_dir: v.mail_dir,
                to: v.moderation_email_to.0,
                from: v.moderation_email_from,
                max_attempts: v.mail_max_attempts,
            },
            moderation: ModerationSettings {
                comment_max_chars: v.comment_max_chars as usize,
                comment_edit_minutes: i64::from(v.comment_edit_minutes),
                comment_rate_limit: v.comment_rate_limit,
                flag_notify_threshold: v.flag_notify_threshold,
                flag_hide_threshold: v.flag_hide_threshold,
                action_link_secret,
                action_link_days: i64::from(v.action_link_days),
                community_email: v.community_email,
                illegal_review_hours: i64::from(v.illegal_review_hours),
            },
            lifecycle: LifecycleSettings {
                close_after_months: v.close_after_months,
                newsroom_timezone: v.newsroom_timezone,
                default_topic_overview_url: v.default_topic_overview_url,
                retention_days: v.retention_days,
            },
            schedules: ScheduleSettings {
                close_expired: v.close_expired_schedule,
                deliver_notifications: v.deliver_notifications_schedule,
                deliver_events: v.deliver_events_schedule,
                purge: v.purge_schedule,
                send_reminders: v.reminders_schedule,
            },
            webhooks,
            log_format: v.log_format,
        })
    }
}

/// The variable a clap error is about (`variables` pairs each argument's long name with its
/// variable), and the parser's message: never the value itself, which may be a secret.
fn config_error(variables: &[(String, String)], e: &clap::Error) -> ConfigError {
    let var = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(shown)) => {
            let long = shown
                .trim_start_matches("--")
                .split([' ', '='])
                .next()
                .unwrap_or("");
            variables
                .iter()
                .find(|(l, _)| l == long)
                .map(|(_, env)| env.clone())
        }
        _ => None,
    };
    let message = std::error::Error::source(e)
        .map(ToString::to_string)
        .unwrap_or_else(|| e.kind().to_string());
    ConfigError {
        var: var.unwrap_or_else(|| "environment".to_owned()),
        message,
    }
}

fn database_url(url: &str) -> Result<SecretUrl, String> {
    if url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://")
    {
        Ok(SecretUrl::new(url))
    } else {
        Err("must start with sqlite: or postgres://".to_owned())
    }
}

fn socket_addr(addr: &str) -> Result<String, String> {
    match addr.parse::<SocketAddr>() {
        Ok(_) => Ok(addr.to_owned()),
        Err(_) => Err(format!("`{addr}` is not an address like 127.0.0.1:8080")),
    }
}

fn whole_number<const MIN: u32, const MAX: u32>(raw: &str) -> Result<u32, String> {
    match raw.parse::<u32>() {
        Ok(n) if (MIN..=MAX).contains(&n) => Ok(n),
        _ => Err(format!("`{raw}` is not a whole number from {MIN} to {MAX}")),
    }
}

fn http_url(url: &str) -> Result<String, String> {
    if (url.starts_with("http://") || url.starts_with("https://")) && url.len() > "https://".len() {
        Ok(url.to_owned())
    } else {
        Err(format!("`{url}` is not an http(s) URL"))
    }
}

fn public_base_url(url: &str) -> Result<String, String> {
    http_url(url.trim_end_matches('/'))
}

fn action_link_secret(secret: &str) -> Result<SecretString, String> {
    if secret.len() < 16 {
        Err("must be at least 16 characters long".to_owned())
    } else {
        Ok(SecretString::from(secret))
    }
}

fn webhook_url(url: &str) -> Result<SecretUrl, String> {
    if (url.starts_with("http://") || url.starts_with("https://")) && url.len() > "https://".len() {
        Ok(SecretUrl::new(url))
    } else {
        Err("must be an http(s) URL".to_owned())
    }
}

/// The key of a `WEBHOOK_SECRET`: a `whsec_` secret is base64 (the Standard Webhooks form); any
/// other value is used as it is.
pub(crate) fn webhook_key(secret: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    match secret.strip_prefix("whsec_") {
        Some(encoded) => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| "a `whsec_` secret must be base64 after the prefix".to_owned()),
        None => Ok(secret.as_bytes().to_vec()),
    }
}

fn webhook_secret(secret: &str) -> Result<SecretSlice<u8>, String> {
    let key = webhook_key(secret)?;
    if key.len() < 16 {
        return Err("must be at least 16 characters (or 16 bytes after `whsec_`) long".to_owned());
    }
    Ok(SecretSlice::from(key))
}

fn timezone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>()
        .map_err(|_| format!("`{name}` is not an IANA time zone like Europe/Vienna"))
}

fn smtp_url(url: &str) -> Result<SecretUrl, String> {
    if url.starts_with("smtp://") || url.starts_with("smtps://") {
        Ok(SecretUrl::new(url))
    } else {
        Err("must start with smtp:// or smtps://".to_owned())
    }
}

fn log_format(raw: &str) -> Result<LogFormat, String> {
    match raw {
        "human" | "text" => Ok(LogFormat::Human),
        "json" => Ok(LogFormat::Json),
        other => Err(format!("`{other}` is not `json` or `human`")),
    }
}

/// `MODERATION_EMAIL_TO`: one address or a comma-separated list.
#[derive(Clone)]
struct Recipients(Vec<String>);

fn recipients(raw: &str) -> Result<Recipients, String> {
    let to: Vec<String> = raw
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if to.is_empty() {
        return Err("names no address".to_owned());
    }
    for address in &to {
        check_email(address)?;
    }
    Ok(Recipients(to))
}

/// An address like `forum@krone.at` or `Kommentare <noreply@krone.at>`.
fn email(value: &str) -> Result<String, String> {
    check_email(value).map(|()| value.to_owned())
}

fn check_email(value: &str) -> Result<(), String> {
    let address = match (value.rfind('<'), value.rfind('>')) {
        (Some(start), Some(end)) if start < end => &value[start + 1..end],
        _ => value,
    };
    match address.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && (domain.contains('.') || domain == "localhost") =>
        {
            Ok(())
        }
        _ => Err(format!("`{value}` is not an email address")),
    }
}

/// `API_TOKENS`: comma-separated `name:role:token` entries.
fn api_tokens(raw: &str) -> Result<Tokens, String> {
    let mut tokens: Vec<ApiToken> = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for (i, entry) in raw
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .enumerate()
    {
        let mut parts = entry.splitn(3, ':');
        let (Some(name), Some(role), Some(token)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!("entry {} is not name:role:token", i + 1));
        };
        let role = role.parse::<Role>().map_err(|_| {
            format!(
                "entry {} has role `{role}`; roles are service and moderator",
                i + 1
            )
        })?;
        if name.is_empty() || name.len() > 64 {
            return Err(format!(
                "entry {} needs a name of 1 to 64 characters",
                i + 1
            ));
        }
        if token.len() < 8 {
            return Err(format!(
                "the token of `{name}` is shorter than 8 characters"
            ));
        }
        if seen.contains(&token) {
            return Err(format!("the token of `{name}` is used twice"));
        }
        seen.push(token);
        tokens.push(ApiToken {
            name: name.to_string(),
            role,
            token: SecretString::from(token),
        });
    }
    Ok(Tokens::new(tokens))
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn no_configuration_gives_the_documented_defaults() {
        let s = Settings::from_vars(vars(&[])).unwrap();
        assert_eq!(s.database.url.expose_secret(), DEFAULT_DATABASE_URL);
        assert!(s.database.is_sqlite());
        assert_eq!(s.database.max_connections, None);
        assert_eq!(s.http.bind_addr, "127.0.0.1:8080");
        assert_eq!(s.http.public_base_url, "http://127.0.0.1:8080");
        assert_eq!(s.http.page_cache_mb, 16);
        assert!(s.api_tokens.is_empty());
        assert!(s.mail.smtp_url.is_none());
        assert_eq!(s.mail.mail_dir, PathBuf::from("data/mail"));
        assert_eq!(s.mail.to, vec!["forum@krone.at".to_string()]);
        assert_eq!(s.mail.from, "Kommentare <noreply@krone.at>");
        assert_eq!(s.mail.max_attempts, 8);
        assert_eq!(s.moderation.comment_max_chars, 2000);
        assert_eq!(s.moderation.comment_edit_minutes, 15);
        assert_eq!(s.moderation.comment_rate_limit, 5);
        assert_eq!(s.moderation.flag_notify_threshold, 1);
        assert_eq!(s.moderation.flag_hide_threshold, 3);
        assert!(s.moderation.action_link_secret.is_none());
        assert_eq!(s.moderation.action_link_days, 7);
        assert_eq!(s.moderation.community_email, "forum@krone.at");
        assert_eq!(s.lifecycle.close_after_months, 18);
        assert_eq!(s.lifecycle.newsroom_timezone, chrono_tz::Europe::Vienna);
        assert_eq!(s.lifecycle.default_topic_overview_url, None);
        assert_eq!(s.schedules.close_expired.as_str(), "0 */5 * * * *");
        assert_eq!(s.schedules.deliver_notifications.as_str(), "*/10 * * * * *");
        assert_eq!(s.schedules.purge.as_str(), "0 30 3 * * *");
        assert_eq!(s.schedules.send_reminders.as_str(), "0 */10 * * * *");
        assert_eq!(s.moderation.illegal_review_hours, 24);
        assert_eq!(s.lifecycle.retention_days, 365);
        assert_eq!(s.log_format, LogFormat::Human);
    }

    #[test]
    fn values_are_trimmed_and_blank_values_take_the_default() {
        let s = Settings::from_vars(vars(&[
            ("CLOSE_AFTER_MONTHS", " 24 "),
            ("BIND_ADDR", "   "),
            ("PUBLIC_BASE_URL", "https://kommentare.example/"),
            ("MODERATION_EMAIL_TO", "a@krone.at, ,Team <b@krone.at>"),
            ("ACTION_LINK_SECRET", "0123456789abcdef"),
            ("DATABASE_MAX_CONNECTIONS", "12"),
            ("LOG_FORMAT", "json"),
        ]))
        .unwrap();
        assert_eq!(s.lifecycle.close_after_months, 24);
        assert_eq!(s.http.bind_addr, DEFAULT_BIND_ADDR);
        assert_eq!(s.http.public_base_url, "https://kommentare.example");
        assert_eq!(s.mail.to, vec!["a@krone.at", "Team <b@krone.at>"]);
        assert_eq!(
            s.moderation
                .action_link_secret
                .as_ref()
                .map(|secret| secret.expose_secret()),
            Some(&b"0123456789abcdef"[..])
        );
        assert_eq!(s.database.max_connections, Some(12));
        assert_eq!(s.log_format, LogFormat::Json);
    }

    #[test]
    fn each_bad_value_names_its_variable_with_the_documented_message() {
        let cases = [
            (
                "BIND_ADDR",
                "nowhere",
                "`nowhere` is not an address like 127.0.0.1:8080",
            ),
            (
                "API_TOKENS",
                "web:admin:abcdefgh1234",
                "entry 1 has role `admin`; roles are service and moderator",
            ),
            ("API_TOKENS", "webonly", "entry 1 is not name:role:token"),
            (
                "API_TOKENS",
                "web:service:short",
                "the token of `web` is shorter than 8 characters",
            ),
            (
                "API_TOKENS",
                "a:service:abcdefgh1,b:moderator:abcdefgh1",
                "the token of `b` is used twice",
            ),
            (
                "API_TOKENS",
                ":service:abcdefgh1",
                "entry 1 needs a name of 1 to 64 characters",
            ),
            (
                "CLOSE_AFTER_MONTHS",
                "0",
                "`0` is not a whole number from 1 to 1200",
            ),
            (
                "CLOSE_AFTER_MONTHS",
                "eighteen",
                "`eighteen` is not a whole number from 1 to 1200",
            ),
            (
                "NEWSROOM_TIMEZONE",
                "Mars/Olympus",
                "`Mars/Olympus` is not an IANA time zone like Europe/Vienna",
            ),
            (
                "COMMENT_MAX_CHARS",
                "-1",
                "`-1` is not a whole number from 1 to 60000",
            ),
            (
                "SMTP_URL",
                "http://mail",
                "must start with smtp:// or smtps://",
            ),
            (
                "MODERATION_EMAIL_TO",
                "not-an-address",
                "`not-an-address` is not an email address",
            ),
            ("MODERATION_EMAIL_TO", " , ", "names no address"),
            (
                "MODERATION_EMAIL_FROM",
                "Kommentare <nobody>",
                "`Kommentare <nobody>` is not an email address",
            ),
            (
                "COMMUNITY_EMAIL",
                "forum",
                "`forum` is not an email address",
            ),
            (
                "PUBLIC_BASE_URL",
                "ftp://x/",
                "`ftp://x` is not an http(s) URL",
            ),
            (
                "DEFAULT_TOPIC_OVERVIEW_URL",
                "https://",
                "`https://` is not an http(s) URL",
            ),
            (
                "CLOSE_EXPIRED_SCHEDULE",
                "*/5 * * * *",
                "`*/5 * * * *` has 5 fields; expected 6 (seconds first), like `0 */5 * * * *`",
            ),
            (
                "DELIVER_NOTIFICATIONS_SCHEDULE",
                "every ten seconds",
                "`every ten seconds` has 3 fields; expected 6 (seconds first), like `0 */5 * * * *`",
            ),
            (
                "ACTION_LINK_SECRET",
                "short",
                "must be at least 16 characters long",
            ),
            (
                "DATABASE_URL",
                "mysql://x",
                "must start with sqlite: or postgres://",
            ),
            (
                "DATABASE_MAX_CONNECTIONS",
                "0",
                "`0` is not a whole number from 1 to 1000",
            ),
            (
                "PAGE_CACHE_MB",
                "4097",
                "`4097` is not a whole number from 0 to 4096",
            ),
            ("LOG_FORMAT", "xml", "`xml` is not `json` or `human`"),
            (
                "RETENTION_DAYS",
                "0",
                "`0` is not a whole number from 1 to 36500",
            ),
            (
                "ILLEGAL_REVIEW_HOURS",
                "0",
                "`0` is not a whole number from 1 to 8760",
            ),
            (
                "PURGE_SCHEDULE",
                "30 3 * * *",
                "`30 3 * * *` has 5 fields; expected 6 (seconds first), like `0 */5 * * * *`",
            ),
        ];
        for (var, value, message) in cases {
            let err = Settings::from_vars(vars(&[(var, value)])).unwrap_err();
            assert_eq!(err.var, var, "{var}={value}");
            assert_eq!(
                err.to_string(),
                format!("invalid configuration: {var}: {message}")
            );
        }
    }

    #[test]
    fn a_bad_schedule_is_refused_with_the_schedulers_reason() {
        let err =
            Settings::from_vars(vars(&[("CLOSE_EXPIRED_SCHEDULE", "x y z a b c")])).unwrap_err();
        assert_eq!(err.var, "CLOSE_EXPIRED_SCHEDULE");
        assert!(
            err.message
                .starts_with("`x y z a b c` is not a valid cron expression: "),
            "{err}"
        );
    }

    #[test]
    fn tokens_parse_and_never_show_in_debug_output() {
        let s = Settings::from_vars(vars(&[
            (
                "API_TOKENS",
                "web:service:s3cr3t-web-token,anna:moderator:s3cr3t-mod-token",
            ),
            (
                "DATABASE_URL",
                "postgres://app:hunter2-password@db/comments",
            ),
            (
                "SMTP_URL",
                "smtp://mailer:mail-password@smtp.example.com:587?tls=required",
            ),
            ("ACTION_LINK_SECRET", "s3cr3t-action-link-secret"),
        ]))
        .unwrap();
        assert_eq!(s.api_tokens.len(), 2);
        assert_eq!(
            s.api_tokens.find("s3cr3t-mod-token").map(|c| c.role),
            Some(Role::Moderator)
        );
        assert_eq!(
            s.api_tokens.find("s3cr3t-web-token").map(|c| c.role),
            Some(Role::Service)
        );
        let printed = format!("{s:?}");
        for secret in [
            "s3cr3t-web-token",
            "s3cr3t-mod-token",
            "hunter2-password",
            "mail-password",
            "s3cr3t-action-link-secret",
        ] {
            assert!(!printed.contains(secret), "{secret} leaked in {printed}");
        }
        assert!(printed.contains("postgres://db/comments"), "{printed}");
    }

    #[test]
    fn a_bad_secret_is_not_repeated_in_the_error() {
        for (var, value) in [
            ("ACTION_LINK_SECRET", "tooshort"),
            ("API_TOKENS", "web:service:s3cr3t:x,web2:service:s3cr3t:x"),
        ] {
            let err = Settings::from_vars(vars(&[(var, value)])).unwrap_err();
            assert!(!err.to_string().contains("s3cr3t"), "{err}");
            assert!(!err.to_string().contains("tooshort"), "{err}");
        }
    }

    #[test]
    fn hide_threshold_below_notify_threshold_is_refused() {
        let err = Settings::from_vars(vars(&[
            ("FLAG_NOTIFY_THRESHOLD", "3"),
            ("FLAG_HIDE_THRESHOLD", "2"),
        ]))
        .unwrap_err();
        assert_eq!(err.var, "FLAG_HIDE_THRESHOLD");
        assert_eq!(err.message, "must not be below FLAG_NOTIFY_THRESHOLD");
    }
}
