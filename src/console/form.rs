//! The decision form's values and choices, shown by the queue and by a comment's page.

use std::collections::BTreeMap;

use minijinja::{Value, context};
use serde::Serialize;

use crate::domain::statement::DEFAULT_EXPLANATION;
use crate::domain::states::{FlagReason, Ground};
use crate::entity::comment;
use crate::mail::{hold_reason_label, reason_label};
use crate::store::flags::{FlagSummary, suggested_category};

/// What a decision form holds: what the flags and detections suggest, or what was entered.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FormValues {
    pub ground: String,
    pub category: String,
    pub legal_reference: String,
    pub explanation: String,
}

impl FormValues {
    /// What the comment's open flags and the content rules' detections suggest.
    pub fn suggested(c: &comment::Model, summary: &FlagSummary) -> FormValues {
        let illegal = c.due_at.is_some() || summary.by_reason.contains_key(&FlagReason::Illegal);
        let category = suggested_category(summary, &crate::views::dto::detections_of(c));
        FormValues {
            ground: if illegal {
                Ground::Illegal
            } else {
                Ground::Terms
            }
            .to_string(),
            category: category.to_string(),
            legal_reference: String::new(),
            explanation: DEFAULT_EXPLANATION.to_string(),
        }
    }
}

/// The choices of the form and the German labels the pages show.
pub fn labels() -> Value {
    let (grounds, categories) = crate::api::actions::statement_choices();
    let reasons: BTreeMap<_, _> = FlagReason::ALL
        .iter()
        .map(|r| (r.as_str(), reason_label(*r)))
        .collect();
    let rules: BTreeMap<_, _> = crate::domain::states::HoldReason::ALL
        .iter()
        .map(|r| (r.as_str(), hold_reason_label(*r)))
        .collect();
    context! { grounds, categories, reasons, rules }
}
