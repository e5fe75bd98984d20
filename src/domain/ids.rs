//! Identifiers chosen by the website (article ids, topic slugs) and by the service (comment ids).

use std::fmt;

/// The accessors and `Display` of a newtype around a validated `String`.
macro_rules! text_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// An article id chosen by the website: `^[A-Za-z0-9._:-]{1,128}$`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ArticleId(String);

impl ArticleId {
    pub fn parse(raw: &str) -> Result<ArticleId, &'static str> {
        let ok = !raw.is_empty()
            && raw.len() <= 128
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if ok {
            Ok(ArticleId(raw.to_string()))
        } else {
            Err("must be 1 to 128 characters of A-Z a-z 0-9 . _ : -")
        }
    }
}

text_newtype!(ArticleId);

/// A topic slug: `^[a-z0-9][a-z0-9-]{0,63}$`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TopicSlug(String);

impl TopicSlug {
    pub fn parse(raw: &str) -> Result<TopicSlug, &'static str> {
        let bytes = raw.as_bytes();
        let ok = !bytes.is_empty()
            && bytes.len() <= 64
            && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
        if ok {
            Ok(TopicSlug(raw.to_string()))
        } else {
            Err("must be 1 to 64 characters of a-z 0-9 -, starting with a letter or digit")
        }
    }
}

text_newtype!(TopicSlug);

/// A comment id as the API shows it: the decimal form of the row id, opaque to clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CommentId(pub i64);

impl CommentId {
    /// Any string that is not a positive id names no comment.
    pub fn parse(raw: &str) -> Option<CommentId> {
        if raw.is_empty() || raw.len() > 19 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        raw.parse::<i64>().ok().filter(|id| *id > 0).map(CommentId)
    }
}

impl fmt::Display for CommentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Checks an absolute http(s) URL the way the API accepts it.
pub fn parse_http_url(raw: &str) -> Result<String, &'static str> {
    let raw = raw.trim();
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .ok_or("must be an absolute http or https URL")?;
    if rest.is_empty()
        || rest.starts_with('/')
        || raw.len() > 2048
        || raw.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err("must be an absolute http or https URL of at most 2048 characters");
    }
    Ok(raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn article_ids_follow_the_website_pattern() {
        for ok in ["1912345", "a.b_c:d-e", &"x".repeat(128)] {
            assert!(ArticleId::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "with space", "ümlaut", "a/b", &"x".repeat(129)] {
            assert!(ArticleId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn topic_slugs_are_lowercase_and_start_with_a_letter_or_digit() {
        for ok in ["ausland", "9-uhr", "a"] {
            assert!(TopicSlug::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-ausland", "Ausland", "aus land", &"a".repeat(65)] {
            assert!(TopicSlug::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn comment_ids_are_positive_numbers_only() {
        assert_eq!(CommentId::parse("42"), Some(CommentId(42)));
        for bad in ["", "0", "-1", "abc", "99999999999999999999", "1e3"] {
            assert_eq!(CommentId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(parse_http_url("https://www.krone.at/ausland").is_ok());
        for bad in [
            "ftp://x",
            "www.krone.at",
            "https://",
            "https:///path",
            "https://a b",
        ] {
            assert!(parse_http_url(bad).is_err(), "{bad}");
        }
    }
}
