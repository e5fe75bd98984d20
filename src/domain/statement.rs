//! Statements of reasons (EU Digital Services Act, Art. 17): every decision that hides or deletes
//! a comment says on what it rests (the site's terms or the law), what kind of content it is
//! about, and why; a decision on illegal content names the law.

use std::collections::BTreeMap;

use chrono::{DateTime, Months, Utc};

use crate::domain::comment::parse_line;
use crate::domain::states::{Category, Ground, ModerationAction};

/// How long after a restricting decision its author may appeal.
pub const APPEAL_MONTHS: u32 = 6;

/// The last moment an appeal against a decision made at `decided_at` is accepted.
pub fn appeal_possible_until(decided_at: DateTime<Utc>) -> DateTime<Utc> {
    decided_at
        .checked_add_months(Months::new(APPEAL_MONTHS))
        .unwrap_or(decided_at)
}

/// Why a comment was hidden or deleted, as the author is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub ground: Ground,
    pub category: Category,
    pub explanation: Option<String>,
    /// Required when `ground` is `illegal` (`§ 111 StGB`).
    pub legal_reference: Option<String>,
}

/// The raw fields of a statement, as a request carries them.
#[derive(Clone, Copy, Debug, Default)]
pub struct StatementInput<'a> {
    pub ground: Option<&'a str>,
    pub category: Option<&'a str>,
    pub explanation: Option<&'a str>,
    pub legal_reference: Option<&'a str>,
}

/// The explanation a decision form proposes.
pub const DEFAULT_EXPLANATION: &str =
    "Der Kommentar verstößt gegen die Nutzungsbedingungen des Forums.";

/// The longest explanation.
pub const MAX_EXPLANATION_CHARS: usize = 2000;
/// The longest legal reference.
pub const MAX_LEGAL_REFERENCE_CHARS: usize = 200;

impl Statement {
    /// The statement a decision needs: none for `approve` (its fields are ignored), a complete
    /// one for `hide` and `delete`; or every field that is missing or bad.
    pub fn parse(
        action: ModerationAction,
        input: StatementInput<'_>,
    ) -> Result<Option<Statement>, BTreeMap<String, String>> {
        if action == ModerationAction::Approve {
            return Ok(None);
        }
        let mut fields = BTreeMap::new();
        let ground = match text(input.ground) {
            None => {
                fields.insert(
                    "ground".into(),
                    format!("is required to {action} a comment"),
                );
                None
            }
            Some(raw) => raw
                .parse::<Ground>()
                .map_err(|_| fields.insert("ground".into(), "must be `terms` or `illegal`".into()))
                .ok(),
        };
        let category = match text(input.category) {
            None => {
                fields.insert(
                    "category".into(),
                    format!("is required to {action} a comment"),
                );
                None
            }
            Some(raw) => raw
                .parse::<Category>()
                .map_err(|_| {
                    fields.insert(
                        "category".into(),
                        "must be `insult`, `hate`, `spam`, `threat`, `privacy`, `off_topic`, \
                         `misinformation` or `other`"
                            .into(),
                    )
                })
                .ok(),
        };
        let explanation = match text(input.explanation) {
            None => None,
            Some(raw) => crate::domain::comment::CommentBody::parse(raw, MAX_EXPLANATION_CHARS)
                .map(|b| b.into_string())
                .map_err(|e| fields.insert("explanation".into(), e))
                .ok(),
        };
        let legal_reference = match text(input.legal_reference) {
            None => None,
            Some(raw) => parse_line(raw, MAX_LEGAL_REFERENCE_CHARS)
                .map_err(|e| fields.insert("legal_reference".into(), e))
                .ok(),
        };
        if ground == Some(Ground::Illegal)
            && legal_reference.is_none()
            && !fields.contains_key("legal_reference")
        {
            fields.insert(
                "legal_reference".into(),
                "is required when the ground is `illegal` (e.g. `§ 111 StGB`)".into(),
            );
        }
        match (ground, category) {
            (Some(ground), Some(category)) if fields.is_empty() => Ok(Some(Statement {
                ground,
                category,
                explanation,
                legal_reference,
            })),
            _ => Err(fields),
        }
    }
}

fn text(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|t| !t.is_empty())
}

/// German label of a category (the email confirmation page).
pub fn category_label(category: Category) -> &'static str {
    match category {
        Category::Insult => "Beleidigung",
        Category::Hate => "Hassrede/Hetze",
        Category::Spam => "Spam/Werbung",
        Category::Threat => "Drohung",
        Category::Privacy => "Verletzung der Privatsphäre",
        Category::OffTopic => "Themenfremd",
        Category::Misinformation => "Falschinformation",
        Category::Other => "Sonstiges",
    }
}

/// German label of a ground.
pub fn ground_label(ground: Ground) -> &'static str {
    match ground {
        Ground::Terms => "Verstoß gegen die Nutzungsbedingungen",
        Ground::Illegal => "Rechtswidriger Inhalt",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(
        ground: &'a str,
        category: &'a str,
        reference: Option<&'a str>,
    ) -> StatementInput<'a> {
        StatementInput {
            ground: Some(ground),
            category: Some(category),
            explanation: Some("  Beschimpft andere Leser.  "),
            legal_reference: reference,
        }
    }

    #[test]
    fn hide_and_delete_need_a_complete_statement_and_approve_none() {
        let ok = Statement::parse(ModerationAction::Hide, input("terms", "insult", None))
            .unwrap()
            .unwrap();
        assert_eq!(ok.ground, Ground::Terms);
        assert_eq!(ok.category, Category::Insult);
        assert_eq!(ok.explanation.as_deref(), Some("Beschimpft andere Leser."));
        assert_eq!(
            Statement::parse(ModerationAction::Approve, StatementInput::default()),
            Ok(None)
        );
        let missing =
            Statement::parse(ModerationAction::Delete, StatementInput::default()).unwrap_err();
        assert!(missing.contains_key("ground") && missing.contains_key("category"));
        let bad = Statement::parse(ModerationAction::Hide, input("law", "rude", None)).unwrap_err();
        assert!(bad.contains_key("ground") && bad.contains_key("category"));
    }

    #[test]
    fn illegal_content_needs_the_law_it_breaks() {
        let missing = Statement::parse(ModerationAction::Delete, input("illegal", "threat", None))
            .unwrap_err();
        assert!(missing["legal_reference"].contains("required"));
        let ok = Statement::parse(
            ModerationAction::Delete,
            input("illegal", "threat", Some("§ 107 StGB")),
        )
        .unwrap()
        .unwrap();
        assert_eq!(ok.legal_reference.as_deref(), Some("§ 107 StGB"));
    }

    #[test]
    fn an_appeal_is_possible_for_six_calendar_months() {
        let decided = "2026-08-31T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            appeal_possible_until(decided),
            "2027-02-28T10:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
