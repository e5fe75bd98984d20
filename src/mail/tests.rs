use super::*;
use crate::redact::SecretUrl;

fn settings(dir: &Path) -> MailSettings {
    MailSettings {
        smtp_url: None,
        mail_dir: dir.join("mail"),
        from: "Kommentare <noreply@krone.at>".to_owned(),
        to: vec!["forum@krone.at".to_owned()],
        max_attempts: 8,
    }
}

fn email(id: &str, parent: Option<&str>) -> OutgoingEmail {
    OutgoingEmail {
        subject: "Gemeldeter Kommentar (1 Meldung) – „Einladung an Putin“".to_owned(),
        text: "Text mit Umlauten: äöüß\nZweite Zeile".to_owned(),
        html: "<p>HTML mit Umlauten: äöüß</p>".to_owned(),
        message_id: id.to_owned(),
        in_reply_to: parent.map(str::to_owned),
        urgent: false,
    }
}

fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    files
}

/// The header block of a raw message, unfolded.
fn headers(raw: &str) -> String {
    let head = raw.split("\r\n\r\n").next().unwrap();
    head.replace("\r\n ", " ").replace("\r\n\t", " ")
}

#[tokio::test]
async fn without_smtp_each_mail_is_written_as_one_eml_file() {
    let tmp = tempfile::tempdir().unwrap();
    let s = settings(tmp.path());
    let mailer = Mailer::from_settings(&s).unwrap();
    assert!(s.mail_dir.is_dir(), "mail_dir is created");
    assert_eq!(mailer.mail_dir(), Some(s.mail_dir.as_path()));
    assert_eq!(
        mailer.describe(),
        format!("files in {}", s.mail_dir.display())
    );

    mailer
        .send(&email("<comment-42.n1@comment-service>", None))
        .await
        .unwrap();
    mailer
        .send(&email(
            "<comment-42.n2@comment-service>",
            Some("<comment-42.n1@comment-service>"),
        ))
        .await
        .unwrap();

    let files = eml_files(&s.mail_dir);
    assert_eq!(files.len(), 2, "{files:?}");
    let all: Vec<PathBuf> = std::fs::read_dir(&s.mail_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(all.len(), 2, "no temporary files left: {all:?}");

    let raws: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    let first = raws
        .iter()
        .find(|r| headers(r).contains("Message-ID: <comment-42.n1@comment-service>"))
        .expect("first mail");
    let reply = raws
        .iter()
        .find(|r| headers(r).contains("Message-ID: <comment-42.n2@comment-service>"))
        .expect("reply");

    let h = headers(first);
    assert!(h.contains("From: Kommentare <noreply@krone.at>"), "{h}");
    assert!(h.contains("To: forum@krone.at"), "{h}");
    assert!(h.contains("\r\nDate: "), "{h}");
    assert!(h.contains("Subject: "), "{h}");
    assert!(h.contains("Auto-Submitted: auto-generated"), "{h}");
    assert!(h.contains("multipart/alternative"), "{h}");
    assert!(!h.contains("In-Reply-To"), "{h}");
    assert!(!h.contains("References"), "{h}");
    assert!(first.contains("text/plain"));
    assert!(first.contains("text/html"));

    let h = headers(reply);
    assert!(
        h.contains("In-Reply-To: <comment-42.n1@comment-service>"),
        "{h}"
    );
    assert!(
        h.contains("References: <comment-42.n1@comment-service>"),
        "{h}"
    );
}

#[tokio::test]
async fn message_ids_without_brackets_are_accepted_and_bad_ones_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mailer = Mailer::from_settings(&settings(tmp.path())).unwrap();
    mailer
        .send(&email(
            "comment-1.n1@comment-service",
            Some("comment-1.n0@x"),
        ))
        .await
        .unwrap();
    let raw = std::fs::read_to_string(&eml_files(mailer.mail_dir().unwrap())[0]).unwrap();
    assert!(headers(&raw).contains("Message-ID: <comment-1.n1@comment-service>"));
    assert!(headers(&raw).contains("In-Reply-To: <comment-1.n0@x>"));

    for bad in [
        "",
        "no-at-sign",
        "<a b@c>",
        "<a@b>\r\nBcc: x@y",
        "<ä@b>",
        "@x",
        "x@",
    ] {
        let err = mailer.send(&email(bad, None)).await.unwrap_err();
        assert!(matches!(err, MailError::InvalidEmail(_)), "{bad:?}: {err}");
        assert!(err.is_permanent());
    }
    let err = mailer
        .send(&email("<ok@x>", Some("bad parent")))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::InvalidEmail(_)));
    assert_eq!(eml_files(mailer.mail_dir().unwrap()).len(), 1);
}

#[test]
fn several_recipients_are_accepted_as_entries_or_as_a_comma_separated_list() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = settings(tmp.path());
    s.to = vec![
        "forum@krone.at, Team <team@krone.at>".to_owned(),
        " ".to_owned(),
        "chef@krone.at".to_owned(),
    ];
    let mailer = Mailer::from_settings(&s).unwrap();
    assert_eq!(mailer.inner.to.len(), 3);
}

#[test]
fn bad_settings_are_refused_with_the_variable_named() {
    let tmp = tempfile::tempdir().unwrap();

    let mut s = settings(tmp.path());
    s.from = "not an address".to_owned();
    let err = Mailer::from_settings(&s).unwrap_err();
    assert!(
        err.to_string().starts_with("MODERATION_EMAIL_FROM:"),
        "{err}"
    );

    let mut s = settings(tmp.path());
    s.to = vec!["forum@krone.at".to_owned(), "nope".to_owned()];
    let err = Mailer::from_settings(&s).unwrap_err();
    assert!(err.to_string().starts_with("MODERATION_EMAIL_TO:"), "{err}");

    let mut s = settings(tmp.path());
    s.to = vec![];
    assert!(matches!(
        Mailer::from_settings(&s),
        Err(MailError::NoRecipients)
    ));
    s.to = vec!["  ".to_owned()];
    assert!(matches!(
        Mailer::from_settings(&s),
        Err(MailError::NoRecipients)
    ));

    for url in [
        "http://user:hunter2@mail.example:25",
        "smtp://user:hunter2@mail.example:25?tls=sometimes",
        "smtp://user:hunter2@:25",
        "smtp://user:hunter2@mail.example:notaport",
        "nonsense",
    ] {
        let mut s = settings(tmp.path());
        s.smtp_url = Some(SecretUrl::new(url));
        let err = Mailer::from_settings(&s).unwrap_err();
        let msg = err.to_string();
        assert!(
            matches!(err, MailError::InvalidSmtpUrl { .. }),
            "{url}: {msg}"
        );
        assert!(msg.starts_with("SMTP_URL:"), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(!format!("{err:?}").contains("hunter2"));
    }

    // A file where the directory should be.
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let mut s = settings(tmp.path());
    s.mail_dir = file.join("mail");
    let err = Mailer::from_settings(&s).unwrap_err();
    assert!(matches!(err, MailError::MailDir { .. }), "{err}");
    assert!(err.to_string().starts_with("MAIL_DIR:"));
}

#[test]
fn an_smtp_mailer_is_built_without_a_runtime_and_never_shows_credentials() {
    let tmp = tempfile::tempdir().unwrap();
    for (url, described) in [
        ("smtp://127.0.0.1:2525", "smtp://127.0.0.1:2525"),
        ("smtp://mail.example", "smtp://mail.example:25"),
        (
            "smtp://user:hunter2@mail.example:587?tls=required",
            "smtp://mail.example:587?tls=required",
        ),
        (
            "smtp://user:hunter2@mail.example?tls=required",
            "smtp://mail.example:587?tls=required",
        ),
        (
            "smtps://us%40er:hun%2Fter2@mail.example",
            "smtps://mail.example:465",
        ),
        ("  smtps://mail.example:4650  ", "smtps://mail.example:4650"),
    ] {
        let mut s = settings(tmp.path());
        s.mail_dir = tmp.path().join("unused");
        s.smtp_url = Some(SecretUrl::new(url));
        let mailer = Mailer::from_settings(&s).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(mailer.describe(), described);
        assert_eq!(mailer.mail_dir(), None);
        let debug = format!("{mailer:?} {s:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("hun%2Fter2"), "{debug}");
    }
    assert!(!tmp.path().join("unused").exists(), "no mail_dir for SMTP");

    // A blank SMTP_URL means "no SMTP".
    let mut s = settings(tmp.path());
    s.smtp_url = Some(SecretUrl::new("  "));
    assert!(Mailer::from_settings(&s).unwrap().mail_dir().is_some());
}

#[tokio::test]
async fn an_unreachable_smtp_server_is_a_retryable_error() {
    // Port 1 on loopback: connection refused.
    let tmp = tempfile::tempdir().unwrap();
    let mut s = settings(tmp.path());
    s.smtp_url = Some(SecretUrl::new("smtp://127.0.0.1:1"));
    let mailer = Mailer::from_settings(&s).unwrap();
    let err = mailer
        .send(&email("<x.1@comment-service>", None))
        .await
        .unwrap_err();
    assert!(matches!(err, MailError::Smtp { .. }), "{err}");
    assert!(!err.is_permanent(), "{err}");
    assert!(err.to_string().contains("smtp://127.0.0.1:1"), "{err}");
    mailer.shutdown().await;
}

#[tokio::test]
async fn a_server_that_stops_answering_is_given_up_in_time_and_retried() {
    // Accepts connections and never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let mut s = settings(tmp.path());
    s.smtp_url = Some(SecretUrl::new(format!("smtp://127.0.0.1:{port}")));
    let mailer = Mailer::from_settings(&s)
        .unwrap()
        .with_send_timeout(Duration::from_millis(300));
    assert!(SEND_TIMEOUT <= Duration::from_secs(30));
    let started = std::time::Instant::now();
    let err = mailer
        .send(&email("<x.2@comment-service>", None))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, MailError::TimedOut { .. }), "{err}");
    assert!(!err.is_permanent());
    silent.abort();
}

#[tokio::test]
async fn mail_files_and_their_directory_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let mut s = settings(tmp.path());
    s.mail_dir = tmp.path().join("deep").join("mail");
    let mailer = Mailer::from_settings(&s).unwrap();
    mailer
        .send(&email("<comment-7.n1@comment-service>", None))
        .await
        .unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&s.mail_dir), 0o700);
    let files = eml_files(&s.mail_dir);
    assert_eq!(files.len(), 1);
    assert_eq!(mode(&files[0]), 0o600);
}
