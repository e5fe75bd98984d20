//! Signed, expiring action-link tokens for moderators.
//!
//! A notification email carries one link per moderation action
//! (`PUBLIC_BASE_URL/moderation/actions/{token}`). The token names the comment,
//! the action, the comment's review round the email was sent in, and the expiry,
//! and is authenticated with HMAC-SHA256 under `ACTION_LINK_SECRET` (or the secret
//! the service keeps in its database). A random nonce makes every token unique, so
//! the service can remember a used token (by its [`token_fingerprint`]) and refuse
//! it the second time; the round makes a link from an earlier email refuse to
//! overturn a later decision.
//!
//! Token layout (all parts URL-safe, no padding):
//!
//! ```text
//! base64url(payload) "." base64url(HMAC-SHA256(secret, base64url(payload)))
//! payload = "v2:{comment_id}:{action}:{round}:{expires_unix_secs}:{expires_subsec_nanos}:{nonce}"
//! ```
//!
//! Tokens of the earlier layout (`v1`, without the round) still verify, as round 0:
//! they were all issued before rounds existed.
//!
//! The MAC is checked (in constant time) before anything in the payload is parsed,
//! so a forged or tampered token is always [`ActionLinkError::BadSignature`] and
//! never reaches the parser. Time is always passed in (`now`); nothing here reads
//! the clock.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::{Digest, Sha256};

use crate::domain::states::ModerationAction;

type HmacSha256 = Hmac<Sha256>;

/// Version tag at the start of every payload; bump it when the layout changes.
const PAYLOAD_VERSION: &str = "v2";
/// The layout before review rounds: `v1:{comment_id}:{action}:{secs}:{nanos}:{nonce}`.
const PAYLOAD_VERSION_WITHOUT_ROUND: &str = "v1";
/// Random bytes per token (encoded as 22 base64url characters).
const NONCE_BYTES: usize = 16;
/// No token we issue comes anywhere near this; longer input is rejected unread.
const MAX_TOKEN_LEN: usize = 512;

/// What a valid token says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionClaims {
    pub comment_id: i64,
    pub action: ModerationAction,
    /// The comment's review round the link was issued in; it acts only in that round.
    pub round: i64,
    pub expires_at: DateTime<Utc>,
    pub nonce: String,
}

/// Why a token was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ActionLinkError {
    /// Not a token of ours at all (bad shape, not base64url, unknown payload).
    #[error("malformed action link")]
    Malformed,
    /// Well-formed, but the signature does not match (tampered, or another secret).
    #[error("action link signature is invalid")]
    BadSignature,
    /// Authentic, but `now >= expires_at`.
    #[error("action link has expired")]
    Expired,
}

/// Signs and verifies action-link tokens with one secret.
///
/// Build it once from `ACTION_LINK_SECRET` and share it (it is cheap to clone).
/// `Debug` never shows the secret.
#[derive(Clone)]
pub struct ActionLinkSigner {
    /// HMAC state already keyed with the secret; cloned for every use.
    mac: HmacSha256,
}

impl fmt::Debug for ActionLinkSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActionLinkSigner")
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl ActionLinkSigner {
    /// A signer keyed with `secret` (any length; use at least 32 random bytes).
    pub fn new(secret: Vec<u8>) -> Self {
        let mac = HmacSha256::new_from_slice(&secret).expect("HMAC accepts keys of any length");
        ActionLinkSigner { mac }
    }

    /// A URL-safe token (base64url without padding, plus one `.`) for `action` on
    /// `comment_id` in its review round `round`, valid strictly before `expires_at`.
    /// Every call uses a fresh random nonce, so two tokens for the same action differ.
    pub fn sign(
        &self,
        comment_id: i64,
        action: ModerationAction,
        round: i64,
        expires_at: DateTime<Utc>,
    ) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        self.sign_payload(&format!(
            "{PAYLOAD_VERSION}:{comment_id}:{}:{round}:{}:{}:{nonce}",
            action.as_str(),
            expires_at.timestamp(),
            expires_at.timestamp_subsec_nanos(),
        ))
    }

    /// `base64url(payload) "." base64url(HMAC(base64url(payload)))`.
    fn sign_payload(&self, payload: &str) -> String {
        let payload_b64 = URL_SAFE_NO_PAD.encode(payload.as_bytes());
        let mut mac = self.mac.clone();
        mac.update(payload_b64.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{payload_b64}.{tag}")
    }

    /// Checks a token: shape, then signature (constant time), then expiry against
    /// `now` (`Expired` when `now >= expires_at`). Never panics on any input.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<ActionClaims, ActionLinkError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(ActionLinkError::Malformed);
        }
        let (payload_b64, tag_b64) = token.split_once('.').ok_or(ActionLinkError::Malformed)?;
        if payload_b64.is_empty() || tag_b64.is_empty() || tag_b64.contains('.') {
            return Err(ActionLinkError::Malformed);
        }
        let tag = URL_SAFE_NO_PAD
            .decode(tag_b64)
            .map_err(|_| ActionLinkError::Malformed)?;

        let mut mac = self.mac.clone();
        mac.update(payload_b64.as_bytes());
        mac.verify_slice(&tag)
            .map_err(|_| ActionLinkError::BadSignature)?;

        // Authentic from here on: anything odd below means a payload version we do
        // not understand, not an attack.
        let claims = parse_payload(payload_b64).ok_or(ActionLinkError::Malformed)?;
        if now >= claims.expires_at {
            return Err(ActionLinkError::Expired);
        }
        Ok(claims)
    }
}

fn parse_payload(payload_b64: &str) -> Option<ActionClaims> {
    let bytes = URL_SAFE_NO_PAD.decode(payload_b64).ok()?;
    let payload = String::from_utf8(bytes).ok()?;
    let mut parts = payload.split(':');
    let with_round = match parts.next()? {
        PAYLOAD_VERSION => true,
        PAYLOAD_VERSION_WITHOUT_ROUND => false,
        _ => return None,
    };
    let comment_id: i64 = parts.next()?.parse().ok()?;
    let action = parts.next()?.parse::<ModerationAction>().ok()?;
    let round: i64 = if with_round {
        parts.next()?.parse().ok().filter(|r| *r >= 0)?
    } else {
        0
    };
    let secs: i64 = parts.next()?.parse().ok()?;
    let nanos: u32 = parts.next()?.parse().ok()?;
    let nonce = parts.next()?.to_owned();
    if parts.next().is_some() || nonce.is_empty() {
        return None;
    }
    let expires_at = DateTime::<Utc>::from_timestamp(secs, nanos)?;
    Some(ActionClaims {
        comment_id,
        action,
        round,
        expires_at,
        nonce,
    })
}

/// Lower-case hex SHA-256 of the token: what the service stores to remember that a
/// token has been used (the token itself is a bearer credential and is not stored).
pub fn token_fingerprint(token: &str) -> String {
    use fmt::Write as _;
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

#[cfg(test)]
mod tests;
