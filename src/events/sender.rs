//! Sending one event to `WEBHOOK_URL`: a signed POST with timeouts well below the claim's lease.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretSlice};

use crate::entity::event;
use crate::events::signature;
use crate::redact::SecretUrl;

/// The longest a whole attempt may take; the lease of a claimed event is several times longer.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why an attempt failed; every failure is retried (with backoff) until the attempts run out.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("the webhook answered {0}")]
    Status(u16),
    #[error("the webhook could not be reached: {0}")]
    Transport(String),
}

/// POSTs events to the website.
#[derive(Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    url: SecretUrl,
    key: SecretSlice<u8>,
}

impl WebhookSender {
    pub fn new(url: SecretUrl, key: SecretSlice<u8>) -> Result<WebhookSender, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(ATTEMPT_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(WebhookSender { client, url, key })
    }

    /// Where events go, with any credentials redacted.
    pub fn describe(&self) -> String {
        self.url.to_string()
    }

    /// One attempt: any 2xx answer is a delivery.
    pub async fn send(&self, event: &event::Model, timestamp: i64) -> Result<(), SendError> {
        let signature = signature::sign(
            self.key.expose_secret(),
            &event.event_id,
            timestamp,
            &event.payload,
        );
        let response = self
            .client
            .post(self.url.expose_secret())
            .header("content-type", "application/json")
            .header("webhook-id", &event.event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(event.payload.clone())
            .send()
            .await
            .map_err(|e| SendError::Transport(without_url(&e)))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(SendError::Status(status.as_u16()))
        }
    }
}

/// A transport error's text without the URL (which may carry credentials).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    match std::error::Error::source(e) {
        Some(source) => format!("{kind}: {source}"),
        None => kind.to_owned(),
    }
}
