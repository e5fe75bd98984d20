//! Settings from the environment: every variable, its default and its validation.
//!
//! A bad value stops start-up with a message naming the variable. Secrets (API tokens, the
//! action-link secret, credentials inside `SMTP_URL` or `DATABASE_URL`) are redacted in `Debug`.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use chrono_tz::Tz;

/// The role a bearer token grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The website backend.
    Service,
    /// The community team; may do everything a service token may.
    Moderator,
}

/// One entry of `API_TOKENS` (`name:role:token`).
#[derive(Clone)]
pub struct ApiToken {
    pub name: String,
    pub role: Role,
    pub token: String,
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiToken")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("token", &"[redacted]")
            .finish()
    }
}

/// Log output format (`LOG_FORMAT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

/// All settings of one process.
#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub bind_addr: String,
    pub api_tokens: Vec<ApiToken>,
    pub public_base_url: String,
    pub action_link_secret: Vec<u8>,
    /// True when `ACTION_LINK_SECRET` was unset and a random secret was generated for this start.
    pub action_link_secret_generated: bool,
    pub close_after_months: u32,
    pub newsroom_timezone: Tz,
    pub default_topic_overview_url: Option<String>,
    pub community_email: String,
    pub comment_max_chars: usize,
    pub comment_edit_minutes: i64,
    pub comment_rate_limit: u32,
    pub flag_notify_threshold: u32,
    pub flag_hide_threshold: u32,
    pub smtp_url: Option<String>,
    pub mail_dir: PathBuf,
    pub moderation_email_to: Vec<String>,
    pub moderation_email_from: String,
    pub mail_max_attempts: u32,
    pub action_link_days: i64,
    pub close_expired_schedule: String,
    pub deliver_notifications_schedule: String,
    pub log_format: LogFormat,
    /// Largest number of pooled database connections (`DATABASE_MAX_CONNECTIONS`); `None` sizes
    /// the pool from the database kind and the number of cores.
    pub database_max_connections: Option<u32>,
    /// Megabytes the comment page cache may hold (`PAGE_CACHE_MB`); 0 turns it off.
    pub page_cache_mb: u32,
}

/// A variable that has a value the service cannot use.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {var}: {message}")]
pub struct ConfigError {
    pub var: &'static str,
    pub message: String,
}

fn bad(var: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        message: message.into(),
    }
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/comments.db?mode=rwc";
pub const DEFAULT_BIND_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_COMMUNITY_EMAIL: &str = "forum@krone.at";

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, ConfigError> {
        Settings::from_vars(std::env::vars())
    }

    /// Reads settings from the given variables (the environment, or a test's map).
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let vars: HashMap<String, String> = vars.into_iter().collect();
        let get = |name: &str| -> Option<String> {
            vars.get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };

        let database_url = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(bad(
                "DATABASE_URL",
                "must start with sqlite: or postgres://",
            ));
        }

        let bind_addr = get("BIND_ADDR").unwrap_or_else(|| DEFAULT_BIND_ADDR.to_string());
        bind_addr.parse::<SocketAddr>().map_err(|_| {
            bad(
                "BIND_ADDR",
                format!("`{bind_addr}` is not an address like 127.0.0.1:8080"),
            )
        })?;

        let api_tokens = match get("API_TOKENS") {
            Some(raw) => parse_tokens(&raw)?,
            None => Vec::new(),
        };

        let public_base_url = get("PUBLIC_BASE_URL")
            .unwrap_or_else(|| format!("http://{bind_addr}"))
            .trim_end_matches('/')
            .to_string();
        check_http_url("PUBLIC_BASE_URL", &public_base_url)?;

        let (action_link_secret, action_link_secret_generated) = match get("ACTION_LINK_SECRET") {
            Some(secret) if secret.len() < 16 => {
                return Err(bad(
                    "ACTION_LINK_SECRET",
                    "must be at least 16 characters long",
                ));
            }
            Some(secret) => (secret.into_bytes(), false),
            None => {
                let bytes: [u8; 32] = rand::random();
                (bytes.to_vec(), true)
            }
        };

        let close_after_months = number(&get, "CLOSE_AFTER_MONTHS", 18, 1, 1200)?;
        let newsroom_timezone = match get("NEWSROOM_TIMEZONE") {
            Some(name) => name.parse::<Tz>().map_err(|_| {
                bad(
                    "NEWSROOM_TIMEZONE",
                    format!("`{name}` is not an IANA time zone like Europe/Vienna"),
                )
            })?,
            None => chrono_tz::Europe::Vienna,
        };
        let default_topic_overview_url = get("DEFAULT_TOPIC_OVERVIEW_URL");
        if let Some(url) = &default_topic_overview_url {
            check_http_url("DEFAULT_TOPIC_OVERVIEW_URL", url)?;
        }
        let community_email =
            get("COMMUNITY_EMAIL").unwrap_or_else(|| DEFAULT_COMMUNITY_EMAIL.to_string());
        check_email("COMMUNITY_EMAIL", &community_email)?;

        let comment_max_chars = number(&get, "COMMENT_MAX_CHARS", 2000, 1, 60_000)? as usize;
        let comment_edit_minutes = number(&get, "COMMENT_EDIT_MINUTES", 15, 0, 525_600)? as i64;
        let comment_rate_limit = number(&get, "COMMENT_RATE_LIMIT", 5, 1, 100_000)?;
        let flag_notify_threshold = number(&get, "FLAG_NOTIFY_THRESHOLD", 1, 1, 10_000)?;
        let flag_hide_threshold = number(&get, "FLAG_HIDE_THRESHOLD", 3, 1, 10_000)?;
        if flag_hide_threshold < flag_notify_threshold {
            return Err(bad(
                "FLAG_HIDE_THRESHOLD",
                "must not be below FLAG_NOTIFY_THRESHOLD",
            ));
        }

        let smtp_url = get("SMTP_URL");
        if let Some(url) = &smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            return Err(bad("SMTP_URL", "must start with smtp:// or smtps://"));
        }
        let mail_dir = PathBuf::from(get("MAIL_DIR").unwrap_or_else(|| "data/mail".to_string()));
        let moderation_email_to: Vec<String> = get("MODERATION_EMAIL_TO")
            .unwrap_or_else(|| DEFAULT_COMMUNITY_EMAIL.to_string())
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if moderation_email_to.is_empty() {
            return Err(bad("MODERATION_EMAIL_TO", "names no address"));
        }
        for to in &moderation_email_to {
            check_email("MODERATION_EMAIL_TO", to)?;
        }
        let moderation_email_from = get("MODERATION_EMAIL_FROM")
            .unwrap_or_else(|| "Kommentare <noreply@krone.at>".to_string());
        check_email("MODERATION_EMAIL_FROM", &moderation_email_from)?;
        let mail_max_attempts = number(&get, "MAIL_MAX_ATTEMPTS", 8, 1, 100)?;
        let action_link_days = number(&get, "ACTION_LINK_DAYS", 7, 1, 365)? as i64;

        let close_expired_schedule =
            get("CLOSE_EXPIRED_SCHEDULE").unwrap_or_else(|| "0 */5 * * * *".to_string());
        check_cron("CLOSE_EXPIRED_SCHEDULE", &close_expired_schedule)?;
        let deliver_notifications_schedule =
            get("DELIVER_NOTIFICATIONS_SCHEDULE").unwrap_or_else(|| "*/10 * * * * *".to_string());
        check_cron(
            "DELIVER_NOTIFICATIONS_SCHEDULE",
            &deliver_notifications_schedule,
        )?;

        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("human") | Some("text") => LogFormat::Human,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(bad(
                    "LOG_FORMAT",
                    format!("`{other}` is not `json` or `human`"),
                ));
            }
        };
        let database_max_connections = match get("DATABASE_MAX_CONNECTIONS") {
            Some(_) => Some(number(&get, "DATABASE_MAX_CONNECTIONS", 0, 1, 1000)?),
            None => None,
        };

        let page_cache_mb = number(&get, "PAGE_CACHE_MB", 16, 0, 4096)?;

        Ok(Settings {
            database_url,
            bind_addr,
            api_tokens,
            public_base_url,
            action_link_secret,
            action_link_secret_generated,
            close_after_months,
            newsroom_timezone,
            default_topic_overview_url,
            community_email,
            comment_max_chars,
            comment_edit_minutes,
            comment_rate_limit,
            flag_notify_threshold,
            flag_hide_threshold,
            smtp_url,
            mail_dir,
            moderation_email_to,
            moderation_email_from,
            mail_max_attempts,
            action_link_days,
            close_expired_schedule,
            deliver_notifications_schedule,
            log_format,
            database_max_connections,
            page_cache_mb,
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("bind_addr", &self.bind_addr)
            .field("api_tokens", &self.api_tokens)
            .field("public_base_url", &self.public_base_url)
            .field("action_link_secret", &"[redacted]")
            .field("close_after_months", &self.close_after_months)
            .field("newsroom_timezone", &self.newsroom_timezone)
            .field(
                "default_topic_overview_url",
                &self.default_topic_overview_url,
            )
            .field("community_email", &self.community_email)
            .field("comment_max_chars", &self.comment_max_chars)
            .field("comment_edit_minutes", &self.comment_edit_minutes)
            .field("comment_rate_limit", &self.comment_rate_limit)
            .field("flag_notify_threshold", &self.flag_notify_threshold)
            .field("flag_hide_threshold", &self.flag_hide_threshold)
            .field("smtp_url", &self.smtp_url.as_deref().map(redact_url))
            .field("mail_dir", &self.mail_dir)
            .field("moderation_email_to", &self.moderation_email_to)
            .field("moderation_email_from", &self.moderation_email_from)
            .field("mail_max_attempts", &self.mail_max_attempts)
            .field("action_link_days", &self.action_link_days)
            .field("close_expired_schedule", &self.close_expired_schedule)
            .field(
                "deliver_notifications_schedule",
                &self.deliver_notifications_schedule,
            )
            .field("log_format", &self.log_format)
            .field("page_cache_mb", &self.page_cache_mb)
            .finish()
    }
}

/// Replaces the password of a `scheme://user:password@host` URL with `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}{tail}")
        }
        None => url.to_string(),
    }
}

fn parse_tokens(raw: &str) -> Result<Vec<ApiToken>, ConfigError> {
    let mut tokens: Vec<ApiToken> = Vec::new();
    for (i, entry) in raw
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .enumerate()
    {
        let mut parts = entry.splitn(3, ':');
        let (Some(name), Some(role), Some(token)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad(
                "API_TOKENS",
                format!("entry {} is not name:role:token", i + 1),
            ));
        };
        let role = match role {
            "service" => Role::Service,
            "moderator" => Role::Moderator,
            other => {
                return Err(bad(
                    "API_TOKENS",
                    format!(
                        "entry {} has role `{other}`; roles are service and moderator",
                        i + 1
                    ),
                ));
            }
        };
        if name.is_empty() || name.len() > 64 {
            return Err(bad(
                "API_TOKENS",
                format!("entry {} needs a name of 1 to 64 characters", i + 1),
            ));
        }
        if token.len() < 8 {
            return Err(bad(
                "API_TOKENS",
                format!("the token of `{name}` is shorter than 8 characters"),
            ));
        }
        if tokens.iter().any(|t| t.token == token) {
            return Err(bad(
                "API_TOKENS",
                format!("the token of `{name}` is used twice"),
            ));
        }
        tokens.push(ApiToken {
            name: name.to_string(),
            role,
            token: token.to_string(),
        });
    }
    Ok(tokens)
}

fn number(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(bad(
                var,
                format!("`{raw}` is not a whole number from {min} to {max}"),
            )),
        },
    }
}

fn check_http_url(var: &'static str, url: &str) -> Result<(), ConfigError> {
    if (url.starts_with("http://") || url.starts_with("https://")) && url.len() > "https://".len() {
        Ok(())
    } else {
        Err(bad(var, format!("`{url}` is not an http(s) URL")))
    }
}

fn check_email(var: &'static str, value: &str) -> Result<(), ConfigError> {
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
        _ => Err(bad(var, format!("`{value}` is not an email address"))),
    }
}

fn check_cron(var: &'static str, expression: &str) -> Result<(), ConfigError> {
    crate::jobs::validate_schedule(expression).map_err(|message| bad(var, message))
}

#[cfg(test)]
mod tests {
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
        assert_eq!(s.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(s.bind_addr, "127.0.0.1:8080");
        assert_eq!(s.public_base_url, "http://127.0.0.1:8080");
        assert_eq!(s.close_after_months, 18);
        assert_eq!(s.newsroom_timezone, chrono_tz::Europe::Vienna);
        assert_eq!(s.moderation_email_to, vec!["forum@krone.at".to_string()]);
        assert!(s.action_link_secret_generated);
        assert!(s.api_tokens.is_empty());
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        let cases = [
            ("BIND_ADDR", "nowhere"),
            ("API_TOKENS", "web:admin:abcdefgh1234"),
            ("API_TOKENS", "webonly"),
            ("CLOSE_AFTER_MONTHS", "0"),
            ("CLOSE_AFTER_MONTHS", "eighteen"),
            ("NEWSROOM_TIMEZONE", "Mars/Olympus"),
            ("COMMENT_MAX_CHARS", "-1"),
            ("SMTP_URL", "http://mail"),
            ("MODERATION_EMAIL_TO", "not-an-address"),
            ("CLOSE_EXPIRED_SCHEDULE", "*/5 * * * *"),
            ("DELIVER_NOTIFICATIONS_SCHEDULE", "every ten seconds"),
            ("ACTION_LINK_SECRET", "short"),
            ("DATABASE_URL", "mysql://x"),
            ("LOG_FORMAT", "xml"),
        ];
        for (var, value) in cases {
            let err = Settings::from_vars(vars(&[(var, value)])).unwrap_err();
            assert_eq!(err.var, var, "{var}={value}");
            assert!(err.to_string().contains(var));
        }
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
        ]))
        .unwrap();
        assert_eq!(s.api_tokens.len(), 2);
        assert_eq!(s.api_tokens[1].role, Role::Moderator);
        let printed = format!("{s:?}");
        for secret in [
            "s3cr3t-web-token",
            "s3cr3t-mod-token",
            "hunter2-password",
            "mail-password",
        ] {
            assert!(!printed.contains(secret), "{secret} leaked in {printed}");
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
    }
}
