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
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn signer() -> ActionLinkSigner {
        ActionLinkSigner::new(b"test secret with enough entropy, honestly".to_vec())
    }

    /// A signer with `secret` finds `token`'s signature bad at `now`.
    #[track_caller]
    fn assert_bad_signature_with_secret(secret: &[u8], token: &str, now: DateTime<Utc>) {
        let other = ActionLinkSigner::new(secret.to_vec());
        assert_eq!(other.verify(token, now), Err(ActionLinkError::BadSignature));
    }

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_556_268_660 + secs, 0).unwrap()
    }

    /// Flips one character of `s` at `index` to another base64url character.
    fn flip_char(s: &str, index: usize) -> String {
        let mut chars: Vec<char> = s.chars().collect();
        chars[index] = if chars[index] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect()
    }

    #[test]
    fn a_signed_token_verifies_and_returns_its_claims() {
        let s = signer();
        let expires = t(7 * 86_400);
        for &action in ModerationAction::ALL {
            let token = s.sign(42, action, 3, expires);
            let claims = s.verify(&token, t(0)).expect("valid token");
            assert_eq!(claims.comment_id, 42);
            assert_eq!(claims.action, action);
            assert_eq!(claims.round, 3);
            assert_eq!(claims.expires_at, expires);
            assert!(!claims.nonce.is_empty());
        }
    }

    #[test]
    fn the_token_is_url_safe_and_unique_per_call() {
        let s = signer();
        let a = s.sign(7, ModerationAction::Hide, 0, t(60));
        let b = s.sign(7, ModerationAction::Hide, 0, t(60));
        assert_ne!(a, b, "the nonce makes every token unique");
        for token in [&a, &b] {
            assert!(
                token
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
                "not URL-safe: {token}"
            );
            assert!(!token.contains('='));
        }
        assert_ne!(
            s.verify(&a, t(0)).unwrap().nonce,
            s.verify(&b, t(0)).unwrap().nonce
        );
    }

    #[test]
    fn sub_second_expiry_and_extreme_ids_survive_the_round_trip() {
        let s = signer();
        let expires = t(3600) + Duration::nanoseconds(123_456_789);
        for id in [0, 1, -5, i64::MAX, i64::MIN] {
            let token = s.sign(id, ModerationAction::Delete, 0, expires);
            let claims = s.verify(&token, t(0)).unwrap();
            assert_eq!(claims.comment_id, id);
            assert_eq!(claims.expires_at, expires);
        }
    }

    #[test]
    fn a_tampered_payload_is_a_bad_signature() {
        let s = signer();
        let token = s.sign(42, ModerationAction::Approve, 0, t(3600));
        let (payload, tag) = token.split_once('.').unwrap();

        // Re-encode an edited payload and keep the original tag.
        let decoded = String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        let with_the_old_tag = |forged: String| {
            assert_ne!(forged, decoded);
            s.verify(&format!("{}.{tag}", URL_SAFE_NO_PAD.encode(forged)), t(0))
        };
        // Another comment and action.
        assert_eq!(
            with_the_old_tag(
                decoded
                    .replace(":42:", ":43:")
                    .replace(":approve:", ":delete:")
            ),
            Err(ActionLinkError::BadSignature)
        );
        // A later expiry.
        assert_eq!(
            with_the_old_tag(decoded.replacen(
                &t(3600).timestamp().to_string(),
                &t(999_999).timestamp().to_string(),
                1,
            )),
            Err(ActionLinkError::BadSignature)
        );
        // Another review round.
        assert_eq!(
            with_the_old_tag(decoded.replacen(":approve:0:", ":approve:1:", 1)),
            Err(ActionLinkError::BadSignature)
        );

        // Flip single characters of the encoded payload.
        for i in [0, payload.len() / 2, payload.len() - 1] {
            let tampered = format!("{}.{tag}", flip_char(payload, i));
            // The MAC covers the encoded payload, so any change is caught before
            // the payload is even decoded.
            assert_eq!(
                s.verify(&tampered, t(0)),
                Err(ActionLinkError::BadSignature),
                "flipped index {i}"
            );
        }
    }

    #[test]
    fn a_tampered_signature_is_a_bad_signature() {
        let s = signer();
        let token = s.sign(42, ModerationAction::Hide, 0, t(3600));
        let dot = token.find('.').unwrap();
        for i in [dot + 1, dot + 10, token.len() - 2] {
            assert_eq!(
                s.verify(&flip_char(&token, i), t(0)),
                Err(ActionLinkError::BadSignature),
                "flipped index {i}"
            );
        }
        // A truncated or extended tag is the wrong length for HMAC-SHA256.
        let (payload, tag) = token.split_once('.').unwrap();
        let tag = URL_SAFE_NO_PAD.decode(tag).unwrap();
        for wrong_length in [&tag[..16], &tag[..31], &[tag.as_slice(), &tag].concat()] {
            let wrong = URL_SAFE_NO_PAD.encode(wrong_length);
            assert_eq!(
                s.verify(&format!("{payload}.{wrong}"), t(0)),
                Err(ActionLinkError::BadSignature)
            );
        }
        // A tag copied from another token does not fit this payload.
        let other = s.sign(42, ModerationAction::Hide, 0, t(3600));
        let (_, other_tag) = other.split_once('.').unwrap();
        assert_eq!(
            s.verify(&format!("{payload}.{other_tag}"), t(0)),
            Err(ActionLinkError::BadSignature)
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_is_a_bad_signature() {
        let token = signer().sign(42, ModerationAction::Delete, 0, t(3600));
        assert_bad_signature_with_secret(b"another secret", &token, t(0));
    }

    #[test]
    fn a_token_expires_exactly_at_expires_at_to_the_second() {
        let s = signer();
        let expires = t(7 * 86_400);
        let token = s.sign(1, ModerationAction::Approve, 0, expires);
        assert!(s.verify(&token, expires - Duration::seconds(1)).is_ok());
        assert!(s.verify(&token, expires - Duration::nanoseconds(1)).is_ok());
        assert_eq!(s.verify(&token, expires), Err(ActionLinkError::Expired));
        assert_eq!(
            s.verify(&token, expires + Duration::seconds(1)),
            Err(ActionLinkError::Expired)
        );
        assert_eq!(
            s.verify(&token, expires + Duration::days(365)),
            Err(ActionLinkError::Expired)
        );
    }

    #[test]
    fn an_expired_token_with_a_bad_signature_is_reported_as_a_bad_signature() {
        let s = signer();
        let token = s.sign(1, ModerationAction::Approve, 0, t(0));
        assert_bad_signature_with_secret(b"x", &token, t(10));
    }

    #[test]
    fn malformed_input_is_rejected_without_panicking() {
        let s = signer();
        let valid = s.sign(1, ModerationAction::Hide, 0, t(60));
        let long = "A".repeat(10_000);
        let long_dotted = format!("{long}.{long}");
        let inputs: Vec<&str> = vec![
            "",
            ".",
            "..",
            "a.",
            ".a",
            "abc",
            "not a token",
            "%%%.%%%",
            "äöü.ß",
            "abc.def.ghi",
            "YWJj.===",
            "YWJj.YWJj=",
            "\0\0\0",
            "🦀.🦀",
            &long,
            &long_dotted,
            &valid[..valid.find('.').unwrap()],
        ];
        for input in inputs {
            let result = s.verify(input, t(0));
            assert!(
                matches!(
                    result,
                    Err(ActionLinkError::Malformed | ActionLinkError::BadSignature)
                ),
                "{input:?} gave {result:?}"
            );
        }
        assert_eq!(s.verify("", t(0)), Err(ActionLinkError::Malformed));
        assert_eq!(s.verify("garbage", t(0)), Err(ActionLinkError::Malformed));
        assert_eq!(s.verify("!!!!.????", t(0)), Err(ActionLinkError::Malformed));
        assert_eq!(
            s.verify(&format!("{valid}.extra"), t(0)),
            Err(ActionLinkError::Malformed)
        );
    }

    #[test]
    fn an_authentic_payload_of_an_unknown_shape_is_malformed() {
        // Sign payloads by hand with the same key, as a future or buggy version might.
        let s = signer();
        for payload in [
            "v3:1:hide:0:1556268660:0:nonce",
            "v2:1:hide:1556268660:0:nonce",
            "v2:1:hide:-1:1556268660:0:nonce",
            "v2:1:hide:x:1556268660:0:nonce",
            "v2:1:hide:0:1556268660:0:nonce:extra",
            "v1:1:publish:1556268660:0:nonce",
            "v1:x:hide:1556268660:0:nonce",
            "v1:1:hide:soon:0:nonce",
            "v1:1:hide:1556268660:0:",
            "v1:1:hide:1556268660:0:nonce:extra",
            "v1:1:hide",
            "",
        ] {
            let token = s.sign_payload(payload);
            assert!(
                matches!(s.verify(&token, t(0)), Err(ActionLinkError::Malformed)),
                "{payload:?}"
            );
        }
    }

    #[test]
    fn a_token_of_the_layout_without_rounds_verifies_as_round_zero() {
        let s = signer();
        let secs = t(3600).timestamp();
        let token = s.sign_payload(&format!("v1:42:hide:{secs}:0:nonce"));
        let claims = s.verify(&token, t(0)).expect("a v1 token is still valid");
        assert_eq!(claims.comment_id, 42);
        assert_eq!(claims.action, ModerationAction::Hide);
        assert_eq!(claims.round, 0);
        assert_eq!(claims.expires_at, t(3600));
    }

    #[test]
    fn debug_output_does_not_reveal_the_secret() {
        let s = ActionLinkSigner::new(b"super-secret-value".to_vec());
        let debug = format!("{s:?}");
        assert!(!debug.contains("super-secret-value"), "{debug}");
        assert!(debug.contains("redacted"));
    }

    #[test]
    fn actions_round_trip_through_their_names() {
        for &action in ModerationAction::ALL {
            assert_eq!(action.as_str().parse::<ModerationAction>(), Ok(action));
            assert_eq!(action.to_string(), action.as_str());
        }
        assert!("Approve".parse::<ModerationAction>().is_err());
        assert!("".parse::<ModerationAction>().is_err());
    }

    #[test]
    fn the_fingerprint_is_the_sha256_hex_of_the_token() {
        assert_eq!(
            token_fingerprint("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let fp = token_fingerprint("");
        assert_eq!(fp.len(), 64);
        assert!(
            fp.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }
}
