//! Outgoing email: the [`Mailer`] (SMTP through lettre, or one `.eml` file per mail
//! in a directory) and the notification templates.
//!
//! The mailer is built once per process from [`MailSettings`] and handed to whoever
//! sends (it is cheap to clone). It never appears in a global.

mod eml;
mod message;
mod smtp;
mod templates;
#[cfg(test)]
mod tests;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::message::{Mailbox, Mailboxes};
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;

pub use crate::config::MailSettings;
pub use message::OutgoingEmail;
pub(crate) use templates::readable_html_formatter;
pub use templates::{
    NotificationContent, NotificationKind, NotificationView, hold_reason_label, reason_label,
    render_notification_in,
};

/// Why mail could not be configured, built or sent. Never contains a password.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A sender or recipient address does not parse.
    #[error("{setting}: invalid email address {value:?}: {reason}")]
    InvalidAddress {
        setting: &'static str,
        value: String,
        reason: String,
    },
    /// `MODERATION_EMAIL_TO` names nobody.
    #[error("MODERATION_EMAIL_TO: no recipient configured")]
    NoRecipients,
    /// `SMTP_URL` is not a usable `smtp://` or `smtps://` URL (shown without credentials).
    #[error("SMTP_URL: invalid value {url}: {reason}")]
    InvalidSmtpUrl { url: String, reason: String },
    /// `MAIL_DIR` cannot be created.
    #[error("MAIL_DIR: cannot create mail directory {}: {source}", path.display())]
    MailDir { path: PathBuf, source: io::Error },
    /// The email itself is unusable (bad Message-ID, ...); retrying will not help.
    #[error("invalid email: {0}")]
    InvalidEmail(String),
    /// The SMTP server refused the mail or could not be reached.
    #[error("sending through {server} failed: {error}")]
    Smtp {
        server: String,
        error: lettre::transport::smtp::Error,
    },
    /// The SMTP server did not finish the exchange in time. The mail may or may not have been
    /// accepted; it is retried.
    #[error("sending through {server} did not finish within {} s", after.as_secs())]
    TimedOut { server: String, after: Duration },
    /// Writing the `.eml` file failed.
    #[error("writing mail file in {} failed: {source}", path.display())]
    File { path: PathBuf, source: io::Error },
    /// A notification template failed to render (a bug, not a delivery problem).
    #[error("rendering mail template {template} failed: {reason}")]
    Template { template: String, reason: String },
}

impl MailError {
    /// True when retrying the same mail cannot succeed: the server answered with a
    /// permanent (5xx) error, or the mail or configuration is invalid. Connection
    /// problems, timeouts, 4xx answers and file errors are worth retrying.
    pub fn is_permanent(&self) -> bool {
        match self {
            MailError::Smtp { error, .. } => error.is_permanent(),
            MailError::File { .. } | MailError::TimedOut { .. } => false,
            MailError::InvalidAddress { .. }
            | MailError::NoRecipients
            | MailError::InvalidSmtpUrl { .. }
            | MailError::MailDir { .. }
            | MailError::InvalidEmail(_)
            | MailError::Template { .. } => true,
        }
    }
}

/// Sends [`OutgoingEmail`]s through SMTP or into a directory. Cheap to clone.
///
/// The SMTP transport keeps a pool of connections; it is created on the first
/// [`send`](Mailer::send) (inside the caller's tokio runtime), so building a
/// `Mailer` needs no runtime and opens no connection.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<MailerInner>,
}

/// How long one send may take at most, from connecting to the server's answer to the message.
/// A send that takes longer is abandoned (and retried), so a sender holding a lease on the mail
/// never outlives the lease (see `jobs::deliver_notifications`).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(20);

struct MailerInner {
    from: Mailbox,
    to: Vec<Mailbox>,
    transport: Transport,
    description: String,
    send_timeout: Duration,
}

enum Transport {
    Smtp {
        builder: Box<AsyncSmtpTransportBuilder>,
        /// The pool, built on first use; dropped after a send timed out, since its connection may
        /// be in the middle of an exchange.
        transport: Mutex<Option<AsyncSmtpTransport<Tokio1Executor>>>,
        server: String,
    },
    Files {
        dir: PathBuf,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("transport", &self.inner.description)
            .field("from", &self.inner.from.to_string())
            .field(
                "to",
                &self
                    .inner
                    .to
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Mailer {
    /// Validates the settings and builds the mailer. Creates `mail_dir` when mail
    /// goes to files. Opens no connection.
    pub fn from_settings(s: &MailSettings) -> Result<Mailer, MailError> {
        let from: Mailbox = s
            .from
            .trim()
            .parse()
            .map_err(
                |e: lettre::address::AddressError| MailError::InvalidAddress {
                    setting: "MODERATION_EMAIL_FROM",
                    value: s.from.clone(),
                    reason: e.to_string(),
                },
            )?;

        let mut to = Vec::new();
        for entry in &s.to {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let parsed: Mailboxes = entry.parse().map_err(|e: lettre::address::AddressError| {
                MailError::InvalidAddress {
                    setting: "MODERATION_EMAIL_TO",
                    value: entry.to_owned(),
                    reason: e.to_string(),
                }
            })?;
            to.extend(parsed);
        }
        if to.is_empty() {
            return Err(MailError::NoRecipients);
        }

        let smtp_url = s
            .smtp_url
            .as_ref()
            .map(|url| url.expose_secret().trim())
            .filter(|u| !u.is_empty());
        let (transport, description) = match smtp_url {
            Some(url) => {
                let (builder, server) = smtp::transport(url)?;
                (
                    Transport::Smtp {
                        builder: Box::new(builder),
                        transport: Mutex::new(None),
                        server: server.clone(),
                    },
                    server,
                )
            }
            None => {
                eml::create_private_dir(&s.mail_dir).map_err(|source| MailError::MailDir {
                    path: s.mail_dir.clone(),
                    source,
                })?;
                (
                    Transport::Files {
                        dir: s.mail_dir.clone(),
                    },
                    format!("files in {}", s.mail_dir.display()),
                )
            }
        };

        Ok(Mailer {
            inner: Arc::new(MailerInner {
                from,
                to,
                transport,
                description,
                send_timeout: SEND_TIMEOUT,
            }),
        })
    }

    /// The same mailer with another limit on one send (tests use a short one).
    pub fn with_send_timeout(self, send_timeout: Duration) -> Mailer {
        let inner = Arc::try_unwrap(self.inner).unwrap_or_else(|_| {
            unreachable!("with_send_timeout is called on a mailer that was just built")
        });
        Mailer {
            inner: Arc::new(MailerInner {
                send_timeout,
                ..inner
            }),
        }
    }

    /// The longest one send may take.
    pub fn send_timeout(&self) -> Duration {
        self.inner.send_timeout
    }

    /// Sends one email: multipart/alternative (text and HTML), with `From`, `To`,
    /// `Date`, `Message-ID` and, for a reply, `In-Reply-To` and `References`.
    pub async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        let (message, message_id) = message::build(&self.inner.from, &self.inner.to, email)?;
        match &self.inner.transport {
            Transport::Smtp {
                builder,
                transport,
                server,
            } => {
                let pool = transport
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get_or_insert_with(|| (**builder).clone().build())
                    .clone();
                let after = self.inner.send_timeout;
                match tokio::time::timeout(after, pool.send(message)).await {
                    Ok(sent) => sent.map(drop).map_err(|error| MailError::Smtp {
                        server: server.clone(),
                        error,
                    })?,
                    Err(_) => {
                        *transport.lock().unwrap_or_else(|e| e.into_inner()) = None;
                        return Err(MailError::TimedOut {
                            server: server.clone(),
                            after,
                        });
                    }
                }
            }
            Transport::Files { dir } => {
                let path = eml::write(dir, &message_id, message.formatted()).await?;
                tracing::debug!(file = %path.display(), "mail written to file");
            }
        }
        tracing::debug!(message_id = %message_id, via = %self.inner.description, "mail sent");
        Ok(())
    }

    /// Where mail goes, without credentials: `smtp://host:port` or `files in data/mail`.
    pub fn describe(&self) -> String {
        self.inner.description.clone()
    }

    /// The directory `.eml` files are written to, when not sending through SMTP.
    pub fn mail_dir(&self) -> Option<&Path> {
        match &self.inner.transport {
            Transport::Files { dir } => Some(dir),
            Transport::Smtp { .. } => None,
        }
    }

    /// Closes pooled SMTP connections (politely, with `QUIT`). Call on shutdown.
    pub async fn shutdown(&self) {
        if let Transport::Smtp { transport, .. } = &self.inner.transport {
            let pool = transport.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(pool) = pool {
                pool.shutdown().await;
            }
        }
    }
}
