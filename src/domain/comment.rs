//! Comment input rules: body, author and a flag's note.

use crate::domain::states::FlagReason;

/// A comment body: plain text, 1 to `max_chars` characters after trimming, no control characters
/// but newline and tab. Windows line ends are folded to `\n`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommentBody(String);

impl CommentBody {
    pub fn parse(raw: &str, max_chars: usize) -> Result<CommentBody, String> {
        let normalized = raw.replace("\r\n", "\n");
        let trimmed = normalized.trim();
        if trimmed.is_empty() {
            return Err("must not be empty".into());
        }
        let count = trimmed.chars().count();
        if count > max_chars {
            return Err(format!(
                "must be at most {max_chars} characters (has {count})"
            ));
        }
        if trimmed
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err("must not contain control characters other than newline and tab".into());
        }
        Ok(CommentBody(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Checks a short single-line text such as an author id or name: `min..=max` characters after
/// trimming, no control characters.
pub fn parse_line(raw: &str, max_chars: usize) -> Result<String, String> {
    let trimmed = raw.trim();
    let count = trimmed.chars().count();
    if count == 0 {
        return Err("must not be empty".into());
    }
    if count > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(trimmed.to_string())
}

/// Line and paragraph separators (U+2028, U+2029): line breaks to whoever shows the text,
/// though not to `str::lines`.
pub fn is_line_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

/// Bidirectional controls: invisible, they reorder the text around them (`moc.evil` shown as
/// `live.com`), in the service's own lines too.
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// An id or a name: one line as `parse_line` checks it, and none of the characters that would
/// break it across lines or reorder what is shown around it.
fn parse_name_line(raw: &str, max_chars: usize) -> Result<String, String> {
    let line = parse_line(raw, max_chars)?;
    if line
        .chars()
        .any(|c| is_line_separator(c) || is_bidi_control(c))
    {
        return Err(
            "must not contain line separators (U+2028, U+2029) or bidirectional controls".into(),
        );
    }
    Ok(line)
}

/// Author ids (a reporter's too) are 1 to 128 characters.
pub fn parse_author_id(raw: &str) -> Result<String, String> {
    parse_name_line(raw, 128)
}

/// An author id that names an author who may already be stored: as [`parse_author_id`], but
/// with line separators and bidirectional controls, which ids stored before that rule may hold
/// (erasing, exporting and setting the status of such an author must still work).
pub fn parse_known_author_id(raw: &str) -> Result<String, String> {
    parse_line(raw, 128)
}

/// Author names are 1 to 64 characters.
pub fn parse_author_name(raw: &str) -> Result<String, String> {
    parse_name_line(raw, 64)
}

/// The labels the website may give a comment's author (`author.badges`), in their fixed order.
pub const BADGES: [&str; 3] = ["staff", "expert", "subscriber"];

/// A post's author labels: a subset of [`BADGES`], kept in their fixed order, each once; stored
/// comma-separated (empty: none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Badges(String);

impl Badges {
    /// Parses the labels a post gives; any other label is refused, one given twice counts once.
    pub fn parse(raw: &[String]) -> Result<Badges, String> {
        if let Some(bad) = raw.iter().find(|b| !BADGES.contains(&b.as_str())) {
            return Err(format!(
                "`{}` is not a label; allowed: {}",
                bad.chars().take(32).collect::<String>(),
                BADGES.join(", ")
            ));
        }
        let kept: Vec<&str> = BADGES
            .into_iter()
            .filter(|b| raw.iter().any(|r| r == b))
            .collect();
        Ok(Badges(kept.join(",")))
    }

    /// As stored.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The labels of a stored comment.
    pub fn stored(stored: &str) -> impl Iterator<Item = &str> {
        stored.split(',').filter(|b| !b.is_empty())
    }
}

/// A reporter's note: at most 500 characters; `other` needs one.
/// The shortest note of a notice of illegal content.
pub const MIN_NOTICE_CHARS: usize = 10;

/// A reporter's e-mail address (a notice may carry one): `local@domain`, at most 254 characters.
pub fn parse_reporter_email(raw: &str) -> Result<String, String> {
    let email = raw.trim();
    let valid = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    if valid {
        Ok(email.to_string())
    } else {
        Err("must be an e-mail address like leserin@example.at".into())
    }
}

pub fn parse_flag_note(reason: FlagReason, note: Option<&str>) -> Result<Option<String>, String> {
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    match note {
        None if reason == FlagReason::Other => Err("is required when the reason is `other`".into()),
        None if reason == FlagReason::Illegal => Err(format!(
            "is required for a notice of illegal content: why it is illegal, at least {MIN_NOTICE_CHARS} characters"
        )),
        None => Ok(None),
        Some(n) if reason == FlagReason::Illegal && n.chars().count() < MIN_NOTICE_CHARS => {
            Err(format!(
                "must say why the content is illegal in at least {MIN_NOTICE_CHARS} characters"
            ))
        }
        Some(n) if n.chars().count() > 500 => Err("must be at most 500 characters".into()),
        Some(n) if n.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
            Err("must not contain control characters other than newline and tab".into())
        }
        Some(n) => Ok(Some(n.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_trimmed_and_counted_in_characters() {
        assert_eq!(
            CommentBody::parse("  Grüß Gott \n", 10).unwrap().as_str(),
            "Grüß Gott"
        );
        assert!(CommentBody::parse(&"ä".repeat(2000), 2000).is_ok());
        assert!(CommentBody::parse(&"ä".repeat(2001), 2000).is_err());
    }

    #[test]
    fn bad_bodies_are_refused() {
        for bad in ["", "   ", "\n\t", "bell\u{7}", "nul\u{0}", "esc\u{1b}[31m"] {
            assert!(CommentBody::parse(bad, 2000).is_err(), "{bad:?}");
        }
        assert_eq!(
            CommentBody::parse("a\r\nb\tc", 2000).unwrap().as_str(),
            "a\nb\tc"
        );
    }

    #[test]
    fn badges_are_the_known_labels_in_their_order_each_once() {
        let labels =
            |raw: &[&str]| Badges::parse(&raw.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(labels(&[]).unwrap().into_string(), "");
        assert_eq!(
            labels(&["subscriber", "staff", "subscriber"])
                .unwrap()
                .into_string(),
            "staff,subscriber"
        );
        assert!(labels(&["staff", "admin"]).is_err());
        assert!(labels(&["Staff"]).is_err());
        assert_eq!(Badges::stored("").count(), 0);
        assert_eq!(
            Badges::stored("staff,expert").collect::<Vec<_>>(),
            ["staff", "expert"]
        );
    }

    #[test]
    fn author_fields_have_length_limits() {
        assert!(parse_author_id(&"u".repeat(128)).is_ok());
        assert!(parse_author_id(&"u".repeat(129)).is_err());
        assert!(parse_author_name(&"n".repeat(64)).is_ok());
        assert!(parse_author_name(&"n".repeat(65)).is_err());
        assert!(parse_author_name("two\nlines").is_err());
    }

    #[test]
    fn ids_and_names_refuse_line_separators_and_bidi_controls() {
        for c in [
            '\u{2028}', '\u{2029}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}',
            '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}', '\u{061C}',
        ] {
            let raw = format!("Leser{c}in");
            assert!(parse_author_id(&raw).is_err(), "{c:?} in an id");
            assert!(parse_author_name(&raw).is_err(), "{c:?} in a name");
        }
        assert_eq!(parse_author_name(" Leserin\u{2028}").unwrap(), "Leserin");
        assert!(
            parse_author_name("عبد الله").is_ok(),
            "right-to-left letters are fine"
        );
    }

    #[test]
    fn other_needs_a_note_and_notes_have_a_limit() {
        assert!(parse_flag_note(FlagReason::Other, None).is_err());
        assert!(parse_flag_note(FlagReason::Other, Some("  ")).is_err());
        assert_eq!(parse_flag_note(FlagReason::Spam, None), Ok(None));
        assert!(parse_flag_note(FlagReason::Illegal, None).is_err());
        assert!(parse_flag_note(FlagReason::Illegal, Some(" zu kurz  ")).is_err());
        assert!(parse_flag_note(FlagReason::Illegal, Some("Aufruf zu Gewalt")).is_ok());
        assert!(parse_reporter_email("leserin@example.at").is_ok());
        for bad in ["", "leserin", "a@b", "a b@example.at", "<a@example.at>"] {
            assert!(parse_reporter_email(bad).is_err(), "{bad}");
        }
        assert!(parse_flag_note(FlagReason::Abuse, Some(&"x".repeat(501))).is_err());
    }
}
