//! Standard Webhooks signatures: `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The `webhook-signature` header value of one message.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::webhook_key as key_of;

    #[test]
    fn the_readme_example_is_what_the_service_sends() {
        let data = serde_json::json!({"flag_id": "1", "comment_id": "1", "decision": {
            "action": "hide", "ground": "terms", "category": "insult",
            "decided_at": "2026-11-28T15:53:15.235846Z"}});
        let at = "2026-11-28T15:53:15.235846Z".parse().unwrap();
        let id = "evt_XwyaPit9TBqObwstSmyODw";
        let body =
            crate::events::body(crate::domain::states::EventType::FlagDecided, id, at, &data);
        assert_eq!(
            body,
            r#"{"data":{"comment_id":"1","decision":{"action":"hide","category":"insult","decided_at":"2026-11-28T15:53:15.235846Z","ground":"terms"},"flag_id":"1"},"id":"evt_XwyaPit9TBqObwstSmyODw","occurred_at":"2026-11-28T15:53:15.235846Z","type":"flag.decided"}"#
        );
        assert_eq!(
            sign(b"example-webhook-secret-0123", id, 1796486195, &body),
            "v1,JgNTyszNx3Lm8hCQXSIK0gi30ZCUFktTw0rgdReo+7U="
        );
    }

    #[test]
    fn the_signature_follows_the_standard_webhooks_example() {
        // The example of the Standard Webhooks specification.
        let key = key_of("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_plain_secret_is_its_own_key_and_a_bad_whsec_is_refused() {
        assert_eq!(
            key_of("a-long-plain-secret").unwrap(),
            b"a-long-plain-secret"
        );
        assert!(key_of("whsec_!!!").is_err());
    }
}
