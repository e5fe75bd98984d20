//! The JSON Schemas of the request fields whose rules are more than a type: the OpenAPI document
//! says exactly what the service accepts (the rules themselves live in `domain`), so a client, or
//! a fuzzer, can tell a valid request from an invalid one without reading prose.
//!
//! The service trims text before it checks it, so each pattern allows surrounding white space and
//! counts the length of what is inside. The classes are spelled out (no `\s`, no `\p{..}`) so the
//! patterns mean the same in ECMAScript, Python and Rust.

use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

/// White space as `str::trim` removes it (the Unicode `White_Space` property).
const WS: &str = r"\t\n\x0B\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
/// Control characters (Unicode `Cc`).
const CONTROL: &str = r"\x00-\x1F\x7F-\x9F";
/// Control characters but newline and tab.
const CONTROL_BUT_NL_TAB: &str = r"\x00-\x08\x0B-\x1F\x7F-\x9F";

/// Bidirectional controls (`domain::comment::is_bidi_control`).
const BIDI: &str = r"\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069";

/// The default of `COMMENT_MAX_CHARS`, which the document describes.
pub const DEFAULT_COMMENT_MAX_CHARS: usize = 2000;

/// One line: 1 to `max` characters after trimming, no control characters (`parse_line`).
fn one_line_pattern(max: usize) -> String {
    let edge = format!("[^{WS}{CONTROL}]");
    format!(
        "^[{WS}]*{edge}(?:[^{CONTROL}]{{0,{}}}{edge})?[{WS}]*$",
        max.saturating_sub(2)
    )
}

/// An id or a name: one line (`one_line_pattern`) without line separators or bidirectional
/// controls (`parse_author_id`, `parse_author_name`); separators around it are trimmed.
fn name_line_pattern(max: usize) -> String {
    let edge = format!("[^{WS}{CONTROL}{BIDI}]");
    format!(
        "^[{WS}]*{edge}(?:[^{CONTROL}{BIDI}\\u2028\\u2029]{{0,{}}}{edge})?[{WS}]*$",
        max.saturating_sub(2)
    )
}

/// Free text: 1 to `max` characters after trimming, no control characters but newline and tab;
/// with `fold_crlf`, `\r\n` counts as one newline (`CommentBody::parse`), else a `\r` inside is
/// refused (`parse_flag_note`).
fn text_pattern(max: usize, fold_crlf: bool) -> String {
    let edge = format!("[^{WS}{CONTROL}]");
    let inner = if fold_crlf {
        format!("(?:[^{CONTROL_BUT_NL_TAB}]|\\r\\n)")
    } else {
        format!("[^{CONTROL_BUT_NL_TAB}]")
    };
    format!(
        "^[{WS}]*{edge}(?:{inner}{{0,{}}}{edge})?[{WS}]*$",
        max.saturating_sub(2)
    )
}

fn string(description: &str, pattern: String, nullable: bool) -> ObjectBuilder {
    let schema_type = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::from(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(schema_type)
        .description(Some(description))
        .pattern(Some(pattern))
}

/// An optional text where white space alone means "none".
fn optional(inner: String) -> String {
    format!("^[{WS}]*$|{inner}")
}

/// One line of 1 to `max` characters after trimming.
fn line(max: usize) -> Object {
    string(
        &format!("1 to {max} characters after trimming; no control characters."),
        one_line_pattern(max),
        false,
    )
    .min_length(Some(1))
    .build()
}

/// One line of 1 to `max` characters after trimming, for ids and names.
fn name_line(max: usize) -> Object {
    string(
        &format!(
            "1 to {max} characters after trimming; no control characters, line separators \
             (U+2028, U+2029) or bidirectional controls."
        ),
        name_line_pattern(max),
        false,
    )
    .min_length(Some(1))
    .build()
}

/// An author id (also a reporter's).
pub fn author_id() -> Object {
    name_line(128)
}

/// An author's display name.
pub fn author_name() -> Object {
    name_line(64)
}

/// A topic's name.
pub fn topic_name() -> Object {
    line(128)
}

/// An article's title.
pub fn title() -> Object {
    line(500)
}

/// A comment's text.
pub fn comment_body() -> Object {
    string(
        "Plain text, 1 to `COMMENT_MAX_CHARS` (default 2000) characters after trimming (`\\r\\n` \
         counts as one); no control characters but newline and tab.",
        text_pattern(DEFAULT_COMMENT_MAX_CHARS, true),
        false,
    )
    .min_length(Some(1))
    .build()
}

/// A reader's note on a flag: up to 500 characters after trimming, newlines allowed; absent, null
/// or white space alone is no note.
pub fn flag_note() -> Object {
    string(
        "Up to 500 characters after trimming; no control characters but newline and tab. \
         White space alone is no note; `other` needs one.",
        optional(text_pattern(500, false)),
        true,
    )
    .build()
}

/// A moderator's note on a decision: like a flag's, and `\r\n` counts as one newline.
pub fn decision_note() -> Object {
    string(
        "A note for the audit log: up to 500 characters after trimming; no control characters \
         but newline and tab. White space alone is no note.",
        optional(text_pattern(500, true)),
        true,
    )
    .build()
}

/// The message above an article's thread: up to 1,000 characters after trimming (`\r\n` counts
/// as one newline); absent, null or white space alone is none.
pub fn article_message() -> Object {
    string(
        "What the discussion's readers are told: up to 1,000 characters after trimming; no \
         control characters but newline and tab. Null or white space alone: none.",
        optional(text_pattern(
            crate::api::article_settings::MAX_MESSAGE_CHARS,
            true,
        )),
        true,
    )
    .build()
}

/// A moderator's reason for closing or reopening: up to 500 characters, one line.
pub fn reason() -> Object {
    string(
        "A note for the audit log: up to 500 characters after trimming, one line. White space \
         alone is no reason.",
        optional(one_line_pattern(500)),
        true,
    )
    .build()
}

/// An http or https URL of at most 2048 characters, without white space. Not `format: uri`:
/// the service also takes an IRI (non-ASCII characters), as browsers do.
pub fn http_url() -> Object {
    let edge = format!("[^/{WS}{CONTROL}]");
    string(
        "An absolute http or https URL, at most 2048 characters, without white space.",
        format!("^[{WS}]*https?://{edge}[^{WS}{CONTROL}]*[{WS}]*$"),
        false,
    )
    .max_length(Some(2048))
    .build()
}

/// The optional topic of an article: a topic slug; white space alone is no topic.
pub fn topic_ref() -> Object {
    string(
        "The slug of a registered topic (422 otherwise); null, absent or empty for none.",
        format!("^[{WS}]*(?:[a-z0-9][a-z0-9-]{{0,63}})?[{WS}]*$"),
        true,
    )
    .build()
}

/// `?ids=`: up to 100 comma-separated article ids (the attribute of `IdsQuery` spells it out,
/// a test holds the two together).
pub fn article_ids_pattern() -> String {
    let id = "[A-Za-z0-9._:-]{1,128}";
    format!("^(?:[{WS}]*,)*[{WS}]*{id}[{WS}]*(?:,[{WS}]*(?:{id}[{WS}]*)?){{0,99}}$")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::comment::{CommentBody, parse_line};

    /// The Rust `regex` crate reads the patterns like ECMAScript does for these classes.
    fn matches(pattern: &str, s: &str) -> bool {
        regex::Regex::new(pattern).expect("pattern").is_match(s)
    }

    #[test]
    fn the_ids_parameter_of_the_document_has_the_ids_pattern() {
        let doc = serde_json::to_value(crate::api::openapi::document()).expect("json");
        let param = &doc["paths"]["/api/v1/articles"]["get"]["parameters"][0];
        assert_eq!(param["name"], "ids");
        assert_eq!(param["required"], true);
        assert_eq!(param["schema"]["pattern"], article_ids_pattern());
        let pattern = article_ids_pattern();
        assert!(matches(&pattern, "1912345, 1912346,,"));
        assert!(!matches(&pattern, " , "));
        assert!(!matches(&pattern, &vec!["a"; 101].join(",")));
    }

    #[test]
    fn the_one_line_pattern_accepts_exactly_what_parse_line_accepts() {
        let pattern = one_line_pattern(8);
        for s in [
            "a",
            " a ",
            "\tabc\n",
            "12345678",
            " 12345678 ",
            "a b",
            "123456789",
            "",
            "  ",
            "a\nb",
            "a\u{1}",
            "\u{85}a",
            "a\u{a0}b",
            "\u{1c}a",
        ] {
            assert_eq!(
                matches(&pattern, s),
                parse_line(s, 8).is_ok(),
                "{s:?}: pattern and rule disagree"
            );
        }
    }

    #[test]
    fn the_name_pattern_accepts_exactly_what_parse_author_name_accepts() {
        let pattern = name_line_pattern(64);
        for s in [
            "Leserin",
            " Leserin ",
            "\u{2028}Leserin\u{2029}",
            "Leser\u{2028}in",
            "Leser\u{2029}in",
            "Leser\u{202E}in",
            "\u{200F}Leserin",
            "Leserin\u{2066}",
            "a\u{61C}b",
            "عبد الله",
            "a\nb",
            "",
        ] {
            assert_eq!(
                matches(&pattern, s),
                crate::domain::comment::parse_author_name(s).is_ok(),
                "{s:?}: pattern and rule disagree"
            );
        }
    }

    #[test]
    fn the_text_pattern_accepts_exactly_what_comment_body_accepts() {
        let pattern = text_pattern(6, true);
        for s in [
            "a",
            "a\nb",
            "a\r\nb",
            "a\rb",
            "\r\na\r\n",
            "a\tb",
            "123456",
            "12\r\n3456",
            "1234567",
            "",
            "\n",
            "a\u{7}",
            " \u{2000}a",
        ] {
            assert_eq!(
                matches(&pattern, s),
                CommentBody::parse(s, 6).is_ok(),
                "{s:?}: pattern and rule disagree"
            );
        }
    }
}
