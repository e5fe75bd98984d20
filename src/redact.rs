//! Showing URLs without their secrets, for logs, `Debug` output and error messages.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

/// Query parameters that are shown (their values reduced to letters and digits); all others are
/// left out, since some drivers take a password there.
const SHOWN_PARAMETERS: [&str; 3] = ["tls", "sslmode", "mode"];

/// The parts of a URL that may be shown: scheme, host, port, path and a few harmless query
/// parameters. The user information (user name and password) and the fragment are dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownUrl {
    /// Lower case; empty when the text has no `scheme://`.
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
    pub path: String,
    pub query: Vec<(String, String)>,
}

impl ShownUrl {
    /// Parses leniently and never fails: even a password with unencoded `/`, `?` or `#` is
    /// dropped, since everything up to the last `@` counts as user information.
    pub fn parse(url: &str) -> ShownUrl {
        let url = url.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            return ShownUrl {
                scheme: String::new(),
                host: if url.contains('@') {
                    "[redacted]".to_owned()
                } else {
                    url.to_owned()
                },
                port: None,
                path: String::new(),
                query: Vec::new(),
            };
        };
        let rest = rest.rsplit_once('@').map_or(rest, |(_, after)| after);
        let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (host, port.parse().ok()),
            _ => (authority, None),
        };
        let tail = tail.split('#').next().unwrap_or("");
        let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
        let query = query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .filter(|(key, _)| SHOWN_PARAMETERS.contains(key))
            .map(|(key, value)| {
                let value = value
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .take(20)
                    .collect();
                (key.to_owned(), value)
            })
            .collect();
        ShownUrl {
            scheme: scheme.to_ascii_lowercase(),
            host: host.to_owned(),
            port,
            path: path.to_owned(),
            query,
        }
    }

    /// The value of a shown query parameter.
    pub fn parameter(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for ShownUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.scheme.is_empty() {
            write!(f, "{}://", self.scheme)?;
        }
        f.write_str(&self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        f.write_str(&self.path)?;
        for (i, (key, value)) in self.query.iter().enumerate() {
            let separator = if i == 0 { '?' } else { '&' };
            write!(f, "{separator}{key}={value}")?;
        }
        Ok(())
    }
}

/// `url` without its secrets.
pub fn url(url: &str) -> String {
    ShownUrl::parse(url).to_string()
}

/// A URL that may hold credentials (`DATABASE_URL`, `SMTP_URL`). `Debug` and `Display` show it
/// through [`url`]; only [`ExposeSecret::expose_secret`] gives the whole text.
#[derive(Clone)]
pub struct SecretUrl(SecretString);

impl SecretUrl {
    pub fn new(url: impl Into<String>) -> SecretUrl {
        SecretUrl(SecretString::from(url.into()))
    }
}

impl ExposeSecret<str> for SecretUrl {
    fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&url(self.0.expose_secret()))
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", url(self.0.expose_secret()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_unknown_parameters_are_left_out() {
        for (raw, shown) in [
            (
                "postgres://app:hunter2@db:5432/comments?sslmode=require&password=hunter2",
                "postgres://db:5432/comments?sslmode=require",
            ),
            (
                "sqlite://data/comments.db?mode=rwc",
                "sqlite://data/comments.db?mode=rwc",
            ),
            ("sqlite::memory:", "sqlite::memory:"),
            (
                "smtp://user:pa/ss?wo#rd@mail.example:25",
                "smtp://mail.example:25",
            ),
            ("smtp://[::1]:2525", "smtp://[::1]:2525"),
            (
                "SMTPS://us%40er:hun%2Fter2@mail.example?tls=required#x",
                "smtps://mail.example?tls=required",
            ),
            ("user:hunter2@host", "[redacted]"),
        ] {
            assert_eq!(url(raw), shown, "{raw}");
        }
    }

    #[test]
    fn a_secret_url_shows_only_its_redacted_form() {
        let secret = SecretUrl::new("postgres://app:hunter2@db/comments");
        assert_eq!(secret.to_string(), "postgres://db/comments");
        assert!(!format!("{secret:?}").contains("hunter2"));
        assert_eq!(secret.expose_secret(), "postgres://app:hunter2@db/comments");
    }
}
