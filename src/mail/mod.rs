//! Outgoing email: the [`Mailer`] (SMTP through lettre, or one `.eml` file per mail
//! in a directory) and the notification templates.
//!
//! The mailer is built once per process from [`MailSettings`] and handed to whoever
//! sends (it is cheap to clone). It never appears in a global.

mod eml;
mod message;
mod smtp;
mod templates;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lettre::message::{Mailbox, Mailboxes};
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::redact::SecretUrl;

pub use message::OutgoingEmail;
pub(crate) use templates::readable_html_formatter;
pub use templates::{
    NotificationContent, NotificationKind, NotificationView, hold_reason_label, reason_label,
    render_notification_in,
};

/// Where and as whom mail goes out (from `SMTP_URL`, `MAIL_DIR`,
/// `MODERATION_EMAIL_FROM`, `MODERATION_EMAIL_TO`). `Debug` shows the SMTP URL without
/// credentials.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// `smtp://host:port`, `smtp://user:pass@host:587?tls=required`, `smtps://...`.
    /// `None` (or blank) writes mail to `mail_dir` instead.
    pub smtp_url: Option<SecretUrl>,
    /// Used when `smtp_url` is `None`: one `.eml` file per mail.
    pub mail_dir: PathBuf,
    /// e.g. `Kommentare <noreply@krone.at>`.
    pub from: String,
    /// e.g. `["forum@krone.at"]`; an entry may itself be a comma-separated list.
    pub to: Vec<String>,
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dir: &Path) -> MailSettings {
        MailSettings {
            smtp_url: None,
            mail_dir: dir.join("mail"),
            from: "Kommentare <noreply@krone.at>".to_owned(),
            to: vec!["forum@krone.at".to_owned()],
        }
    }

    fn email(id: &str, parent: Option<&str>) -> OutgoingEmail {
        OutgoingEmail {
            subject: "Gemeldeter Kommentar (1 Meldung) – „Einladung an Putin“".to_owned(),
            text: "Text mit Umlauten: äöüß\nZweite Zeile".to_owned(),
            html: "<p>HTML mit Umlauten: äöüß</p>".to_owned(),
            message_id: id.to_owned(),
            in_reply_to: parent.map(str::to_owned),
            urgent: false,
        }
    }

    fn eml_files(dir: &Path) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort();
        files
    }

    /// The header block of a raw message, unfolded.
    fn headers(raw: &str) -> String {
        let head = raw.split("\r\n\r\n").next().unwrap();
        head.replace("\r\n ", " ").replace("\r\n\t", " ")
    }

    #[tokio::test]
    async fn without_smtp_each_mail_is_written_as_one_eml_file() {
        let tmp = tempfile::tempdir().unwrap();
        let s = settings(tmp.path());
        let mailer = Mailer::from_settings(&s).unwrap();
        assert!(s.mail_dir.is_dir(), "mail_dir is created");
        assert_eq!(mailer.mail_dir(), Some(s.mail_dir.as_path()));
        assert_eq!(
            mailer.describe(),
            format!("files in {}", s.mail_dir.display())
        );

        mailer
            .send(&email("<comment-42.n1@comment-service>", None))
            .await
            .unwrap();
        mailer
            .send(&email(
                "<comment-42.n2@comment-service>",
                Some("<comment-42.n1@comment-service>"),
            ))
            .await
            .unwrap();

        let files = eml_files(&s.mail_dir);
        assert_eq!(files.len(), 2, "{files:?}");
        let all: Vec<PathBuf> = std::fs::read_dir(&s.mail_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(all.len(), 2, "no temporary files left: {all:?}");

        let raws: Vec<String> = files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        let first = raws
            .iter()
            .find(|r| headers(r).contains("Message-ID: <comment-42.n1@comment-service>"))
            .expect("first mail");
        let reply = raws
            .iter()
            .find(|r| headers(r).contains("Message-ID: <comment-42.n2@comment-service>"))
            .expect("reply");

        let h = headers(first);
        assert!(h.contains("From: Kommentare <noreply@krone.at>"), "{h}");
        assert!(h.contains("To: forum@krone.at"), "{h}");
        assert!(h.contains("\r\nDate: "), "{h}");
        assert!(h.contains("Subject: "), "{h}");
        assert!(h.contains("Auto-Submitted: auto-generated"), "{h}");
        assert!(h.contains("multipart/alternative"), "{h}");
        assert!(!h.contains("In-Reply-To"), "{h}");
        assert!(!h.contains("References"), "{h}");
        assert!(first.contains("text/plain"));
        assert!(first.contains("text/html"));

        let h = headers(reply);
        assert!(
            h.contains("In-Reply-To: <comment-42.n1@comment-service>"),
            "{h}"
        );
        assert!(
            h.contains("References: <comment-42.n1@comment-service>"),
            "{h}"
        );
    }

    #[tokio::test]
    async fn message_ids_without_brackets_are_accepted_and_bad_ones_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let mailer = Mailer::from_settings(&settings(tmp.path())).unwrap();
        mailer
            .send(&email(
                "comment-1.n1@comment-service",
                Some("comment-1.n0@x"),
            ))
            .await
            .unwrap();
        let raw = std::fs::read_to_string(&eml_files(mailer.mail_dir().unwrap())[0]).unwrap();
        assert!(headers(&raw).contains("Message-ID: <comment-1.n1@comment-service>"));
        assert!(headers(&raw).contains("In-Reply-To: <comment-1.n0@x>"));

        for bad in [
            "",
            "no-at-sign",
            "<a b@c>",
            "<a@b>\r\nBcc: x@y",
            "<ä@b>",
            "@x",
            "x@",
        ] {
            let err = mailer.send(&email(bad, None)).await.unwrap_err();
            assert!(matches!(err, MailError::InvalidEmail(_)), "{bad:?}: {err}");
            assert!(err.is_permanent());
        }
        let err = mailer
            .send(&email("<ok@x>", Some("bad parent")))
            .await
            .unwrap_err();
        assert!(matches!(err, MailError::InvalidEmail(_)));
        assert_eq!(eml_files(mailer.mail_dir().unwrap()).len(), 1);
    }

    #[test]
    fn several_recipients_are_accepted_as_entries_or_as_a_comma_separated_list() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = settings(tmp.path());
        s.to = vec![
            "forum@krone.at, Team <team@krone.at>".to_owned(),
            " ".to_owned(),
            "chef@krone.at".to_owned(),
        ];
        let mailer = Mailer::from_settings(&s).unwrap();
        assert_eq!(mailer.inner.to.len(), 3);
    }

    #[test]
    fn bad_settings_are_refused_with_the_variable_named() {
        let tmp = tempfile::tempdir().unwrap();

        let mut s = settings(tmp.path());
        s.from = "not an address".to_owned();
        let err = Mailer::from_settings(&s).unwrap_err();
        assert!(
            err.to_string().starts_with("MODERATION_EMAIL_FROM:"),
            "{err}"
        );

        let mut s = settings(tmp.path());
        s.to = vec!["forum@krone.at".to_owned(), "nope".to_owned()];
        let err = Mailer::from_settings(&s).unwrap_err();
        assert!(err.to_string().starts_with("MODERATION_EMAIL_TO:"), "{err}");

        let mut s = settings(tmp.path());
        s.to = vec![];
        assert!(matches!(
            Mailer::from_settings(&s),
            Err(MailError::NoRecipients)
        ));
        s.to = vec!["  ".to_owned()];
        assert!(matches!(
            Mailer::from_settings(&s),
            Err(MailError::NoRecipients)
        ));

        for url in [
            "http://user:hunter2@mail.example:25",
            "smtp://user:hunter2@mail.example:25?tls=sometimes",
            "smtp://user:hunter2@:25",
            "smtp://user:hunter2@mail.example:notaport",
            "nonsense",
        ] {
            let mut s = settings(tmp.path());
            s.smtp_url = Some(SecretUrl::new(url));
            let err = Mailer::from_settings(&s).unwrap_err();
            let msg = err.to_string();
            assert!(
                matches!(err, MailError::InvalidSmtpUrl { .. }),
                "{url}: {msg}"
            );
            assert!(msg.starts_with("SMTP_URL:"), "{msg}");
            assert!(!msg.contains("hunter2"), "{msg}");
            assert!(!format!("{err:?}").contains("hunter2"));
        }

        // A file where the directory should be.
        let file = tmp.path().join("a-file");
        std::fs::write(&file, "x").unwrap();
        let mut s = settings(tmp.path());
        s.mail_dir = file.join("mail");
        let err = Mailer::from_settings(&s).unwrap_err();
        assert!(matches!(err, MailError::MailDir { .. }), "{err}");
        assert!(err.to_string().starts_with("MAIL_DIR:"));
    }

    #[test]
    fn an_smtp_mailer_is_built_without_a_runtime_and_never_shows_credentials() {
        let tmp = tempfile::tempdir().unwrap();
        for (url, described) in [
            ("smtp://127.0.0.1:2525", "smtp://127.0.0.1:2525"),
            ("smtp://mail.example", "smtp://mail.example:25"),
            (
                "smtp://user:hunter2@mail.example:587?tls=required",
                "smtp://mail.example:587?tls=required",
            ),
            (
                "smtp://user:hunter2@mail.example?tls=required",
                "smtp://mail.example:587?tls=required",
            ),
            (
                "smtps://us%40er:hun%2Fter2@mail.example",
                "smtps://mail.example:465",
            ),
            ("  smtps://mail.example:4650  ", "smtps://mail.example:4650"),
        ] {
            let mut s = settings(tmp.path());
            s.mail_dir = tmp.path().join("unused");
            s.smtp_url = Some(SecretUrl::new(url));
            let mailer = Mailer::from_settings(&s).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert_eq!(mailer.describe(), described);
            assert_eq!(mailer.mail_dir(), None);
            let debug = format!("{mailer:?} {s:?}");
            assert!(!debug.contains("hunter2"), "{debug}");
            assert!(!debug.contains("hun%2Fter2"), "{debug}");
        }
        assert!(!tmp.path().join("unused").exists(), "no mail_dir for SMTP");

        // A blank SMTP_URL means "no SMTP".
        let mut s = settings(tmp.path());
        s.smtp_url = Some(SecretUrl::new("  "));
        assert!(Mailer::from_settings(&s).unwrap().mail_dir().is_some());
    }

    #[tokio::test]
    async fn an_unreachable_smtp_server_is_a_retryable_error() {
        // Port 1 on loopback: connection refused.
        let tmp = tempfile::tempdir().unwrap();
        let mut s = settings(tmp.path());
        s.smtp_url = Some(SecretUrl::new("smtp://127.0.0.1:1"));
        let mailer = Mailer::from_settings(&s).unwrap();
        let err = mailer
            .send(&email("<x.1@comment-service>", None))
            .await
            .unwrap_err();
        assert!(matches!(err, MailError::Smtp { .. }), "{err}");
        assert!(!err.is_permanent(), "{err}");
        assert!(err.to_string().contains("smtp://127.0.0.1:1"), "{err}");
        mailer.shutdown().await;
    }

    #[tokio::test]
    async fn a_server_that_stops_answering_is_given_up_in_time_and_retried() {
        // Accepts connections and never says a word.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let silent = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let tmp = tempfile::tempdir().unwrap();
        let mut s = settings(tmp.path());
        s.smtp_url = Some(SecretUrl::new(format!("smtp://127.0.0.1:{port}")));
        let mailer = Mailer::from_settings(&s)
            .unwrap()
            .with_send_timeout(Duration::from_millis(300));
        assert!(SEND_TIMEOUT <= Duration::from_secs(30));
        let started = std::time::Instant::now();
        let err = mailer
            .send(&email("<x.2@comment-service>", None))
            .await
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(matches!(err, MailError::TimedOut { .. }), "{err}");
        assert!(!err.is_permanent());
        silent.abort();
    }

    #[tokio::test]
    async fn mail_files_and_their_directory_are_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let mut s = settings(tmp.path());
        s.mail_dir = tmp.path().join("deep").join("mail");
        let mailer = Mailer::from_settings(&s).unwrap();
        mailer
            .send(&email("<comment-7.n1@comment-service>", None))
            .await
            .unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&s.mail_dir), 0o700);
        let files = eml_files(&s.mail_dir);
        assert_eq!(files.len(), 1);
        assert_eq!(mode(&files[0]), 0o600);
    }
}
