//! [`Vars`], the declaration of every variable, and how [`Settings`] are read from them.

use std::collections::HashMap;
use std::path::PathBuf;

use chrono_tz::Tz;
use clap::error::{ContextKind, ContextValue};
use clap::{CommandFactory, FromArgMatches, Parser};
use secrecy::{SecretSlice, SecretString};

use super::parse::{
    Origins, Recipients, action_link_secret, api_tokens, database_url, email, http_url, log_format,
    origins, public_base_url, recipients, smtp_url, socket_addr, timezone, webhook_secret,
    webhook_url, whole_number,
};
use super::*;
use crate::auth::Tokens;
use crate::cron::CronSchedule;
use crate::redact::SecretUrl;

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
    #[arg(long, env = "LIVE_ALLOWED_ORIGINS", value_parser = origins)]
    live_allowed_origins: Option<Origins>,
    #[arg(long, env = "LIVE_MAX_SUBSCRIBERS", default_value = "20000", value_parser = whole_number::<0, 1000000>)]
    live_max_subscribers: u32,

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
            live: LiveSettings {
                allowed_origins: v.live_allowed_origins.map(|o| o.0).unwrap_or_default(),
                max_subscribers: v.live_max_subscribers as usize,
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
