//! The content rules: shown and replaced through the service of `PUT /api/v1/moderation/rules`
//! (recorded with `via: console`), and a tester that runs a pasted text through the steps a post
//! takes (`service::screening::trial`) and shows what would decide it, with the matched entry.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

use super::ConsoleError;
use super::form::{given, refused};
use super::pages::{local_time, render, see_other};
use super::session::SignedIn;
use crate::domain::states::{LinkPolicy, Via};
use crate::error::{FieldErrors, ServiceError};
use crate::moderation::{HistoryRule, Rules, Verdict};
use crate::service::{rules, screening};
use crate::state::AppState;

/// What the rules form holds: the rules in force, or what was entered. Lists one entry a line.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct RulesForm {
    csrf: Option<String>,
    banned_words: Option<String>,
    suspect_words: Option<String>,
    links: Option<String>,
    link_allowlist: Option<String>,
    repeat_post_minutes: Option<String>,
    new_author_premod: Option<String>,
    history_window_days: Option<String>,
    history_min_comments: Option<String>,
    history_max_rejected_ratio: Option<String>,
}

impl RulesForm {
    fn of(r: &Rules) -> RulesForm {
        RulesForm {
            csrf: None,
            banned_words: Some(r.banned_words.join("\n")),
            suspect_words: Some(r.suspect_words.join("\n")),
            links: Some(r.links.to_string()),
            link_allowlist: Some(r.link_allowlist.join("\n")),
            repeat_post_minutes: Some(r.repeat_post_minutes.to_string()),
            new_author_premod: Some(r.new_author_premod.to_string()),
            history_window_days: Some(r.history.window_days.to_string()),
            history_min_comments: Some(r.history.min_comments.to_string()),
            history_max_rejected_ratio: Some(r.history.max_rejected_ratio.to_string()),
        }
    }

    /// The rules the form gives (their bounds are the service's to check), or what is not a
    /// number or a link rule.
    fn rules(&self) -> Result<Rules, ServiceError> {
        let mut errors = FieldErrors::new();
        let lines = |raw: &Option<String>| -> Vec<String> {
            raw.as_deref()
                .unwrap_or("")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        };
        let defaults = Rules::default();
        let mut number = |name: &str, raw: &Option<String>, default: i64| -> i64 {
            given(raw)
                .map_or(Some(default), |v| {
                    errors.check(name, v.parse().map_err(|_| "must be a whole number"))
                })
                .unwrap_or(default)
        };
        let repeat_post_minutes = number(
            "repeat_post_minutes",
            &self.repeat_post_minutes,
            defaults.repeat_post_minutes,
        );
        let new_author_premod = number(
            "new_author_premod",
            &self.new_author_premod,
            defaults.new_author_premod,
        );
        let window_days = number(
            "history.window_days",
            &self.history_window_days,
            defaults.history.window_days,
        );
        let min_comments = number(
            "history.min_comments",
            &self.history_min_comments,
            defaults.history.min_comments,
        );
        let max_rejected_ratio = match given(&self.history_max_rejected_ratio) {
            Some(v) => errors
                .check(
                    "history.max_rejected_ratio",
                    v.replace(',', ".")
                        .parse::<f64>()
                        .map_err(|_| "must be a number"),
                )
                .unwrap_or_default(),
            None => defaults.history.max_rejected_ratio,
        };
        let links = match given(&self.links) {
            Some(v) => errors
                .check(
                    "links",
                    v.parse::<LinkPolicy>()
                        .map_err(|_| "must be `allow`, `premod` or `reject`"),
                )
                .unwrap_or(defaults.links),
            None => defaults.links,
        };
        errors.into_result()?;
        Ok(Rules {
            banned_words: lines(&self.banned_words),
            suspect_words: lines(&self.suspect_words),
            links,
            link_allowlist: lines(&self.link_allowlist),
            repeat_post_minutes,
            new_author_premod,
            history: HistoryRule {
                window_days,
                min_comments,
                max_rejected_ratio,
            },
        })
    }
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct TestForm {
    csrf: Option<String>,
    text: Option<String>,
    article: Option<String>,
    author: Option<String>,
}

/// A refused form or a test shown on the page.
#[derive(Default)]
struct Shown {
    rules: Option<RulesForm>,
    test: Option<TestForm>,
    result: Option<Value>,
    problem: Option<(&'static str, String)>,
}

pub async fn page(
    state: web::Data<AppState>,
    signed_in: SignedIn,
) -> Result<HttpResponse, ConsoleError> {
    show(&state, &signed_in, Shown::default()).await
}

async fn show(
    state: &AppState,
    signed_in: &SignedIn,
    shown: Shown,
) -> Result<HttpResponse, ConsoleError> {
    let loaded = rules::current(state).await?;
    let (problem_of, problem) = shown.problem.unzip();
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(
        status,
        "rules.html",
        context! {
            title => "Regeln",
            moderator => signed_in.moderator,
            csrf => signed_in.csrf,
            nav => "rules",
            version => loaded.version,
            updated_at => loaded.updated_at.map(|t| local_time(state, t)),
            updated_by => loaded.updated_by,
            form => shown.rules.unwrap_or_else(|| RulesForm::of(loaded.rules())),
            links => LinkPolicy::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
            test => shown.test.unwrap_or_default(),
            result => shown.result,
            problem_of,
            problem,
            labels => super::form::labels(),
        },
    ))
}

/// Replaces the rules, as the API does; bad input shows the form again (422).
pub async fn save(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<RulesForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    signed_in.check_csrf(form.csrf.as_deref())?;
    let outcome = match form.rules() {
        Ok(new) => rules::replace(&state, &signed_in.caller(), Via::Console, new)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok(see_other("/console/rules")),
        Err(e) => {
            let shown = Shown {
                rules: Some(form),
                problem: Some(("rules", refused(e)?)),
                ..Shown::default()
            };
            show(&state, &signed_in, shown).await
        }
    }
}

/// Runs a text through the rules in force and shows what would decide it.
pub async fn test(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: web::Form<TestForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    signed_in.check_csrf(form.csrf.as_deref())?;
    let outcome = trial(&state, &form).await;
    let (result, problem) = match outcome {
        Ok(result) => (Some(result), None),
        Err(e) => (None, Some(("test", refused(e)?))),
    };
    let shown = Shown {
        test: Some(form),
        result,
        problem,
        ..Shown::default()
    };
    show(&state, &signed_in, shown).await
}

/// What the rules would do with the form's text: `outcome` (`accept`, `hold`, `reject`), the
/// rules that decided and the entries they matched.
async fn trial(state: &AppState, form: &TestForm) -> Result<Value, ServiceError> {
    let text = given(&form.text).ok_or_else(|| ServiceError::field("text", "is required"))?;
    let article = match given(&form.article) {
        Some(raw) => {
            let id = crate::api::articles::parse_article_id(raw)?;
            let found = crate::store::articles::find(state.db(), id.as_str()).await?;
            Some(found.ok_or_else(|| ServiceError::field("article", "no such article"))?)
        }
        None => None,
    };
    let author_id = given(&form.author).unwrap_or("");
    let author = match author_id {
        "" => None,
        id => crate::store::authors::find(state.db(), id).await?,
    };
    let decided = |outcome: &str, reasons: Vec<(String, Option<String>)>| {
        let reasons: Vec<Value> = reasons
            .into_iter()
            .map(|(rule, matched)| context! { rule, matched })
            .collect();
        context! { outcome, reasons }
    };
    let trial =
        match screening::trial(state, text, article.as_ref(), author_id, author.as_ref()).await {
            Ok(trial) => trial,
            Err(ServiceError::AuthorBlocked { .. }) => {
                return Ok(decided("reject", vec![("author_status".into(), None)]));
            }
            Err(ServiceError::RateLimited { .. }) => {
                return Ok(decided("reject", vec![("rate_limit".into(), None)]));
            }
            Err(e) => return Err(e),
        };
    let findings = &trial.findings;
    Ok(match trial.verdict {
        Verdict::Publish => decided("accept", Vec::new()),
        Verdict::Hold(detections) => decided(
            "hold",
            detections
                .into_iter()
                .map(|d| (d.rule.to_string(), d.matched))
                .collect(),
        ),
        Verdict::Reject(rule) => {
            let matched = match rule {
                crate::domain::states::RejectRule::BannedWord => &findings.banned_words,
                crate::domain::states::RejectRule::Links => &findings.link_hosts,
                crate::domain::states::RejectRule::RepeatPost => &Vec::new(),
            };
            let mut reasons: Vec<(String, Option<String>)> = matched
                .iter()
                .map(|m| (rule.to_string(), Some(m.clone())))
                .collect();
            if reasons.is_empty() {
                reasons.push((rule.to_string(), None));
            }
            decided("reject", reasons)
        }
    })
}
