//! Minting upload tokens: what a publisher's operator (or its web backend) hands to a dapp
//! user. The gateway verifies them in `auth`; claims are described in docs/GATEWAY.md.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// An HS256 JWT over `claims` (a JSON object: `exp` is required by the gateway), signed with
/// `secret` (one of the config's `jwt.hs256_secrets`).
pub fn mint_hs256(secret: &str, claims: &serde_json::Value) -> String {
    let header = serde_json::json!({"alg": "HS256", "typ": "JWT"});
    let signed = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    // HMAC takes keys of any length: this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts any key length"),
    };
    mac.update(signed.as_bytes());
    let sig = mac.finalize().into_bytes();
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{auth::Authority, config::JwtConfig};

    #[test]
    fn minted_tokens_verify_and_carry_their_claims() {
        let secret = "a-secret-of-at-least-thirty-two-bytes!";
        let jwt = JwtConfig {
            hs256_secrets: vec![secret.to_owned()],
            ..JwtConfig::default()
        };
        let auth = Authority::new(
            crate::auth::Keys::from_config(&jwt).expect("keys"),
            &jwt,
            10,
            None,
        );
        let token = mint_hs256(
            secret,
            &serde_json::json!({"exp": 2_000_000_000u64, "max_size": 5}),
        );
        let claims = auth.verify(&token, 1_000_000_000).expect("verifies");
        assert_eq!(claims.max_size, Some(5));
        let other = mint_hs256(
            "another-secret-of-at-least-32-bytes!!",
            &serde_json::json!({"exp": 2_000_000_000u64}),
        );
        assert!(auth.verify(&other, 1_000_000_000).is_err());
    }
}
