//! Automatic moderation: the content rules the community team sets, as a pure engine (no IO).
//!
//! [`Rules`] is the contract's rules object (`GET/PUT /api/v1/moderation/rules`), with its
//! defaults and its validation. [`CompiledRules`] is built once per rules version (the word lists
//! become automatons, see [`words`]) and shared behind an `Arc` by every worker. The write path
//! uses it like this, in the contract's order:
//!
//! ```text
//! 1. author banned/suspended              -> 403 (the service, from the author record)
//! let findings = compiled.inspect(body);  // words and links, pure
//! 2. findings.banned_words non-empty      -> 422 banned_word   (decide does 2-5)
//! 3. facts.repeat_post                    -> 422 repeat_post   (the service asks the database
//!                                            for the author's comments since now - window with
//!                                            the same repeat_post_key)
//! 4. links per policy (the article's, if  -> 422 links, or held
//!    it sets one: `inspect_in`)
//! 5. suspect words, links (premod), premod article, premod author, new author, history
//!    -> held with detections
//! let verdict = compiled.decide(&findings, &facts);
//! ```
//!
//! [`CompiledRules::check`] is the content-only shorthand (`decide` with no author facts).
//! The service fetches the [`AuthorFacts`] only when needed ([`Findings::is_banned`] settles
//! the comment first).

mod diff;
pub mod links;
pub mod live;
pub mod words;

use std::collections::{BTreeMap, HashSet};

use chrono::Duration;
use serde::{Deserialize, Serialize};

use crate::domain::states::{HoldReason, LinkPolicy, RejectRule};
pub use diff::{ListChange, RulesDiff, diff};
pub use links::{Allowlist, link_hosts};
pub use words::{Normalized, WordMatcher};

/// The most entries a word list or the allowlist may have.
pub const MAX_LIST_ENTRIES: usize = 10_000;
/// The longest repeat-post window: a week.
pub const MAX_REPEAT_POST_MINUTES: i64 = 7 * 24 * 60;
/// The highest `new_author_premod`.
pub const MAX_NEW_AUTHOR_PREMOD: i64 = 1_000;
/// The longest history window: a year.
pub const MAX_HISTORY_WINDOW_DAYS: i64 = 365;
/// The highest `history.min_comments`.
pub const MAX_HISTORY_MIN_COMMENTS: i64 = 10_000;

/// The content rules as the community team sets them; omitted fields take their defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Rules {
    /// A comment with one of these is refused (`comment_rejected`, `banned_word`).
    pub banned_words: Vec<String>,
    /// A comment with one of these is held for review.
    pub suspect_words: Vec<String>,
    /// What a link does to a comment.
    pub links: LinkPolicy,
    /// Domains (and their subdomains) whose links never count.
    pub link_allowlist: Vec<String>,
    /// The same author's same text within this many minutes is refused (`0`: off).
    pub repeat_post_minutes: i64,
    /// Authors with fewer approved-or-visible comments are held for review (`0`: off).
    pub new_author_premod: i64,
    /// Authors whose recent comments were often removed by moderators are held for review.
    pub history: HistoryRule,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            banned_words: Vec::new(),
            suspect_words: Vec::new(),
            links: LinkPolicy::Allow,
            link_allowlist: Vec::new(),
            repeat_post_minutes: 10,
            new_author_premod: 0,
            history: HistoryRule::default(),
        }
    }
}

/// Held when, in the last `window_days`, the author wrote at least `min_comments` comments of
/// which more than `max_rejected_ratio` were hidden or deleted by moderators (`1.0`: off).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct HistoryRule {
    pub window_days: i64,
    pub min_comments: i64,
    pub max_rejected_ratio: f64,
}

impl Default for HistoryRule {
    fn default() -> HistoryRule {
        HistoryRule {
            window_days: 30,
            min_comments: 5,
            max_rejected_ratio: 0.5,
        }
    }
}

/// Rules that break the contract's bounds: field (`banned_words`, `history.window_days`, ...)
/// → reason, ready for `validation_failed`'s `details.fields`.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("some fields are invalid")]
pub struct RulesInvalid {
    pub fields: BTreeMap<String, String>,
}

impl Rules {
    /// The rules checked and cleaned: entries trimmed and each kept once (first occurrence),
    /// allowlist domains lower-case without `*.`; or every field that breaks a bound.
    pub fn validated(self) -> Result<Rules, RulesInvalid> {
        let mut fields = BTreeMap::new();
        let mut list =
            |name: &str, entries: Vec<String>, check: &dyn Fn(&str) -> Result<String, String>| {
                if entries.len() > MAX_LIST_ENTRIES {
                    fields.insert(
                        name.to_string(),
                        format!(
                            "must have at most {MAX_LIST_ENTRIES} entries (has {})",
                            entries.len()
                        ),
                    );
                    return entries;
                }
                let mut seen = HashSet::new();
                let mut cleaned = Vec::with_capacity(entries.len());
                for (i, entry) in entries.iter().enumerate() {
                    match check(entry) {
                        Ok(clean) => {
                            if seen.insert(clean.clone()) {
                                cleaned.push(clean);
                            }
                        }
                        Err(reason) => {
                            fields.insert(
                                name.to_string(),
                                format!("entry {} ({entry:?}): {reason}", i + 1),
                            );
                            return entries;
                        }
                    }
                }
                cleaned
            };
        let word = |e: &str| {
            words::parse_entry(e)
                .map(|_| e.trim().to_string())
                .map_err(|err| err.to_string())
        };
        let domain = |e: &str| links::parse_domain(e).map_err(str::to_string);
        let banned_words = list("banned_words", self.banned_words, &word);
        let suspect_words = list("suspect_words", self.suspect_words, &word);
        let link_allowlist = list("link_allowlist", self.link_allowlist, &domain);

        let mut range = |name: &str, value: i64, min: i64, max: i64| {
            if !(min..=max).contains(&value) {
                fields.insert(name.to_string(), format!("must be between {min} and {max}"));
            }
        };
        range(
            "repeat_post_minutes",
            self.repeat_post_minutes,
            0,
            MAX_REPEAT_POST_MINUTES,
        );
        range(
            "new_author_premod",
            self.new_author_premod,
            0,
            MAX_NEW_AUTHOR_PREMOD,
        );
        range(
            "history.window_days",
            self.history.window_days,
            1,
            MAX_HISTORY_WINDOW_DAYS,
        );
        range(
            "history.min_comments",
            self.history.min_comments,
            1,
            MAX_HISTORY_MIN_COMMENTS,
        );
        if !(0.0..=1.0).contains(&self.history.max_rejected_ratio) {
            fields.insert(
                "history.max_rejected_ratio".to_string(),
                "must be between 0 and 1".to_string(),
            );
        }
        if !fields.is_empty() {
            return Err(RulesInvalid { fields });
        }
        Ok(Rules {
            banned_words,
            suspect_words,
            link_allowlist,
            ..self
        })
    }

    /// How far back the repeat-post rule looks, or `None` when it is off.
    pub fn repeat_post_window(&self) -> Option<Duration> {
        (self.repeat_post_minutes > 0).then(|| Duration::minutes(self.repeat_post_minutes))
    }

    /// How far back the history rule looks.
    pub fn history_window(&self) -> Duration {
        Duration::days(self.history.window_days)
    }
}

/// A text as the repeat-post rule compares it: lower-case, whitespace runs as one space, trimmed.
pub fn repeat_post_key(text: &str) -> String {
    text.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a comment was held, as moderators see it: `{"rule": "suspect_word", "match": "idiot"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Detection {
    pub rule: HoldReason,
    /// The entry that matched (`suspect_word`) or the link's host (`links`).
    #[serde(rename = "match", default, skip_serializing_if = "Option::is_none")]
    pub matched: Option<String>,
}

impl Detection {
    pub fn new(rule: HoldReason, matched: Option<String>) -> Detection {
        Detection { rule, matched }
    }
}

/// What the content rules found in a text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Findings {
    /// Banned entries the text contains, as listed.
    pub banned_words: Vec<String>,
    /// Suspect entries the text contains, as listed.
    pub suspect_words: Vec<String>,
    /// Hosts of the links that count (not allowlisted), each once; empty when links are allowed.
    pub link_hosts: Vec<String>,
    /// The link rule of the text's article, in place of the rules' own (none: `inherit`).
    pub links: Option<LinkPolicy>,
}

impl Findings {
    /// A banned word settles the comment before anything that needs the database.
    pub fn is_banned(&self) -> bool {
        !self.banned_words.is_empty()
    }

    /// The link rule in force for the text: its article's, else the rules'.
    pub fn link_policy(&self, rules: &Rules) -> LinkPolicy {
        self.links.unwrap_or(rules.links)
    }
}

/// What the database knows about the author, gathered by the service for [`CompiledRules::decide`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct AuthorFacts {
    /// The author's status is `premod`.
    pub premod: bool,
    /// The comment's article holds every comment for review (its settings' `premod`).
    pub premod_article: bool,
    /// The author posted the same [`repeat_post_key`] within [`Rules::repeat_post_window`].
    pub repeat_post: bool,
    /// The author's comments that are visible or were approved.
    pub approved_or_visible: u64,
    /// The author's comments within [`Rules::history_window`] ...
    pub recent_comments: u64,
    /// ... and of these, the ones moderators hid or deleted.
    pub recent_removed: u64,
}

/// The rules' answer for one new or edited comment.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Publish,
    /// Stored as `pending_review` with these detections (all rules that hold, in contract order).
    Hold(Vec<Detection>),
    /// `422 comment_rejected` with this `details.rule`.
    Reject(RejectRule),
}

/// The rules compiled for checking: built once per rules version, then shared (`Arc`).
/// The default is the default rules (nothing to match, links allowed).
#[derive(Clone, Debug, Default)]
pub struct CompiledRules {
    rules: Rules,
    banned: WordMatcher,
    suspect: WordMatcher,
    allowlist: Allowlist,
}

impl CompiledRules {
    /// Validates (see [`Rules::validated`]) and compiles.
    pub fn new(rules: Rules) -> Result<CompiledRules, RulesInvalid> {
        let rules = rules.validated()?;
        let matcher = |name: &str, entries: &[String]| {
            WordMatcher::new(entries).map_err(|(i, e)| RulesInvalid {
                fields: BTreeMap::from([(name.to_string(), format!("entry {}: {e}", i + 1))]),
            })
        };
        Ok(CompiledRules {
            banned: matcher("banned_words", &rules.banned_words)?,
            suspect: matcher("suspect_words", &rules.suspect_words)?,
            allowlist: Allowlist::new(&rules.link_allowlist),
            rules,
        })
    }

    /// The (cleaned) rules these were compiled from.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The words and links of a text.
    pub fn inspect(&self, text: &str) -> Findings {
        self.inspect_in(text, None)
    }

    /// The words and links of a text whose article puts `article_links` in place of the rules'
    /// link rule (none: the rules' own).
    pub fn inspect_in(&self, text: &str, article_links: Option<LinkPolicy>) -> Findings {
        let mut findings = Findings {
            links: article_links,
            ..Findings::default()
        };
        if !self.banned.is_empty() || !self.suspect.is_empty() {
            let normalized = Normalized::new(text);
            let entries = |m: &WordMatcher| -> Vec<String> {
                m.find(&normalized)
                    .into_iter()
                    .map(|i| m.entry(i).to_string())
                    .collect()
            };
            findings.banned_words = entries(&self.banned);
            findings.suspect_words = entries(&self.suspect);
        }
        if findings.link_policy(&self.rules) != LinkPolicy::Allow {
            for host in link_hosts(text) {
                if !self.allowlist.allows(&host) && !findings.link_hosts.contains(&host) {
                    findings.link_hosts.push(host);
                }
            }
        }
        findings
    }

    /// Steps 2 to 5 of the contract for a text's findings and its author's facts.
    pub fn decide(&self, findings: &Findings, author: &AuthorFacts) -> Verdict {
        if findings.is_banned() {
            return Verdict::Reject(RejectRule::BannedWord);
        }
        if author.repeat_post {
            return Verdict::Reject(RejectRule::RepeatPost);
        }
        let has_links = !findings.link_hosts.is_empty();
        let links = findings.link_policy(&self.rules);
        if has_links && links == LinkPolicy::Reject {
            return Verdict::Reject(RejectRule::Links);
        }
        let mut held: Vec<Detection> = findings
            .suspect_words
            .iter()
            .map(|w| Detection::new(HoldReason::SuspectWord, Some(w.clone())))
            .collect();
        if has_links && links == LinkPolicy::Premod {
            held.extend(
                findings
                    .link_hosts
                    .iter()
                    .map(|h| Detection::new(HoldReason::Links, Some(h.clone()))),
            );
        }
        if author.premod_article {
            held.push(Detection::new(HoldReason::PremodArticle, None));
        }
        if author.premod {
            held.push(Detection::new(HoldReason::PremodAuthor, None));
        }
        if author.approved_or_visible < self.rules.new_author_premod.max(0) as u64 {
            held.push(Detection::new(HoldReason::NewAuthor, None));
        }
        let history = &self.rules.history;
        if author.recent_comments > 0
            && author.recent_comments >= history.min_comments.max(0) as u64
            && author.recent_removed as f64 / author.recent_comments as f64
                > history.max_rejected_ratio
        {
            held.push(Detection::new(HoldReason::History, None));
        }
        if held.is_empty() {
            Verdict::Publish
        } else {
            Verdict::Hold(held)
        }
    }

    /// The content rules alone: [`decide`](Self::decide) with no author facts.
    pub fn check(&self, text: &str) -> Verdict {
        self.decide(&self.inspect(text), &AuthorFacts::default())
    }
}

#[cfg(test)]
mod tests;
