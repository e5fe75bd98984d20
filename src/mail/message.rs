//! Building the MIME message of an [`OutgoingEmail`].

use std::time::SystemTime;

use lettre::Message;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};

use super::MailError;
use super::templates::one_line;

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
    /// A notice of illegal content with a deadline: `Importance: high` and `X-Priority: 1`.
    pub urgent: bool,
}

/// The message (multipart/alternative: text and HTML, with `From`, `To`, `Date`, `Message-ID`
/// and, for a reply, `In-Reply-To` and `References`), and its normalized Message-ID.
pub(super) fn build(
    from: &Mailbox,
    to: &[Mailbox],
    email: &OutgoingEmail,
) -> Result<(Message, String), MailError> {
    let message_id = normalize_message_id(&email.message_id)?;
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(one_line(&email.subject))
        .date(SystemTime::now())
        .message_id(Some(message_id.clone()))
        .header(AutoSubmitted);
    for to in to {
        builder = builder.to(to.clone());
    }
    if email.urgent {
        builder = builder.header(Importance).header(XPriority);
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

/// `Importance: high` (RFC 2156): mail clients flag the message.
#[derive(Clone)]
struct Importance;

impl Header for Importance {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Importance")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Importance)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "high".to_owned())
    }
}

/// `X-Priority: 1`, which the clients that ignore `Importance` read.
#[derive(Clone)]
struct XPriority;

impl Header for XPriority {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Priority")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(XPriority)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "1 (Highest)".to_owned())
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
