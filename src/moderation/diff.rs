//! What a change of the content rules changed, summarised for the audit log.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::Serialize;
use serde_json::{Value, json};

use super::Rules;

/// How many entries were added to and removed from one list (not the entries: a list holds up
/// to 10,000 of them, and the audit log and the service's log get a summary).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ListChange {
    pub added: usize,
    pub removed: usize,
}

/// What a rules change changed, summarised for the audit log.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RulesDiff {
    /// Per list (`banned_words`, `suspect_words`, `link_allowlist`) that changed.
    pub lists: BTreeMap<&'static str, ListChange>,
    /// Per other field that changed (`links`, `history.window_days`, ...): `{"from", "to"}`.
    pub fields: BTreeMap<&'static str, Value>,
}

impl RulesDiff {
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty() && self.fields.is_empty()
    }
}

/// The difference between two versions of the rules (lists compared as sets).
pub fn diff(old: &Rules, new: &Rules) -> RulesDiff {
    let mut out = RulesDiff::default();
    let lists: [(&'static str, &[String], &[String]); 3] = [
        ("banned_words", &old.banned_words, &new.banned_words),
        ("suspect_words", &old.suspect_words, &new.suspect_words),
        ("link_allowlist", &old.link_allowlist, &new.link_allowlist),
    ];
    for (name, before, after) in lists {
        let was: HashSet<&String> = before.iter().collect();
        let is: HashSet<&String> = after.iter().collect();
        let change = ListChange {
            added: is.iter().filter(|e| !was.contains(*e)).count(),
            removed: was.iter().filter(|e| !is.contains(*e)).count(),
        };
        if change.added > 0 || change.removed > 0 {
            out.lists.insert(name, change);
        }
    }
    let fields: [(&'static str, Value, Value); 6] = [
        ("links", json!(old.links), json!(new.links)),
        (
            "repeat_post_minutes",
            json!(old.repeat_post_minutes),
            json!(new.repeat_post_minutes),
        ),
        (
            "new_author_premod",
            json!(old.new_author_premod),
            json!(new.new_author_premod),
        ),
        (
            "history.window_days",
            json!(old.history.window_days),
            json!(new.history.window_days),
        ),
        (
            "history.min_comments",
            json!(old.history.min_comments),
            json!(new.history.min_comments),
        ),
        (
            "history.max_rejected_ratio",
            json!(old.history.max_rejected_ratio),
            json!(new.history.max_rejected_ratio),
        ),
    ];
    for (name, from, to) in fields {
        if from != to {
            out.fields.insert(name, json!({"from": from, "to": to}));
        }
    }
    out
}

/// One line for the audit log's note: `banned_words +2 -1; links allow → premod`.
impl fmt::Display for RulesDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("no change");
        }
        let mut parts = Vec::new();
        for (name, change) in &self.lists {
            parts.push(format!("{name} +{} -{}", change.added, change.removed));
        }
        for (name, change) in &self.fields {
            let show = |v: &Value| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            parts.push(format!(
                "{name} {} → {}",
                show(&change["from"]),
                show(&change["to"])
            ));
        }
        f.write_str(&parts.join("; "))
    }
}
