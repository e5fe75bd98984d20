//! The SMTP side of the mailer: the transport from `SMTP_URL`, and how its server is shown.

use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::{AsyncSmtpTransport, Tokio1Executor};

use std::time::Duration;

use super::MailError;
use crate::redact::ShownUrl;

/// How long connecting to the server may take (lettre applies its timeout to the connection; the
/// whole exchange is bounded by `SEND_TIMEOUT`).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The server an SMTP URL names, without credentials and with the port lettre uses when the URL
/// names none: `smtp://mail.example:587?tls=required`.
pub(super) fn endpoint(url: &str) -> String {
    let mut shown = ShownUrl::parse(url);
    shown.port = shown
        .port
        .or(match (shown.scheme.as_str(), shown.parameter("tls")) {
            ("smtp", None) => Some(25),
            ("smtp", Some(_)) => Some(587),
            ("smtps", _) => Some(465),
            _ => None,
        });
    shown.to_string()
}

/// A pooled transport's builder for `url` (`smtp://` or `smtps://`, with credentials and
/// `?tls=required` as lettre reads them), and the server it names. Opens no connection.
pub(super) fn transport(url: &str) -> Result<(AsyncSmtpTransportBuilder, String), MailError> {
    let server = endpoint(url);
    let invalid = |reason: String| MailError::InvalidSmtpUrl {
        url: server.clone(),
        reason,
    };
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    if !matches!(
        scheme.map(str::to_ascii_lowercase).as_deref(),
        Some("smtp" | "smtps")
    ) {
        return Err(invalid(
            "expected smtp://host:port or smtps://host:port".to_owned(),
        ));
    }
    let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|e| invalid(e.to_string()))?
        .timeout(Some(CONNECT_TIMEOUT));
    Ok((builder, server))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_badly_encoded_password_is_not_shown_either() {
        // Unencoded '/', '?' and '#' in the password: the URL is unusable, and the
        // description must still not leak the password's pieces.
        assert_eq!(
            endpoint("smtp://user:pa/ss?wo#rd@mail.example:25"),
            "smtp://mail.example:25"
        );
        assert_eq!(endpoint("smtp://[::1]:2525"), "smtp://[::1]:2525");
    }
}
