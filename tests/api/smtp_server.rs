//! A minimal, real SMTP server for integration tests (plain TCP on 127.0.0.1, no TLS).
//!
//! It speaks enough ESMTP for lettre's client: greeting, EHLO/HELO, AUTH PLAIN and
//! LOGIN (any credentials are accepted), MAIL FROM, RCPT TO, DATA (with
//! dot-unstuffing), RSET, NOOP, QUIT, and any number of messages per connection.
//! Every accepted message is kept as a [`ReceivedMail`], with helpers to read its
//! headers and its decoded text and HTML parts (parsed with the `mail-parser` crate).
//!
//! ```ignore
//! let smtp = TestSmtpServer::start().await;          // SMTP_URL = smtp.url()
//! // ... make the service send something ...
//! let mails = smtp.wait_for(1, Duration::from_secs(5)).await;
//! assert_eq!(mails[0].header("Subject").unwrap(), "Gemeldeter Kommentar ...");
//! let port = smtp.port();
//! smtp.stop().await;                                  // clients now get connection errors
//! let smtp = TestSmtpServer::start_on(port).await?;   // ... and later succeed again
//! ```
//!
//! [`Behaviour`] makes it a difficult server: one that answers the end of each message slowly
//! (it has the message, the client waits), one that refuses every message with a permanent
//! error, or one that stops answering at a given message.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mail_parser::decoders::base64::base64_decode;
use mail_parser::parsers::MessageStream;
use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::task::{JoinHandle, JoinSet};

/// One message the server accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The `MAIL FROM` address (without angle brackets).
    pub from: String,
    /// The `RCPT TO` addresses (without angle brackets), in order.
    pub to: Vec<String>,
    /// The full raw message as sent after `DATA` (dot-unstuffed, CRLF line ends,
    /// without the terminating `.` line).
    pub data: String,
    /// The user name given with `AUTH` on this connection, if the client logged in.
    pub auth_user: Option<String>,
}

/// A running test SMTP server. Dropping it also shuts it down (but only
/// [`stop`](TestSmtpServer::stop) waits until the port is free).
pub struct TestSmtpServer {
    port: u16,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

/// How the server treats messages; the default accepts each at once.
#[derive(Clone, Debug, Default)]
pub struct Behaviour {
    /// How long the server waits before it answers the end of a message it has received.
    pub answer_delay: Duration,
    /// A permanent refusal (e.g. `550 5.7.1 ...`) given to every message instead of `250`; the
    /// message is not kept.
    pub refuse_with: Option<String>,
    /// After this many messages, the next `MAIL FROM` is never answered.
    pub hang_after: Option<usize>,
}

#[derive(Default)]
struct Shared {
    mails: Mutex<Vec<ReceivedMail>>,
    arrived: Notify,
    connections: AtomicUsize,
    behaviour: Behaviour,
    /// How many sessions are hanging (see `Behaviour::hang_after`).
    hanging: AtomicUsize,
}

impl TestSmtpServer {
    /// Starts on a random free port of 127.0.0.1.
    pub async fn start() -> TestSmtpServer {
        Self::start_on(0)
            .await
            .expect("start test SMTP server on 127.0.0.1:0")
    }

    /// Starts on the given port of 127.0.0.1 (0 picks a free one), e.g. to bring a
    /// stopped server back where clients expect it.
    pub async fn start_on(port: u16) -> std::io::Result<TestSmtpServer> {
        Self::start_with(port, Behaviour::default()).await
    }

    /// Starts with the given behaviour on the given port (0 picks a free one).
    pub async fn start_with(port: u16, behaviour: Behaviour) -> std::io::Result<TestSmtpServer> {
        let socket = TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
        let listener = socket.listen(64)?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            behaviour,
            ..Shared::default()
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), shutdown_rx));
        Ok(TestSmtpServer {
            port,
            shared,
            shutdown,
            task: Some(task),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:{port}`, ready for `SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Everything received so far, in order of arrival.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.shared.mails.lock().unwrap().clone()
    }

    /// How many times each `Message-ID` arrived.
    pub fn arrivals_by_message_id(&self) -> std::collections::HashMap<String, usize> {
        let mut counts = std::collections::HashMap::new();
        for mail in self.received() {
            let id = mail.header("Message-ID").unwrap_or_default();
            *counts.entry(id).or_insert(0) += 1;
        }
        counts
    }

    /// How many sessions hang at a `MAIL FROM` they will never get an answer to.
    pub fn hanging(&self) -> usize {
        self.shared.hanging.load(Ordering::SeqCst)
    }

    /// [`TestSmtpServer::hanging`], for a task that does not own the server.
    pub fn hanging_probe(&self) -> impl Fn() -> usize + Send + Sync + 'static {
        let shared = self.shared.clone();
        move || shared.hanging.load(Ordering::SeqCst)
    }

    /// How many client connections this server has accepted (pooling shows as 1).
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Waits until at least `n` mails have arrived or `timeout` has passed, and
    /// returns what has arrived (check the length: it may be fewer than `n`).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.shared.arrived.notified();
            tokio::pin!(arrived);
            // Register before looking, so an arrival in between is not missed.
            arrived.as_mut().enable();
            let mails = self.received();
            if mails.len() >= n {
                return mails;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return self.received();
            }
        }
    }

    /// Closes the listener and every open connection, and returns once they are
    /// closed: the port is free and clients get connection errors.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for TestSmtpServer {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            // Aborting the accept loop drops its JoinSet, which aborts the connections.
            task.abort();
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            // Also fires (with Err) when the server handle is dropped.
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    shared.connections.fetch_add(1, Ordering::SeqCst);
                    let shared = Arc::clone(&shared);
                    connections.spawn(async move {
                        let _ = session(stream, &shared).await;
                    });
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    // Abort every session (dropping its socket) and wait until all are gone.
    connections.shutdown().await;
}

const EHLO_REPLY: &[u8] = b"250-127.0.0.1 Hello\r\n\
250-8BITMIME\r\n\
250-SMTPUTF8\r\n\
250-AUTH PLAIN LOGIN\r\n\
250 SIZE 52428800\r\n";

struct Envelope {
    from: String,
    to: Vec<String>,
}

/// One client connection, from greeting to QUIT (or until the client goes away).
async fn session(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    writer
        .write_all(b"220 127.0.0.1 ESMTP TestSmtpServer ready\r\n")
        .await?;
    let mut envelope: Option<Envelope> = None;
    let mut auth_user: Option<String> = None;

    loop {
        let Some(line) = read_line(&mut reader).await? else {
            return Ok(());
        };
        let (verb, arg) = match line.split_once(' ') {
            Some((verb, arg)) => (verb.to_ascii_uppercase(), arg.trim().to_owned()),
            None => (line.trim().to_ascii_uppercase(), String::new()),
        };
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => {
                envelope = None;
                EHLO_REPLY
            }
            "HELO" => {
                envelope = None;
                b"250 127.0.0.1\r\n"
            }
            "AUTH" => {
                auth_user = authenticate(&arg, &mut reader, &mut writer).await?;
                if auth_user.is_some() {
                    b"235 2.7.0 Authentication successful\r\n"
                } else {
                    b"535 5.7.8 Authentication failed\r\n"
                }
            }
            "MAIL"
                if shared
                    .behaviour
                    .hang_after
                    .is_some_and(|n| shared.mails.lock().unwrap().len() >= n) =>
            {
                shared.hanging.fetch_add(1, Ordering::SeqCst);
                std::future::pending::<&[u8]>().await
            }
            "MAIL" => match path_argument(&arg, "FROM:") {
                Some(from) => {
                    envelope = Some(Envelope {
                        from,
                        to: Vec::new(),
                    });
                    b"250 2.1.0 Ok\r\n"
                }
                None => b"501 5.5.4 Syntax: MAIL FROM:<address>\r\n",
            },
            "RCPT" => match (envelope.as_mut(), path_argument(&arg, "TO:")) {
                (None, _) => b"503 5.5.1 Error: need MAIL command\r\n",
                (Some(_), None) => b"501 5.5.4 Syntax: RCPT TO:<address>\r\n",
                (Some(envelope), Some(to)) => {
                    envelope.to.push(to);
                    b"250 2.1.5 Ok\r\n"
                }
            },
            "DATA" => match envelope.take() {
                Some(env) if !env.to.is_empty() => {
                    writer
                        .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await?;
                    let data = read_data(&mut reader).await?;
                    if let Some(refusal) = &shared.behaviour.refuse_with {
                        writer
                            .write_all(format!("{refusal}\r\n").as_bytes())
                            .await?;
                        continue;
                    }
                    shared.mails.lock().unwrap().push(ReceivedMail {
                        from: env.from,
                        to: env.to,
                        data,
                        auth_user: auth_user.clone(),
                    });
                    shared.arrived.notify_waiters();
                    tokio::time::sleep(shared.behaviour.answer_delay).await;
                    b"250 2.0.0 Ok: queued\r\n"
                }
                Some(env) => {
                    envelope = Some(env);
                    b"503 5.5.1 Error: need RCPT command\r\n"
                }
                None => b"503 5.5.1 Error: need MAIL command\r\n",
            },
            "RSET" => {
                envelope = None;
                b"250 2.0.0 Ok\r\n"
            }
            "NOOP" => b"250 2.0.0 Ok\r\n",
            "VRFY" => b"252 2.0.0 Cannot VRFY user\r\n",
            "STARTTLS" => b"454 4.7.0 TLS not available\r\n",
            "QUIT" => {
                writer.write_all(b"221 2.0.0 Bye\r\n").await?;
                writer.shutdown().await?;
                return Ok(());
            }
            _ => b"502 5.5.2 Error: command not recognized\r\n",
        };
        writer.write_all(reply).await?;
    }
}

/// One line without its line end; `None` at end of stream.
async fn read_line<R: AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    if reader.read_until(b'\n', &mut buf).await? == 0 {
        return Ok(None);
    }
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

/// The message after `354`, up to the line holding a single `.`; leading dots
/// that the client doubled are removed.
async fn read_data<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> std::io::Result<String> {
    let mut data = Vec::new();
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(String::from_utf8_lossy(&data).into_owned());
        }
        let unstuffed = if line.first() == Some(&b'.') {
            &line[1..]
        } else {
            &line[..]
        };
        data.extend_from_slice(unstuffed);
    }
}

/// `FROM:<a@b> SIZE=123` → `a@b` (also without brackets, and `<>`).
fn path_argument(arg: &str, keyword: &str) -> Option<String> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    let path = match rest.strip_prefix('<') {
        Some(inner) => &inner[..inner.find('>')?],
        None => rest.split_whitespace().next()?,
    };
    Some(path.to_owned())
}

/// An AUTH response: base64 (invalid input decodes to nothing).
fn decode_auth_response(response: &str) -> Vec<u8> {
    base64_decode(response.trim().as_bytes()).unwrap_or_default()
}

/// Runs an AUTH exchange (PLAIN or LOGIN, with or without an initial response)
/// and returns the user name; any password is accepted.
async fn authenticate<R: AsyncRead + Unpin>(
    arg: &str,
    reader: &mut BufReader<R>,
    writer: &mut tokio::net::tcp::OwnedWriteHalf,
) -> std::io::Result<Option<String>> {
    let mut words = arg.split_whitespace();
    let mechanism = words.next().unwrap_or("").to_ascii_uppercase();
    let initial = words.next().map(str::to_owned);
    let mut challenge =
        async |prompt: &[u8], given: Option<String>| -> std::io::Result<Option<String>> {
            if let Some(given) = given {
                return Ok(Some(given));
            }
            writer.write_all(prompt).await?;
            Ok(read_line(reader).await?.filter(|line| line != "*"))
        };
    match mechanism.as_str() {
        "PLAIN" => {
            let Some(response) = challenge(b"334 \r\n", initial).await? else {
                return Ok(None);
            };
            // authzid NUL authcid NUL password
            let decoded = String::from_utf8_lossy(&decode_auth_response(&response)).into_owned();
            Ok(decoded.split('\0').nth(1).map(str::to_owned))
        }
        "LOGIN" => {
            let Some(user) = challenge(b"334 VXNlcm5hbWU6\r\n", initial).await? else {
                return Ok(None);
            };
            let Some(_password) = challenge(b"334 UGFzc3dvcmQ6\r\n", None).await? else {
                return Ok(None);
            };
            Ok(Some(
                String::from_utf8_lossy(&decode_auth_response(&user)).into_owned(),
            ))
        }
        _ => Ok(None),
    }
}

impl ReceivedMail {
    /// The message parsed by `mail-parser` (`None` if it has no header at all).
    fn parsed(&self) -> Option<Message<'_>> {
        MessageParser::default().parse(self.data.as_bytes())
    }

    /// The first header of that name (case-insensitive), unfolded, with RFC 2047
    /// encoded words (`=?utf-8?b?...?=`) decoded — e.g. the readable `Subject`.
    pub fn header(&self, name: &str) -> Option<String> {
        let raw = self.raw_header(name)?;
        // An unstructured header value, as one line with its line end.
        let line = format!("{raw}\n");
        Some(
            match MessageStream::new(line.as_bytes()).parse_unstructured() {
                HeaderValue::Text(text) => text.into_owned(),
                _ => String::new(),
            },
        )
    }

    /// Like [`header`](Self::header) but without decoding encoded words.
    pub fn raw_header(&self, name: &str) -> Option<String> {
        self.headers()
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    /// Every header of the message as (name, unfolded raw value), in order.
    pub fn headers(&self) -> Vec<(String, String)> {
        let Some(message) = self.parsed() else {
            return Vec::new();
        };
        let raw = message.raw_message();
        message
            .headers()
            .iter()
            .map(|header| {
                let value = &raw[header.offset_start as usize..header.offset_end as usize];
                // Unfolding removes the line breaks and keeps the white space (RFC 5322).
                let value = String::from_utf8_lossy(value).replace(['\r', '\n'], "");
                (header.name.as_str().to_owned(), value.trim().to_owned())
            })
            .collect()
    }

    /// The decoded `text/plain` part (or the body of a plain-text message), with
    /// `\n` line ends; empty if there is none.
    pub fn text_part(&self) -> String {
        self.first_text_part(false)
    }

    /// The decoded `text/html` part, with `\n` line ends; empty if there is none.
    pub fn html_part(&self) -> String {
        self.first_text_part(true)
    }

    /// The first `text/html` (or `text/plain`) part in the order of the message.
    fn first_text_part(&self, html: bool) -> String {
        let Some(message) = self.parsed() else {
            return String::new();
        };
        message
            .parts
            .iter()
            .find_map(|part| match &part.body {
                PartType::Html(text) if html => Some(text),
                PartType::Text(text)
                    if !html
                        && (part.content_type().is_none()
                            || part.is_content_type("text", "plain")) =>
                {
                    Some(text)
                }
                _ => None,
            })
            .map(|text| text.replace("\r\n", "\n"))
            .unwrap_or_default()
    }
}
