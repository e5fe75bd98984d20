//! Outgoing email: the [`Mailer`] (SMTP through lettre, or one `.eml` file per mail
//! in a directory) and the notification templates.
//!
//! The mailer is built once per process from [`MailSettings`] and handed to whoever
//! sends (it is cheap to clone). It never appears in a global.

mod templates;

use std::fmt;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Mailboxes, MultiPart};
use lettre::transport::smtp::AsyncSmtpTransportBuilder;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rand::RngCore as _;

pub(crate) use templates::readable_html_formatter;
pub use templates::{NotificationKind, NotificationView, reason_label, render_notification_in};

/// Where and as whom mail goes out (from `SMTP_URL`, `MAIL_DIR`,
/// `MODERATION_EMAIL_FROM`, `MODERATION_EMAIL_TO`).
#[derive(Clone)]
pub struct MailSettings {
    /// `smtp://host:port`, `smtp://user:pass@host:587?tls=required`, `smtps://...`.
    /// `None` (or blank) writes mail to `mail_dir` instead.
    pub smtp_url: Option<String>,
    /// Used when `smtp_url` is `None`: one `.eml` file per mail.
    pub mail_dir: PathBuf,
    /// e.g. `Kommentare <noreply@krone.at>`.
    pub from: String,
    /// e.g. `["forum@krone.at"]`; an entry may itself be a comma-separated list.
    pub to: Vec<String>,
}

/// Like the derived one, but the SMTP URL is shown without credentials.
impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field(
                "smtp_url",
                &self
                    .smtp_url
                    .as_deref()
                    .map(|u| SmtpEndpoint::parse(u).to_string()),
            )
            .field("mail_dir", &self.mail_dir)
            .field("from", &self.from)
            .field("to", &self.to)
            .finish()
    }
}

/// One email to the community team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Becomes the `Message-ID` header, e.g. `<comment-42.n1@comment-service>`
    /// (angle brackets are added if missing).
    pub message_id: String,
    /// The thread's first message; when set, both `In-Reply-To` and `References`
    /// name it.
    pub in_reply_to: Option<String>,
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
            MailError::File { .. } => false,
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

struct MailerInner {
    from: Mailbox,
    to: Vec<Mailbox>,
    transport: Transport,
    description: String,
}

enum Transport {
    Smtp {
        builder: Box<AsyncSmtpTransportBuilder>,
        transport: OnceLock<AsyncSmtpTransport<Tokio1Executor>>,
        server: String,
    },
    Files {
        dir: PathBuf,
    },
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty());
        let (transport, description) = match smtp_url {
            Some(url) => {
                let endpoint = SmtpEndpoint::parse(url);
                let invalid = |reason: String| MailError::InvalidSmtpUrl {
                    url: endpoint.to_string(),
                    reason,
                };
                if !matches!(endpoint.scheme.as_str(), "smtp" | "smtps") {
                    return Err(invalid(
                        "expected smtp://host:port or smtps://host:port".to_owned(),
                    ));
                }
                let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| invalid(e.to_string()))?;
                let description = endpoint.to_string();
                (
                    Transport::Smtp {
                        builder: Box::new(builder),
                        transport: OnceLock::new(),
                        server: description.clone(),
                    },
                    description,
                )
            }
            None => {
                std::fs::create_dir_all(&s.mail_dir).map_err(|source| MailError::MailDir {
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
            }),
        })
    }

    /// Sends one email: multipart/alternative (text and HTML), with `From`, `To`,
    /// `Date`, `Message-ID` and, for a reply, `In-Reply-To` and `References`.
    pub async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        let (message, message_id) = self.build_message(email)?;
        match &self.inner.transport {
            Transport::Smtp {
                builder,
                transport,
                server,
            } => {
                let transport = transport.get_or_init(|| (**builder).clone().build());
                transport
                    .send(message)
                    .await
                    .map_err(|error| MailError::Smtp {
                        server: server.clone(),
                        error,
                    })?;
            }
            Transport::Files { dir } => {
                let path = write_eml(dir, &message_id, message.formatted()).await?;
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
        if let Transport::Smtp { transport, .. } = &self.inner.transport
            && let Some(transport) = transport.get()
        {
            transport.shutdown().await;
        }
    }

    /// The message, and its normalized Message-ID.
    fn build_message(&self, email: &OutgoingEmail) -> Result<(Message, String), MailError> {
        let message_id = normalize_message_id(&email.message_id)?;
        let mut builder = Message::builder()
            .from(self.inner.from.clone())
            .subject(one_line(&email.subject))
            .date(SystemTime::now())
            .message_id(Some(message_id.clone()))
            .header(AutoSubmitted);
        for to in &self.inner.to {
            builder = builder.to(to.clone());
        }
        if let Some(parent) = &email.in_reply_to {
            let parent = normalize_message_id(parent)?;
            builder = builder.in_reply_to(parent.clone()).references(parent);
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map(|message| (message, message_id))
            .map_err(|e| MailError::InvalidEmail(e.to_string()))
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): tells mail systems not to send
/// vacation replies to the notification.
#[derive(Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// `<local@domain>` from `local@domain` or `<local@domain>`; rejects anything that
/// could break the header (spaces, line breaks, non-ASCII).
fn normalize_message_id(raw: &str) -> Result<String, MailError> {
    let trimmed = raw.trim();
    let inner = trimmed
        .strip_prefix('<')
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or(trimmed);
    let valid = inner
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && inner
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>');
    if valid {
        Ok(format!("<{inner}>"))
    } else {
        Err(MailError::InvalidEmail(format!(
            "not a Message-ID: {raw:?} (expected <id@domain>)"
        )))
    }
}

/// Collapses whitespace, including line breaks, to single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Writes `bytes` as a new `.eml` file in `dir` (via a temporary file and a rename,
/// so a reader never sees half a mail) and returns its path.
async fn write_eml(dir: &Path, message_id: &str, bytes: Vec<u8>) -> Result<PathBuf, MailError> {
    let dir = dir.to_path_buf();
    let name = eml_file_name(message_id);
    let dir_for_task = dir.clone();
    tokio::task::spawn_blocking(move || {
        let path = dir_for_task.join(&name);
        let tmp = dir_for_task.join(format!(".{name}.tmp"));
        let result = (|| {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.map(|()| path)
    })
    .await
    .map_err(io::Error::other)
    .and_then(|r| r)
    .map_err(|source| MailError::File { path: dir, source })
}

/// `20190426T085100.123Z-comment-42.n1_comment-service-1a2b3c4d.eml`: sorts by
/// time, names the message, and never collides.
fn eml_file_name(message_id: &str) -> String {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let id: String = message_id
        .trim_matches(['<', '>'])
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let mut random = [0u8; 4];
    rand::rng().fill_bytes(&mut random);
    let random: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("{stamp}-{id}-{random}.eml")
}

/// The parts of an SMTP URL that may be shown: scheme, host, port, `tls`.
/// Parsing is lenient and never fails; credentials are dropped.
struct SmtpEndpoint {
    scheme: String,
    host: String,
    port: Option<u16>,
    tls: Option<String>,
}

impl SmtpEndpoint {
    fn parse(url: &str) -> SmtpEndpoint {
        let url = url.trim();
        let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
        // Everything up to the last '@' is user information (even if a password
        // contains '/', '?' or '#' that should have been percent-encoded).
        let rest = rest.rsplit_once('@').map_or(rest, |(_, after)| after);
        let (authority, tail) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => (host, port.parse().ok()),
            _ => (authority, None),
        };
        let tls = tail
            .split_once('?')
            .map(|(_, query)| query.split('#').next().unwrap_or(""))
            .and_then(|query| {
                query
                    .split('&')
                    .find_map(|pair| pair.strip_prefix("tls="))
                    .map(|v| {
                        v.chars()
                            .filter(|c| c.is_ascii_alphanumeric())
                            .take(20)
                            .collect()
                    })
            });
        SmtpEndpoint {
            scheme: scheme.to_ascii_lowercase(),
            host: host.to_owned(),
            port,
            tls,
        }
    }

    /// The port lettre uses when the URL names none.
    fn effective_port(&self) -> Option<u16> {
        self.port
            .or(match (self.scheme.as_str(), self.tls.as_deref()) {
                ("smtp", None) => Some(25),
                ("smtp", Some(_)) => Some(587),
                ("smtps", _) => Some(465),
                _ => None,
            })
    }
}

impl fmt::Display for SmtpEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)?;
        if let Some(port) = self.effective_port() {
            write!(f, ":{port}")?;
        }
        if let Some(tls) = &self.tls {
            write!(f, "?tls={tls}")?;
        }
        Ok(())
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
            s.smtp_url = Some(url.to_owned());
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
            s.smtp_url = Some(url.to_owned());
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
        s.smtp_url = Some("  ".to_owned());
        assert!(Mailer::from_settings(&s).unwrap().mail_dir().is_some());
    }

    #[test]
    fn a_badly_encoded_password_is_not_shown_either() {
        // Unencoded '/', '?' and '#' in the password: the URL is unusable, and the
        // description must still not leak the password's pieces.
        let e = SmtpEndpoint::parse("smtp://user:pa/ss?wo#rd@mail.example:25");
        assert_eq!(e.to_string(), "smtp://mail.example:25");
        let e = SmtpEndpoint::parse("smtp://[::1]:2525");
        assert_eq!(e.to_string(), "smtp://[::1]:2525");
    }

    #[tokio::test]
    async fn an_unreachable_smtp_server_is_a_retryable_error() {
        // Port 1 on loopback: connection refused.
        let tmp = tempfile::tempdir().unwrap();
        let mut s = settings(tmp.path());
        s.smtp_url = Some("smtp://127.0.0.1:1".to_owned());
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

    #[test]
    fn eml_file_names_are_safe_and_distinct() {
        let a = eml_file_name("<comment-42.n1@comment-service>");
        let b = eml_file_name("<comment-42.n1@comment-service>");
        assert_ne!(a, b);
        assert!(a.ends_with(".eml"));
        assert!(a.contains("-comment-42.n1_comment-service-"), "{a}");
        let weird = eml_file_name("<../../etc/passwd@x>");
        assert!(!weird.contains('/'), "{weird}");
    }
}
