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
