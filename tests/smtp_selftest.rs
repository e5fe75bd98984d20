//! Tests of the test SMTP server (`tests/api/smtp_server.rs`) against lettre's real
//! client, and of the service's `Mailer` against that server.

#[path = "api/smtp_server.rs"]
mod smtp_server;

use std::time::Duration;

use chrono::TimeZone;
use comment_service::mail::{
    MailSettings, Mailer, NotificationContent, NotificationKind, NotificationView, OutgoingEmail,
    render_notification_in,
};
use comment_service::redact::SecretUrl;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use smtp_server::{ReceivedMail, TestSmtpServer};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const WAIT: Duration = Duration::from_secs(10);

fn transport(server: &TestSmtpServer) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(server.port())
        .timeout(Some(Duration::from_secs(5)))
        .build()
}

fn message(subject: &str, text: &str, html: &str) -> Message {
    Message::builder()
        .from("Kommentare <noreply@krone.at>".parse::<Mailbox>().unwrap())
        .to("forum@krone.at".parse::<Mailbox>().unwrap())
        .to("Zweite Adresse <team@krone.at>".parse::<Mailbox>().unwrap())
        .subject(subject)
        .multipart(MultiPart::alternative_plain_html(
            text.to_owned(),
            html.to_owned(),
        ))
        .unwrap()
}

fn german_text() -> String {
    let long_line = "Größere Übel sind äußerst selten süß – ".repeat(12);
    format!(
        "Grüße aus Österreich: äöüß ÄÖÜ.\n{long_line}\n.Zeile, die mit einem Punkt beginnt\n.\n..\nEnde = Schluss; 100 % fertig.\n"
    )
}

fn german_html() -> String {
    let long_line = "<span>Straße für Straße, Maß für Maß</span> ".repeat(15);
    format!(
        "<p style=\"white-space:pre-wrap\">Grüße: äöüß\n{long_line}</p>\n<p>Zweiter Absatz &amp; mehr</p>"
    )
}

#[tokio::test]
async fn two_messages_sent_over_one_pooled_transport_arrive_with_their_text_and_html_parts_decoded()
{
    let server = TestSmtpServer::start().await;
    assert_eq!(server.url(), format!("smtp://127.0.0.1:{}", server.port()));
    let smtp = transport(&server);

    let text = german_text();
    let html = german_html();
    smtp.send(message("Erste Nachricht: Grüße – „Zitat“", &text, &html))
        .await
        .expect("first send");
    // lettre hands a used connection back to its pool in a spawned task: give it a
    // moment, or the second send opens a connection of its own.
    tokio::time::sleep(Duration::from_millis(100)).await;
    smtp.send(message("Zweite Nachricht", "Nur ASCII.\n", "<p>ASCII</p>"))
        .await
        .expect("second send");

    let mails = server.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(server.connections(), 1, "the pooled connection was reused");

    let first = &mails[0];
    assert_eq!(first.from, "noreply@krone.at");
    assert_eq!(first.to, vec!["forum@krone.at", "team@krone.at"]);
    assert_eq!(first.auth_user, None);
    assert_eq!(
        first.header("subject").as_deref(),
        Some("Erste Nachricht: Grüße – „Zitat“")
    );
    let raw_subject = first.raw_header("Subject").unwrap();
    assert!(
        raw_subject.is_ascii() && raw_subject.contains("=?"),
        "non-ASCII subjects travel encoded: {raw_subject}"
    );
    assert_eq!(
        first.header("From").as_deref(),
        Some("Kommentare <noreply@krone.at>")
    );
    assert!(first.header("Date").is_some());
    assert_eq!(first.text_part(), text, "raw message:\n{}", first.data);
    assert_eq!(first.html_part(), html, "raw message:\n{}", first.data);

    let second = &mails[1];
    assert_eq!(
        second.header("Subject").as_deref(),
        Some("Zweite Nachricht")
    );
    assert_eq!(second.text_part(), "Nur ASCII.\n");
    assert_eq!(second.html_part(), "<p>ASCII</p>");
}

#[tokio::test]
async fn a_mostly_non_ascii_part_that_lettre_sends_as_base64_is_decoded() {
    let server = TestSmtpServer::start().await;
    let text = "äöüßÄÖÜ€„“".repeat(40) + "\nzweite Zeile\n";
    let html = format!("<p>{}</p>", "ßüöä€".repeat(60));
    transport(&server)
        .send(message("base64", &text, &html))
        .await
        .unwrap();
    let mails = server.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].data.contains("Content-Transfer-Encoding: base64"),
        "lettre chose base64:\n{}",
        mails[0].data
    );
    assert_eq!(mails[0].text_part(), text);
    assert_eq!(mails[0].html_part(), html);
}

#[tokio::test]
async fn a_stopped_server_refuses_connections_and_comes_back_on_the_same_port() {
    let server = TestSmtpServer::start().await;
    let port = server.port();
    let smtp = transport(&server);
    smtp.send(message("vorher", "a\n", "<p>a</p>"))
        .await
        .unwrap();
    assert_eq!(server.wait_for(1, WAIT).await.len(), 1);

    server.stop().await;
    // The pooled connection was closed by the server, and new ones are refused.
    let err = smtp
        .send(message("während", "b\n", "<p>b</p>"))
        .await
        .expect_err("the server is down");
    assert!(!err.is_permanent(), "{err}");
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err(),
        "nothing listens on the port"
    );

    let server = TestSmtpServer::start_on(port)
        .await
        .expect("the port is free again");
    assert_eq!(server.port(), port);
    smtp.send(message("nachher", "c\n", "<p>c</p>"))
        .await
        .expect("the same transport reconnects");
    let mails = server.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1, "a restarted server starts empty");
    assert_eq!(mails[0].header("Subject").as_deref(), Some("nachher"));
    server.stop().await;
}

#[tokio::test]
async fn credentials_from_an_smtp_url_are_accepted_with_auth_plain_and_login() {
    let server = TestSmtpServer::start().await;
    let url = format!("smtp://mailuser:s3cr%40t@127.0.0.1:{}", server.port());
    let plain = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
        .unwrap()
        .build();
    plain
        .send(message("plain", "p\n", "<p>p</p>"))
        .await
        .expect("AUTH PLAIN");
    let login = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(server.port())
        .credentials(Credentials::new("loginuser".into(), "pw".into()))
        .authentication(vec![Mechanism::Login])
        .build();
    login
        .send(message("login", "l\n", "<p>l</p>"))
        .await
        .expect("AUTH LOGIN");

    let mails = server.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2);
    assert_eq!(mails[0].auth_user.as_deref(), Some("mailuser"));
    assert_eq!(mails[1].auth_user.as_deref(), Some("loginuser"));
}

/// Speaks SMTP by hand: command order, RSET, NOOP, dot-unstuffing and QUIT.
#[tokio::test]
async fn a_hand_written_session_gets_the_replies_a_client_expects() {
    let server = TestSmtpServer::start().await;
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .unwrap();
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);

    async fn reply(reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> String {
        // Reads one (possibly multi-line) reply and returns its last line.
        loop {
            let mut line = String::new();
            assert!(
                reader.read_line(&mut line).await.unwrap() > 0,
                "server hung up"
            );
            if line.as_bytes().get(3) != Some(&b'-') {
                return line.trim_end().to_owned();
            }
        }
    }
    async fn say(
        writer: &mut tokio::net::tcp::OwnedWriteHalf,
        reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
        command: &str,
    ) -> String {
        writer
            .write_all(format!("{command}\r\n").as_bytes())
            .await
            .unwrap();
        reply(reader).await
    }

    assert!(reply(&mut reader).await.starts_with("220 "));
    let ehlo = say(&mut writer, &mut reader, "EHLO test.local").await;
    assert!(ehlo.starts_with("250 "), "{ehlo}");
    // Each command, the start of the reply it gets and, where it says more, why.
    for (command, expected, why) in [
        ("RCPT TO:<a@b>", "503", ""),
        ("DATA", "503", ""),
        ("MAIL FROM:<x@y> SIZE=10", "250", ""),
        ("DATA", "503", ""),
        ("rcpt to:<a@b>", "250", ""),
        ("RSET", "250", ""),
        ("RCPT TO:<a@b>", "503", "RSET forgot the sender"),
        ("NOOP", "250", ""),
        ("FROB", "502", "unknown commands are refused"),
        ("MAIL FROM:<>", "250", ""),
        ("RCPT TO:<a@b>", "250", ""),
    ] {
        let answer = say(&mut writer, &mut reader, command).await;
        assert!(answer.starts_with(expected), "{command}: {answer} {why}");
    }
    let data = say(&mut writer, &mut reader, "DATA").await;
    assert!(data.starts_with("354"), "{data}");
    let queued = say(
        &mut writer,
        &mut reader,
        "Subject: hand\r\n\r\n..eins\r\nzwei\r\n...\r\n.",
    )
    .await;
    assert!(queued.starts_with("250"), "{queued}");
    assert!(
        say(&mut writer, &mut reader, "QUIT")
            .await
            .starts_with("221")
    );

    let mails = server.received();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].from, "");
    assert_eq!(mails[0].to, vec!["a@b"]);
    assert_eq!(
        mails[0].data,
        "Subject: hand\r\n\r\n.eins\r\nzwei\r\n..\r\n"
    );
    assert_eq!(mails[0].text_part(), ".eins\nzwei\n..\n");
}

#[tokio::test]
async fn wait_for_returns_what_has_arrived_when_the_time_is_up() {
    let server = TestSmtpServer::start().await;
    let started = std::time::Instant::now();
    let mails = server.wait_for(1, Duration::from_millis(200)).await;
    assert!(mails.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(
        server.wait_for(0, WAIT).await.len(),
        0,
        "nothing to wait for"
    );
}

#[test]
fn headers_are_unfolded_and_encoded_words_decoded() {
    let mail = ReceivedMail {
        from: String::new(),
        to: vec![],
        data: "Subject: =?utf-8?b?R3LDvMOfZQ==?=\r\n =?utf-8?q?_aus_=C3=96sterreich?= und mehr\r\n\
               X-Long: eins\r\n\tzwei\r\n  drei\r\n\
               X-Empty:\r\n\
               \r\n\
               Body: not a header\r\n"
            .to_owned(),
        auth_user: None,
    };
    assert_eq!(
        mail.header("SUBJECT").as_deref(),
        Some("Grüße aus Österreich und mehr")
    );
    assert_eq!(mail.header("x-long").as_deref(), Some("eins\tzwei  drei"));
    assert_eq!(mail.header("X-Empty").as_deref(), Some(""));
    assert_eq!(mail.header("Body"), None, "the body is not headers");
    assert_eq!(mail.header("Missing"), None);
    assert_eq!(mail.headers().len(), 3);
    assert_eq!(mail.text_part(), "Body: not a header\n");
    assert_eq!(mail.html_part(), "");
}

#[test]
fn base64_and_quoted_printable_parts_are_decoded() {
    let data = "Content-Type: multipart/mixed; boundary=outer\r\n\r\n\
        preamble\r\n\
        --outer\r\n\
        Content-Type: multipart/alternative;\r\n boundary=\"in ner\"\r\n\r\n\
        --in ner\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\
        Content-Transfer-Encoding: quoted-printable\r\n\r\n\
        Gr=C3=BC=C3=9Fe, eine sehr lange Zeile, die wei=\r\n\
        ter geht =3D gleich\r\n\
        zweite Zeile\r\n\
        --in ner\r\n\
        Content-Type: text/html; charset=utf-8\r\n\
        Content-Transfer-Encoding: base64\r\n\r\n\
        PHA+w6TDtsO8w588L3A+\r\n\
        CjxwPnp3ZWk8L3A+\r\n\
        --in ner--\r\n\
        --outer--\r\n\
        epilogue\r\n";
    let mail = ReceivedMail {
        from: String::new(),
        to: vec![],
        data: data.to_owned(),
        auth_user: None,
    };
    assert_eq!(
        mail.text_part(),
        "Grüße, eine sehr lange Zeile, die weiter geht = gleich\nzweite Zeile"
    );
    assert_eq!(mail.html_part(), "<p>äöüß</p>\n<p>zwei</p>");
}

fn notification_view(kind: NotificationKind, flags: u32) -> NotificationView {
    NotificationView {
        kind,
        comment_id: "42".to_owned(),
        content: NotificationContent {
            article_title: "Einladung an Putin".to_owned(),
            article_url: "https://www.krone.at/1912345".to_owned(),
            comment_body: "<script>alert(1)</script>\nZweite Zeile: äöüß".to_owned(),
            author_name: "Leser123".to_owned(),
            author_id: "u-123".to_owned(),
            comment_created_at: chrono::Utc.with_ymd_and_hms(2019, 4, 26, 8, 51, 0).unwrap(),
            flag_count: flags,
            reasons: vec![(comment_service::domain::states::FlagReason::Abuse, flags)],
            notes: vec!["Beleidigend.".to_owned()],
            detections: Vec::new(),
            due_at: None,
        },
        approve_url: "http://127.0.0.1:8080/moderation/actions/A".to_owned(),
        hide_url: "http://127.0.0.1:8080/moderation/actions/H".to_owned(),
        delete_url: "http://127.0.0.1:8080/moderation/actions/D".to_owned(),
    }
}

#[tokio::test]
async fn the_mailer_delivers_threaded_notifications_through_smtp() {
    let server = TestSmtpServer::start().await;
    let mailer = Mailer::from_settings(&MailSettings {
        smtp_url: Some(SecretUrl::new(server.url())),
        mail_dir: std::env::temp_dir().join("unused-by-smtp"),
        from: "Kommentare <noreply@krone.at>".to_owned(),
        to: vec!["forum@krone.at".to_owned(), "chef@krone.at".to_owned()],
        max_attempts: 8,
    })
    .unwrap();
    assert_eq!(mailer.describe(), server.url());

    let mut sent = Vec::new();
    for (n, kind, flags, parent) in [
        (1, NotificationKind::Flagged, 1, None),
        (
            2,
            NotificationKind::PendingReview,
            3,
            Some("<comment-42.n1@comment-service>"),
        ),
    ] {
        let (subject, text, html) =
            render_notification_in(&notification_view(kind, flags), chrono_tz::Europe::Vienna)
                .unwrap();
        let email = OutgoingEmail {
            subject,
            text,
            html,
            message_id: format!("<comment-42.n{n}@comment-service>"),
            in_reply_to: parent.map(str::to_owned),
            urgent: false,
        };
        mailer.send(&email).await.unwrap();
        sent.push(email);
    }

    let mails = server.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2);
    for (mail, email) in mails.iter().zip(&sent) {
        assert_eq!(mail.from, "noreply@krone.at");
        assert_eq!(mail.to, vec!["forum@krone.at", "chef@krone.at"]);
        assert_eq!(
            mail.header("Subject").as_deref(),
            Some(email.subject.as_str())
        );
        assert_eq!(
            mail.header("From").as_deref(),
            Some("Kommentare <noreply@krone.at>")
        );
        assert_eq!(
            mail.header("To").as_deref(),
            Some("forum@krone.at, chef@krone.at")
        );
        assert!(mail.header("Date").is_some());
        assert_eq!(
            mail.header("Message-ID").as_deref(),
            Some(email.message_id.as_str())
        );
        assert_eq!(mail.text_part(), email.text);
        assert_eq!(mail.html_part(), email.html);
        assert!(
            mail.html_part()
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;\nZweite Zeile: äöüß")
        );
        assert!(
            mail.text_part()
                .contains("Freigeben:  http://127.0.0.1:8080/moderation/actions/A")
        );
    }
    assert_eq!(mails[0].header("In-Reply-To"), None);
    assert_eq!(
        mails[1].header("In-Reply-To").as_deref(),
        Some("<comment-42.n1@comment-service>")
    );
    assert_eq!(
        mails[1].header("References").as_deref(),
        Some("<comment-42.n1@comment-service>")
    );
    assert_eq!(
        mails[1].header("Subject").as_deref(),
        Some("Kommentar ausgeblendet zur Prüfung (3 Meldungen) – „Einladung an Putin“")
    );
    mailer.shutdown().await;
    server.stop().await;
}

#[test]
fn the_first_header_of_a_name_and_the_first_text_plain_part_are_read() {
    let data = "Subject: erster\r\n\
        X-Tag: eins\r\n\
        Subject: zweiter\r\n\
        Content-Type: multipart/mixed; boundary=b\r\n\r\n\
        --b\r\n\
        Content-Type: text/calendar; charset=utf-8\r\n\r\n\
        BEGIN:VCALENDAR\r\n\
        --b\r\n\
        Content-Type: text/plain; charset=iso-8859-1\r\n\
        Content-Transfer-Encoding: quoted-printable\r\n\r\n\
        Gr=FC=DFe\r\n\
        --b\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\r\n\
        zweiter Text\r\n\
        --b--\r\n";
    let mail = ReceivedMail {
        from: String::new(),
        to: vec![],
        data: data.to_owned(),
        auth_user: None,
    };
    assert_eq!(mail.header("Subject").as_deref(), Some("erster"));
    let names: Vec<String> = mail.headers().into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["Subject", "X-Tag", "Subject", "Content-Type"]);
    assert_eq!(
        mail.text_part(),
        "Grüße",
        "not text/calendar, and the charset is honoured"
    );
    assert_eq!(mail.html_part(), "");
}
