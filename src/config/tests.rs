use secrecy::ExposeSecret;

use super::*;
use crate::auth::Role;

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
    let err = Settings::from_vars(vars(&[("CLOSE_EXPIRED_SCHEDULE", "x y z a b c")])).unwrap_err();
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
