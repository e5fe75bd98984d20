use serde_json::{Value, json};

use super::*;

fn compiled(value: Value) -> CompiledRules {
    CompiledRules::new(serde_json::from_value(value).unwrap()).unwrap()
}

fn invalid(value: Value) -> BTreeMap<String, String> {
    let rules: Rules = serde_json::from_value(value).unwrap();
    rules.validated().unwrap_err().fields
}

fn held(rule: HoldReason, matched: Option<&str>) -> Detection {
    Detection::new(rule, matched.map(str::to_string))
}

#[test]
fn omitted_fields_take_the_contracts_defaults() {
    let rules: Rules = serde_json::from_value(json!({})).unwrap();
    assert_eq!(rules, Rules::default());
    assert_eq!(
        serde_json::to_value(&rules).unwrap(),
        json!({"banned_words": [], "suspect_words": [], "links": "allow", "link_allowlist": [],
               "repeat_post_minutes": 10, "new_author_premod": 0,
               "history": {"window_days": 30, "min_comments": 5, "max_rejected_ratio": 0.5}})
    );
    let partial: Rules =
        serde_json::from_value(json!({"links": "premod", "history": {"window_days": 7}, "x": 1}))
            .unwrap();
    assert_eq!(partial.links, LinkPolicy::Premod);
    assert_eq!(partial.history.window_days, 7);
    assert_eq!(partial.history.min_comments, 5);
    assert_eq!(partial.repeat_post_minutes, 10);
    assert!(serde_json::from_value::<Rules>(json!({"links": "sometimes"})).is_err());
}

#[test]
fn validation_trims_and_deduplicates_entries_and_normalises_domains() {
    let rules: Rules = serde_json::from_value(json!({
        "banned_words": [" idiot ", "idiot", "*depp*"],
        "link_allowlist": ["Krone.AT", "*.orf.at", "krone.at"]
    }))
    .unwrap();
    let rules = rules.validated().unwrap();
    assert_eq!(rules.banned_words, ["idiot", "*depp*"]);
    assert_eq!(rules.link_allowlist, ["krone.at", "orf.at"]);
}

#[test]
fn validation_names_every_field_that_breaks_a_bound() {
    let fields = invalid(json!({
        "banned_words": ["ok", "id*ot"],
        "suspect_words": ["", "x"],
        "link_allowlist": ["https://krone.at/"],
        "repeat_post_minutes": -1,
        "new_author_premod": 1001,
        "history": {"window_days": 0, "min_comments": 0, "max_rejected_ratio": 1.5}
    }));
    let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "banned_words",
            "history.max_rejected_ratio",
            "history.min_comments",
            "history.window_days",
            "link_allowlist",
            "new_author_premod",
            "repeat_post_minutes",
            "suspect_words"
        ]
    );
    assert_eq!(
        fields["banned_words"],
        "entry 2 (\"id*ot\"): `*` may only stand at the start or the end"
    );
    assert_eq!(fields["suspect_words"], "entry 1 (\"\"): must not be empty");
}

#[test]
fn lists_hold_at_most_ten_thousand_entries() {
    let words: Vec<String> = (0..MAX_LIST_ENTRIES).map(|i| format!("wort{i}")).collect();
    let rules = Rules {
        banned_words: words.clone(),
        suspect_words: words.clone(),
        ..Rules::default()
    };
    assert!(rules.validated().is_ok());
    let mut too_many = words;
    too_many.push("noch".into());
    let fields = invalid(json!({ "suspect_words": too_many }));
    assert_eq!(
        fields["suspect_words"],
        "must have at most 10000 entries (has 10001)"
    );
}

#[test]
fn banned_words_reject_and_suspect_words_hold_with_their_entries() {
    let rules =
        compiled(json!({"banned_words": ["*idiot*"], "suspect_words": ["depp", "trottel"]}));
    assert_eq!(
        rules.check("Du V.o.l.l.i.d.i.o.t"),
        Verdict::Reject(RejectRule::BannedWord)
    );
    assert_eq!(
        rules.check("Du Trottel, du D3pp"),
        Verdict::Hold(vec![
            held(HoldReason::SuspectWord, Some("depp")),
            held(HoldReason::SuspectWord, Some("trottel"))
        ])
    );
    assert_eq!(rules.check("Eine sachliche Analyse."), Verdict::Publish);
    // A banned word wins over suspect words.
    assert_eq!(
        rules.check("Depp und Idiot"),
        Verdict::Reject(RejectRule::BannedWord)
    );
}

#[test]
fn links_follow_the_policy_and_the_allowlist() {
    let text = "Siehe www.krone.at/x und evil.example/y";
    let allow = compiled(json!({"links": "allow"}));
    assert_eq!(allow.check(text), Verdict::Publish);
    let reject = compiled(json!({"links": "reject", "link_allowlist": ["krone.at"]}));
    assert_eq!(reject.check(text), Verdict::Reject(RejectRule::Links));
    assert_eq!(
        reject.check("Quelle: https://www.krone.at/1"),
        Verdict::Publish
    );
    assert_eq!(
        reject.check("https://krone.at.evil.example/"),
        Verdict::Reject(RejectRule::Links)
    );
    assert_eq!(
        reject.check("Schreib an leser@evil.example"),
        Verdict::Publish
    );
    let premod = compiled(json!({"links": "premod", "link_allowlist": ["krone.at"]}));
    assert_eq!(
        premod.check(text),
        Verdict::Hold(vec![held(HoldReason::Links, Some("evil.example"))])
    );
    assert_eq!(
        premod.inspect("evil.example/a evil.example/b").link_hosts,
        ["evil.example"]
    );
}

#[test]
fn an_articles_link_rule_takes_the_place_of_the_rules_and_its_premod_holds() {
    let text = "siehe evil.example/x und krone.at/y";
    let allow = compiled(json!({"link_allowlist": ["krone.at"]}));
    let reject = compiled(json!({"links": "reject"}));
    let in_article = |rules: &CompiledRules, links| rules.inspect_in(text, Some(links));
    let facts = AuthorFacts::default();
    let verdict = |rules: &CompiledRules, links| rules.decide(&in_article(rules, links), &facts);
    assert_eq!(
        verdict(&allow, LinkPolicy::Reject),
        Verdict::Reject(RejectRule::Links)
    );
    assert_eq!(
        verdict(&allow, LinkPolicy::Premod),
        Verdict::Hold(vec![held(HoldReason::Links, Some("evil.example"))])
    );
    assert_eq!(verdict(&reject, LinkPolicy::Allow), Verdict::Publish);
    assert_eq!(
        reject.decide(&reject.inspect_in(text, None), &facts),
        Verdict::Reject(RejectRule::Links)
    );
    // A banned word comes first; the article's premod holds what passes.
    let banned = compiled(json!({"banned_words": ["idiot"]}));
    let premod = AuthorFacts {
        premod_article: true,
        ..AuthorFacts::default()
    };
    let idiot = banned.inspect_in("Idiot evil.example/x", Some(LinkPolicy::Reject));
    assert_eq!(
        banned.decide(&idiot, &premod),
        Verdict::Reject(RejectRule::BannedWord)
    );
    assert_eq!(
        banned.decide(&banned.inspect("Guter Artikel"), &premod),
        Verdict::Hold(vec![held(HoldReason::PremodArticle, None)])
    );
}

#[test]
fn decide_applies_the_contracts_order_and_records_every_hold_reason() {
    let rules = compiled(json!({
        "banned_words": ["idiot"], "suspect_words": ["depp"], "links": "reject",
        "new_author_premod": 3, "history": {"window_days": 30, "min_comments": 4, "max_rejected_ratio": 0.5}
    }));
    let repeat = AuthorFacts {
        repeat_post: true,
        approved_or_visible: 10,
        ..AuthorFacts::default()
    };
    // banned word before repeat post before links.
    let banned_link_repeat = rules.inspect("Idiot, siehe evil.example/x");
    assert_eq!(
        rules.decide(&banned_link_repeat, &repeat),
        Verdict::Reject(RejectRule::BannedWord)
    );
    let link = rules.inspect("siehe evil.example/x");
    assert_eq!(
        rules.decide(&link, &repeat),
        Verdict::Reject(RejectRule::RepeatPost)
    );
    let veteran = AuthorFacts {
        approved_or_visible: 10,
        ..AuthorFacts::default()
    };
    assert_eq!(
        rules.decide(&link, &veteran),
        Verdict::Reject(RejectRule::Links)
    );

    let suspect = rules.inspect("Du Depp");
    let everything = AuthorFacts {
        premod: true,
        premod_article: false,
        repeat_post: false,
        approved_or_visible: 2,
        recent_comments: 4,
        recent_removed: 3,
    };
    assert_eq!(
        rules.decide(&suspect, &everything),
        Verdict::Hold(vec![
            held(HoldReason::SuspectWord, Some("depp")),
            held(HoldReason::PremodAuthor, None),
            held(HoldReason::NewAuthor, None),
            held(HoldReason::History, None),
        ])
    );
    let clean = rules.inspect("Guter Artikel");
    assert_eq!(rules.decide(&clean, &veteran), Verdict::Publish);
}

#[test]
fn new_author_and_history_rules_hold_exactly_at_their_thresholds() {
    let rules = compiled(json!({"new_author_premod": 2,
        "history": {"min_comments": 4, "max_rejected_ratio": 0.5}}));
    let clean = rules.inspect("Guter Artikel");
    let verdict = |approved, recent, removed| {
        rules.decide(
            &clean,
            &AuthorFacts {
                approved_or_visible: approved,
                recent_comments: recent,
                recent_removed: removed,
                ..AuthorFacts::default()
            },
        )
    };
    let new_author = Verdict::Hold(vec![held(HoldReason::NewAuthor, None)]);
    let history = Verdict::Hold(vec![held(HoldReason::History, None)]);
    assert_eq!(verdict(1, 0, 0), new_author);
    assert_eq!(verdict(2, 0, 0), Verdict::Publish);
    // At least min_comments, more than the ratio.
    assert_eq!(verdict(9, 3, 3), Verdict::Publish);
    assert_eq!(verdict(9, 4, 2), Verdict::Publish);
    assert_eq!(verdict(9, 4, 3), history);
    // Off: 0 new-author comments, a ratio of 1.
    let off = compiled(json!({"history": {"min_comments": 1, "max_rejected_ratio": 1.0}}));
    let all_removed = AuthorFacts {
        recent_comments: 5,
        recent_removed: 5,
        ..AuthorFacts::default()
    };
    assert_eq!(off.decide(&clean, &all_removed), Verdict::Publish);
}

#[test]
fn windows_follow_the_rules() {
    let rules = Rules::default();
    assert_eq!(rules.repeat_post_window(), Some(Duration::minutes(10)));
    assert_eq!(rules.history_window(), Duration::days(30));
    let off = Rules {
        repeat_post_minutes: 0,
        ..Rules::default()
    };
    assert_eq!(off.repeat_post_window(), None);
}

#[test]
fn repeat_posts_compare_after_normalising_case_and_whitespace() {
    assert_eq!(
        repeat_post_key("  Das  ist\n\tDER Text "),
        repeat_post_key("das ist der text")
    );
    assert_ne!(
        repeat_post_key("das ist der text"),
        repeat_post_key("das ist ein text")
    );
}

#[test]
fn detections_serialise_as_the_contract_shows() {
    assert_eq!(
        serde_json::to_value(held(HoldReason::SuspectWord, Some("idiot"))).unwrap(),
        json!({"rule": "suspect_word", "match": "idiot"})
    );
    assert_eq!(
        serde_json::to_value(held(HoldReason::NewAuthor, None)).unwrap(),
        json!({"rule": "new_author"})
    );
    let back: Detection =
        serde_json::from_value(json!({"rule": "links", "match": "evil.example"})).unwrap();
    assert_eq!(back, held(HoldReason::Links, Some("evil.example")));
}

#[test]
fn the_diff_shows_words_added_and_removed_and_fields_changed() {
    let old: Rules = serde_json::from_value(json!({"banned_words": ["idiot", "depp"],
        "link_allowlist": ["krone.at"]}))
    .unwrap();
    let new: Rules = serde_json::from_value(json!({"banned_words": ["depp", "trottel", "*arsch*"],
        "links": "premod", "link_allowlist": ["krone.at"], "history": {"window_days": 14}}))
    .unwrap();
    let d = diff(&old, &new);
    assert_eq!(
        serde_json::to_value(&d).unwrap(),
        json!({
            "lists": {"banned_words": {"added": 2, "removed": 1}},
            "fields": {"history.window_days": {"from": 30, "to": 14},
                       "links": {"from": "allow", "to": "premod"}}
        })
    );
    assert_eq!(
        d.to_string(),
        "banned_words +2 -1; history.window_days 30 → 14; links allow → premod"
    );
    assert!(diff(&new, &new).is_empty());
    assert_eq!(diff(&new, &new).to_string(), "no change");
}

#[test]
fn compiled_rules_are_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<CompiledRules>();
    let rules = std::sync::Arc::new(compiled(json!({"banned_words": ["idiot"]})));
    let worker = {
        let rules = rules.clone();
        std::thread::spawn(move || rules.check("1d10t"))
    };
    assert_eq!(
        worker.join().unwrap(),
        Verdict::Reject(RejectRule::BannedWord)
    );
}
