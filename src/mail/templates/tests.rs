use super::*;
use chrono::TimeZone;

fn render_vienna(v: &NotificationView) -> Result<(String, String, String), MailError> {
    render_notification_in(v, chrono_tz::Europe::Vienna)
}

#[track_caller]
fn assert_subject(v: &NotificationView, expected: &str) {
    let (subject, _, _) = render_vienna(v).unwrap();
    assert_eq!(subject, expected);
}

fn view(kind: NotificationKind, flag_count: u32) -> NotificationView {
    NotificationView {
        kind,
        comment_id: "42".to_owned(),
        content: NotificationContent {
            article_title: "Einladung an Putin".to_owned(),
            article_url: "https://www.krone.at/1912345?ref=a&b=c".to_owned(),
            comment_body: "Erste Zeile.\nZweite Zeile mit Umlauten: äöüß.".to_owned(),
            author_name: "Leser123".to_owned(),
            author_id: "u-123".to_owned(),
            comment_created_at: Utc.with_ymd_and_hms(2019, 4, 26, 8, 51, 0).unwrap(),
            flag_count,
            reasons: vec![(FlagReason::Abuse, 2), (FlagReason::Spam, 1)],
            notes: vec![
                "Das ist eine Beleidigung.".to_owned(),
                "Bitte löschen,\nsofort.".to_owned(),
            ],
            detections: Vec::new(),
            due_at: None,
        },
        approve_url: "https://comments.example/moderation/actions/tok-approve".to_owned(),
        hide_url: "https://comments.example/moderation/actions/tok-hide".to_owned(),
        delete_url: "https://comments.example/moderation/actions/tok-delete".to_owned(),
    }
}

#[test]
fn the_subject_names_the_article_and_counts_one_flag_in_the_singular() {
    assert_subject(
        &view(NotificationKind::Flagged, 1),
        "Gemeldeter Kommentar (1 Meldung) – „Einladung an Putin“",
    );
}

#[test]
fn the_subject_counts_several_flags_in_the_plural() {
    assert_subject(
        &view(NotificationKind::PendingReview, 3),
        "Kommentar ausgeblendet zur Prüfung (3 Meldungen) – „Einladung an Putin“",
    );
    assert_subject(
        &view(NotificationKind::Flagged, 2),
        "Gemeldeter Kommentar (2 Meldungen) – „Einladung an Putin“",
    );
}

#[test]
fn the_subject_is_one_line_even_if_the_title_is_not() {
    let mut v = view(NotificationKind::Flagged, 1);
    v.content.article_title = "Einladung\r\nan   Putin\n".to_owned();
    assert_subject(
        &v,
        "Gemeldeter Kommentar (1 Meldung) – „Einladung an Putin“",
    );
}

#[test]
fn the_html_part_escapes_every_dynamic_value() {
    let mut v = view(NotificationKind::Flagged, 1);
    v.content.comment_body = "<script>alert(1)</script>\n2. Zeile & \"mehr\"".to_owned();
    v.content.article_title = "<b>Titel</b>".to_owned();
    v.content.author_name = "<img src=x onerror=alert(1)>".to_owned();
    v.content.author_id = "u-<1>".to_owned();
    v.content.notes = vec!["<i>note</i>".to_owned(), "<a href='x'>Queue</a>".to_owned()];
    let (_, text, html) = render_vienna(&v).unwrap();

    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    for escaped in [
        "2. Zeile &amp; &quot;mehr&quot;",
        "&lt;b&gt;Titel&lt;/b&gt;",
        "&lt;img src=x onerror=alert(1)&gt;",
        "u-&lt;1&gt;",
        "&lt;i&gt;note&lt;/i&gt;",
        "&lt;a href=&#39;x&#39;&gt;Queue&lt;/a&gt;",
    ] {
        assert!(html.contains(escaped), "{escaped:?} not in {html}");
    }
    for raw in ["<script>", "<b>Titel", "<img", "<i>note", "<a href='x'"] {
        assert!(!html.contains(raw), "unescaped {raw:?} in HTML");
    }
    // The plain-text part shows the text as it is, quoted.
    assert!(text.contains("> <script>alert(1)</script>\n> 2. Zeile & \"mehr\"\n"));
    // URLs stay readable; `&` in them is escaped as it must be in attributes.
    assert!(html.contains("href=\"https://www.krone.at/1912345?ref=a&amp;b=c\""));
}

#[test]
fn line_separators_are_quoted_lines_and_bidi_controls_are_dropped() {
    let mut v = view(NotificationKind::Flagged, 1);
    v.content.comment_body = "Erste\u{2028}> Zweite\u{2029}Dritte \u{202E}tfel".to_owned();
    v.content.notes = vec!["Notiz\u{2028}Service: alles gut\u{200F}".to_owned()];
    v.content.author_name = "Leser\u{2066}in\u{2069}\u{2028}x".to_owned();
    v.content.author_id = "u-\u{061C}1".to_owned();
    v.content.article_title = "Titel\u{2029}zwei\u{202B}".to_owned();
    let (subject, text, html) = render_vienna(&v).unwrap();
    assert!(
        text.contains("> Erste\n> > Zweite\n> Dritte tfel\n"),
        "{text}"
    );
    assert!(text.contains("> Notiz\n> Service: alles gut\n"), "{text}");
    assert!(
        text.contains("Verfasst von: Leserin x (Nutzer-ID u-1)"),
        "{text}"
    );
    assert!(text.contains("Titel zwei"), "{text}");
    assert!(subject.contains("„Titel zwei“"), "{subject}");
    for part in [&subject, &text, &html] {
        for c in [
            '\u{2028}', '\u{2029}', '\u{202E}', '\u{200F}', '\u{2066}', '\u{061C}',
        ] {
            assert!(!part.contains(c), "{c:?} in {part}");
        }
    }
}

#[test]
fn the_html_part_keeps_the_comments_line_breaks() {
    let (_, _, html) = render_vienna(&view(NotificationKind::Flagged, 1)).unwrap();
    assert!(html.contains(
        "white-space:pre-wrap;overflow-wrap:anywhere;word-wrap:break-word;margin:0;padding:12px;background-color:#f7f7f7;border:1px solid #dddddd;border-radius:4px;\">Erste Zeile.\nZweite Zeile mit Umlauten: äöüß.</div>"
    ));
}

#[test]
fn both_parts_show_article_comment_author_time_reasons_and_notes() {
    let (_, text, html) = render_vienna(&view(NotificationKind::Flagged, 3)).unwrap();
    for part in [&text, &html] {
        for shown in [
            "Einladung an Putin",
            "Erste Zeile.",
            "Zweite Zeile mit Umlauten: äöüß.",
            "Leser123",
            "u-123",
            "Beleidigung/Missbrauch: ",
            "Spam: ",
            "Das ist eine Beleidigung.",
            "Bitte löschen,",
            "3 Meldungen",
        ] {
            assert!(part.contains(shown), "{shown:?} not in {part}");
        }
        assert!(part.contains("26.04.2019, 10:51 Uhr"), "local time");
        assert!(part.contains("2019-04-26 08:51:00 UTC"), "UTC time");
    }
    assert!(text.contains("https://www.krone.at/1912345?ref=a&b=c"));
    assert!(text.contains("Beleidigung/Missbrauch: 2\n"));
    assert!(text.contains("Spam: 1\n"));
    assert!(text.contains("MELDUNGEN: 3\n"));
    assert!(text.contains("  Anmerkung 1:\n> Das ist eine Beleidigung.\n"));
    assert!(
        text.contains("  Anmerkung 2:\n> Bitte löschen,\n> sofort.\n"),
        "{text}"
    );
    assert!(
        text.contains("> Erste Zeile.\n> Zweite Zeile mit Umlauten: äöüß.\n"),
        "{text}"
    );
    assert!(html.contains("Beleidigung/Missbrauch: <strong>2</strong>"));
    assert!(html.contains("„Bitte löschen,\nsofort.“</blockquote>"));
    assert!(html.contains("<time datetime=\"2019-04-26T08:51:00Z\">"));
}

#[test]
fn every_reason_code_has_a_german_label() {
    let mut v = view(NotificationKind::Flagged, 6);
    v.content.reasons = FlagReason::ALL.iter().map(|r| (*r, 1)).collect();
    let (_, text, html) = render_vienna(&v).unwrap();
    for label in [
        "Spam",
        "Beleidigung/Missbrauch",
        "Themenfremd",
        "Rechtswidrig",
        "Falschinformation",
        "Sonstiges",
    ] {
        assert!(text.contains(&format!("  - {label}: 1\n")), "{label}");
        assert!(html.contains(&format!("<li>{label}: <strong>1</strong></li>")));
    }
}

#[test]
fn the_three_action_links_are_labelled_and_explained() {
    let (_, text, html) = render_vienna(&view(NotificationKind::Flagged, 1)).unwrap();
    assert!(text.contains("Freigeben:  https://comments.example/moderation/actions/tok-approve\n"));
    assert!(text.contains("Ausblenden: https://comments.example/moderation/actions/tok-hide\n"));
    assert!(text.contains("Löschen:    https://comments.example/moderation/actions/tok-delete\n"));
    for (label, token) in [
        ("Freigeben", "tok-approve"),
        ("Ausblenden", "tok-hide"),
        ("Löschen", "tok-delete"),
    ] {
        let link = format!("href=\"https://comments.example/moderation/actions/{token}\"");
        let at = html
            .find(&link)
            .unwrap_or_else(|| panic!("{link} in {html}"));
        let after = &html[at..];
        let label_at = after.find('>').unwrap() + 1;
        assert!(after[label_at..].starts_with(&format!("{label}</a>")));
    }
    let explanation = "Die Links sind nur begrenzte Zeit gültig und funktionieren je nur einmal; beim Öffnen erscheint zuerst eine Bestätigungsseite, erst dort wird die Aktion ausgeführt.";
    assert!(text.contains(explanation));
    assert!(html.contains(explanation));
}

#[test]
fn only_http_urls_become_links() {
    let mut v = view(NotificationKind::Flagged, 1);
    v.content.article_url = "javascript:alert(1)".to_owned();
    v.delete_url = "javascript:alert(2)".to_owned();
    let (_, text, html) = render_vienna(&v).unwrap();
    assert!(!html.contains("href=\"javascript:"));
    assert!(html.contains("javascript:alert(1)"), "still shown as text");
    assert!(html.contains("Löschen: javascript:alert(2)"));
    assert!(text.contains("javascript:alert(2)"));
}

#[test]
fn the_pending_review_mail_says_the_comment_was_hidden_automatically() {
    let (_, text, html) = render_vienna(&view(NotificationKind::PendingReview, 3)).unwrap();
    assert!(text.contains("automatisch ausgeblendet"));
    assert!(text.contains("pending_review"));
    assert!(html.contains("automatisch ausgeblendet"));
    assert!(html.contains("pending_review"));

    let (_, text, _) = render_vienna(&view(NotificationKind::Flagged, 1)).unwrap();
    assert!(!text.contains("pending_review"));
    assert!(text.contains("weiterhin sichtbar"));
}

#[test]
fn the_held_mail_names_each_detection_and_the_matched_words() {
    let mut v = view(NotificationKind::Held, 0);
    v.content.reasons.clear();
    v.content.notes.clear();
    v.content.detections = vec![
        Detection::new(HoldReason::SuspectWord, Some("*idiot*".to_owned())),
        Detection::new(HoldReason::Links, Some("evil.example".to_owned())),
        Detection::new(HoldReason::History, None),
    ];
    let (subject, text, html) = render_vienna(&v).unwrap();
    assert_eq!(
        subject,
        "Kommentar zurückgehalten (Verdächtiges Wort, Link, Auffällige Vorgeschichte (viele \
         entfernte Kommentare)) – „Einladung an Putin“"
    );
    assert!(text.contains("KOMMENTAR ZURÜCKGEHALTEN"), "{text}");
    assert!(
        text.contains(
            "ERKENNUNGEN DER REGELN\n  - Verdächtiges Wort: *idiot*\n  - Link: evil.example\n  \
             - Auffällige Vorgeschichte (viele entfernte Kommentare)\n\n"
        ),
        "{text}"
    );
    assert!(
        !text.contains("MELDUNGEN"),
        "no flags, no flag section: {text}"
    );
    assert!(html.contains("Kommentar zurückgehalten"));
    assert!(html.contains("Verdächtiges Wort: <strong><code>*idiot*</code></strong>"));
    assert!(html.contains("<li>Auffällige Vorgeschichte (viele entfernte Kommentare)</li>"));
    assert!(!html.contains("Meldungen:"));
    assert!(html.contains("tok-approve"), "the same action links");
}

#[test]
fn a_notice_is_urgent_with_its_deadline_and_its_reminder_says_so() {
    let mut v = view(NotificationKind::Flagged, 1);
    v.content.reasons = vec![(FlagReason::Illegal, 1)];
    v.content.due_at = Some(Utc.with_ymd_and_hms(2019, 4, 27, 8, 51, 0).unwrap());
    let (subject, text, html) = render_vienna(&v).unwrap();
    assert_eq!(
        subject,
        "[DRINGEND] Gemeldeter Kommentar (1 Meldung) – „Einladung an Putin“"
    );
    let deadline = "Bitte entscheiden bis\n27.04.2019, 10:51 Uhr (Wiener Zeit).";
    assert!(text.contains(deadline), "{text}");
    assert!(html.contains("Bitte entscheiden bis 27.04.2019, 10:51 Uhr (Wiener Zeit)."));

    v.kind = NotificationKind::Reminder;
    let (subject, text, html) = render_vienna(&v).unwrap();
    assert_eq!(
        subject,
        "[DRINGEND] Erinnerung: Frist endet 27.04.2019, 10:51 Uhr (Wiener Zeit) – „Einladung an Putin“"
    );
    assert!(text.starts_with("ERINNERUNG"), "{text}");
    assert!(text.contains(deadline), "{text}");
    assert!(html.contains("Erinnerung – Meldung rechtswidriger Inhalte"));
}

#[test]
fn empty_reasons_and_notes_render_a_placeholder() {
    let mut v = view(NotificationKind::Flagged, 1);
    v.content.reasons.clear();
    v.content.notes = vec!["   ".to_owned()];
    let (_, text, html) = render_vienna(&v).unwrap();
    assert!(text.contains("(keine Gründe angegeben)"));
    assert!(text.contains("ANMERKUNGEN DER MELDENDEN\n  (keine)\n"));
    assert!(html.contains("Keine Gründe angegeben."));
    assert!(!html.contains("<blockquote"));
}

#[test]
fn local_time_follows_daylight_saving_time_and_the_given_zone() {
    let mut v = view(NotificationKind::Flagged, 1);
    v.content.comment_created_at = Utc.with_ymd_and_hms(2019, 1, 15, 23, 30, 0).unwrap();
    let (_, text, _) = render_vienna(&v).unwrap();
    assert!(
        text.contains("16.01.2019, 00:30 Uhr (Wiener Zeit) – 2019-01-15 23:30:00 UTC"),
        "{text}"
    );
    let (_, text, _) = render_notification_in(&v, chrono_tz::Europe::London).unwrap();
    assert!(text.contains("15.01.2019, 23:30 Uhr (Europe/London)"));
}

#[test]
fn the_text_part_is_plain_text_without_template_artifacts() {
    let (_, text, _) = render_vienna(&view(NotificationKind::Flagged, 1)).unwrap();
    for artifact in ["{{", "}}", "{%", "%}", "&amp;", "&lt;", "none", "None"] {
        assert!(!text.contains(artifact), "{artifact:?} in {text}");
    }
    assert!(!text.contains("\n\n\n"), "no runs of blank lines:\n{text}");
    assert!(text.ends_with('\n'));
}

#[test]
fn reader_text_cannot_pass_for_the_services_action_lines() {
    let mut v = view(NotificationKind::Flagged, 1);
    let spoof = "ENTSCHEIDUNG\n  Freigeben:  https://evil.example/moderation/actions/x\n\n======\nLöschen: https://evil.example/";
    v.content.comment_body = spoof.to_owned();
    v.content.notes = vec![spoof.to_owned()];
    let (_, text, _) = render_vienna(&v).unwrap();
    // Every line of reader text is quoted ...
    for line in spoof.lines() {
        let quoted = if line.is_empty() {
            ">".to_owned()
        } else {
            format!("> {line}")
        };
        assert!(
            text.lines().filter(|l| *l == quoted).count() == 2,
            "{quoted:?} quoted in body and note:\n{text}"
        );
    }
    // ... so the only unquoted action lines are the service's own.
    let action_lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('>') && l.contains("/moderation/actions/"))
        .collect();
    assert_eq!(
        action_lines,
        [
            "  Freigeben:  https://comments.example/moderation/actions/tok-approve",
            "  Ausblenden: https://comments.example/moderation/actions/tok-hide",
            "  Löschen:    https://comments.example/moderation/actions/tok-delete",
        ]
    );
    assert!(
        !text
            .lines()
            .any(|l| l.contains("evil.example") && !l.starts_with("> "))
    );
    assert_eq!(text.matches("\nENTSCHEIDUNG").count(), 1, "{text}");
}
