//! The parsers of single values: each checks one variable on its own and says what is wrong
//! with it, never repeating a secret.

use std::net::SocketAddr;

use chrono_tz::Tz;
use secrecy::{SecretSlice, SecretString};

use super::LogFormat;
use crate::auth::{ApiToken, Role, Tokens};
use crate::redact::SecretUrl;

pub(super) fn database_url(url: &str) -> Result<SecretUrl, String> {
    if url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://")
    {
        Ok(SecretUrl::new(url))
    } else {
        Err("must start with sqlite: or postgres://".to_owned())
    }
}

pub(super) fn socket_addr(addr: &str) -> Result<String, String> {
    match addr.parse::<SocketAddr>() {
        Ok(_) => Ok(addr.to_owned()),
        Err(_) => Err(format!("`{addr}` is not an address like 127.0.0.1:8080")),
    }
}

pub(super) fn whole_number<const MIN: u32, const MAX: u32>(raw: &str) -> Result<u32, String> {
    match raw.parse::<u32>() {
        Ok(n) if (MIN..=MAX).contains(&n) => Ok(n),
        _ => Err(format!("`{raw}` is not a whole number from {MIN} to {MAX}")),
    }
}

/// Web origins, as `LIVE_ALLOWED_ORIGINS` lists them.
#[derive(Clone, Debug)]
pub(super) struct Origins(pub Vec<String>);

/// A comma-separated list of web origins (`https://www.example.at`, no path).
pub(super) fn origins(raw: &str) -> Result<Origins, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| {
            let rest = o
                .strip_prefix("https://")
                .or_else(|| o.strip_prefix("http://"));
            match rest {
                Some(host) if !host.is_empty() && !host.contains('/') => Ok(o.to_owned()),
                _ => Err(format!(
                    "`{o}` is not an origin like `https://www.example.at` (scheme and host, no path)"
                )),
            }
        })
        .collect::<Result<_, _>>()
        .map(Origins)
}

pub(super) fn http_url(url: &str) -> Result<String, String> {
    if (url.starts_with("http://") || url.starts_with("https://")) && url.len() > "https://".len() {
        Ok(url.to_owned())
    } else {
        Err(format!("`{url}` is not an http(s) URL"))
    }
}

pub(super) fn public_base_url(url: &str) -> Result<String, String> {
    http_url(url.trim_end_matches('/'))
}

pub(super) fn action_link_secret(secret: &str) -> Result<SecretString, String> {
    if secret.len() < 16 {
        Err("must be at least 16 characters long".to_owned())
    } else {
        Ok(SecretString::from(secret))
    }
}

pub(super) fn webhook_url(url: &str) -> Result<SecretUrl, String> {
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

pub(super) fn webhook_secret(secret: &str) -> Result<SecretSlice<u8>, String> {
    let key = webhook_key(secret)?;
    if key.len() < 16 {
        return Err("must be at least 16 characters (or 16 bytes after `whsec_`) long".to_owned());
    }
    Ok(SecretSlice::from(key))
}

pub(super) fn timezone(name: &str) -> Result<Tz, String> {
    name.parse::<Tz>()
        .map_err(|_| format!("`{name}` is not an IANA time zone like Europe/Vienna"))
}

pub(super) fn smtp_url(url: &str) -> Result<SecretUrl, String> {
    if url.starts_with("smtp://") || url.starts_with("smtps://") {
        Ok(SecretUrl::new(url))
    } else {
        Err("must start with smtp:// or smtps://".to_owned())
    }
}

pub(super) fn log_format(raw: &str) -> Result<LogFormat, String> {
    match raw {
        "human" | "text" => Ok(LogFormat::Human),
        "json" => Ok(LogFormat::Json),
        other => Err(format!("`{other}` is not `json` or `human`")),
    }
}

/// `MODERATION_EMAIL_TO`: one address or a comma-separated list.
#[derive(Clone)]
pub(super) struct Recipients(pub(super) Vec<String>);

pub(super) fn recipients(raw: &str) -> Result<Recipients, String> {
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
pub(super) fn email(value: &str) -> Result<String, String> {
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
pub(super) fn api_tokens(raw: &str) -> Result<Tokens, String> {
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
