//! Upload authorization: JWT bearer tokens verified here (HS256 with shared secrets, EdDSA with
//! Ed25519 public keys; every other `alg`, `none` included, is refused), their claims, the
//! seen-set of single-use token ids and per-token byte quotas.
//!
//! A token is `base64url(header).base64url(claims).base64url(signature)`. Claims: `exp`
//! (required), `nbf`, `sub`, `max_size`, `max_epochs`, `owner`, `jti`. A `jti` is reserved when
//! a request starts and released if its store fails, so a single-use token is spent only by a
//! successful store. Quota bytes are reserved the same way.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{Signature, VerifyingKey};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{backend::EvmAddress, config::JwtConfig, error::ApiError, error::GatewayError};

/// Longest token accepted, in bytes.
const MAX_TOKEN_LEN: usize = 8 * 1024;

/// The shortest HS256 secret accepted, in bytes.
const MIN_HS256_SECRET: usize = 32;

/// The decoded verification keys.
#[derive(Clone)]
pub(crate) struct Keys {
    hs256: Vec<Vec<u8>>,
    ed25519: Vec<VerifyingKey>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("hs256", &self.hs256.len())
            .field("ed25519", &self.ed25519.len())
            .finish()
    }
}

impl Keys {
    /// Decodes the config's keys.
    pub(crate) fn from_config(cfg: &JwtConfig) -> Result<Self, GatewayError> {
        let mut hs256 = Vec::new();
        for s in &cfg.hs256_secrets {
            if s.len() < MIN_HS256_SECRET {
                return Err(GatewayError::Config(format!(
                    "a jwt.hs256_secrets entry has {} bytes; use at least {MIN_HS256_SECRET}",
                    s.len()
                )));
            }
            hs256.push(s.as_bytes().to_vec());
        }
        let mut ed25519 = Vec::new();
        for k in &cfg.ed25519_public_keys {
            let digits = k.strip_prefix("0x").unwrap_or(k);
            let mut bytes = [0u8; 32];
            hex::decode_to_slice(digits, &mut bytes).map_err(|_| {
                GatewayError::Config(format!(
                    "jwt.ed25519_public_keys entry {k:?} is not 64 hex digits"
                ))
            })?;
            let key = VerifyingKey::from_bytes(&bytes).map_err(|_| {
                GatewayError::Config(format!(
                    "jwt.ed25519_public_keys entry {k:?} is not an Ed25519 point"
                ))
            })?;
            ed25519.push(key);
        }
        Ok(Self { hs256, ed25519 })
    }
}

/// The verified claims of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Claims {
    pub(crate) exp: u64,
    pub(crate) sub: Option<String>,
    pub(crate) max_size: Option<u64>,
    pub(crate) max_epochs: Option<u32>,
    pub(crate) owner: Option<EvmAddress>,
    pub(crate) jti: Option<String>,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawClaims {
    exp: Option<serde_json::Number>,
    nbf: Option<serde_json::Number>,
    sub: Option<String>,
    max_size: Option<u64>,
    max_epochs: Option<u32>,
    owner: Option<String>,
    jti: Option<String>,
}

fn numeric_date(n: &serde_json::Number, name: &str) -> Result<u64, ApiError> {
    if let Some(v) = n.as_u64() {
        return Ok(v);
    }
    match n.as_f64() {
        Some(v) if v.is_finite() && v >= 0.0 => Ok(v.floor() as u64),
        _ => Err(ApiError::unauthorized(format!(
            "the token's {name} is not a NumericDate (seconds since 1970); ask for a new token"
        ))),
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Verification keys plus the state tokens share: seen `jti`s and quota counters.
#[derive(Debug)]
pub(crate) struct Authority {
    keys: Keys,
    leeway: u64,
    max_seen: usize,
    quota: Option<u64>,
    seen: Mutex<HashMap<String, u64>>,
    used: Mutex<HashMap<[u8; 32], (u64, u64)>>,
}

fn invalid(what: &str) -> ApiError {
    ApiError::unauthorized(format!(
        "the bearer token {what}; send `Authorization: Bearer <JWT>` with a token signed by one of the gateway's keys"
    ))
}

impl Authority {
    pub(crate) fn new(keys: Keys, jwt: &JwtConfig, max_seen: usize, quota: Option<u64>) -> Self {
        Self {
            keys,
            leeway: jwt.leeway_secs,
            max_seen,
            quota,
            seen: Mutex::new(HashMap::new()),
            used: Mutex::new(HashMap::new()),
        }
    }

    /// Extracts the token of an `Authorization` header value.
    pub(crate) fn bearer(header: Option<&str>) -> Result<&str, ApiError> {
        let Some(h) = header else {
            return Err(ApiError::unauthorized(
                "writing needs a token: send `Authorization: Bearer <JWT>`",
            ));
        };
        let (scheme, token) = h
            .trim()
            .split_once(' ')
            .ok_or_else(|| invalid("is missing"))?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(invalid("is missing (the scheme must be Bearer)"));
        }
        Ok(token.trim())
    }

    /// Verifies `token`'s signature and time claims at `now` (Unix seconds).
    pub(crate) fn verify(&self, token: &str, now: u64) -> Result<Claims, ApiError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(invalid("is too long"));
        }
        let mut parts = token.split('.');
        let (Some(h64), Some(c64), Some(s64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid(
                "is not a JWT (three base64url parts joined by dots)",
            ));
        };
        let decode = |p: &str| {
            URL_SAFE_NO_PAD
                .decode(p)
                .map_err(|_| invalid("is not base64url"))
        };
        let header: Header =
            serde_json::from_slice(&decode(h64)?).map_err(|_| invalid("has a malformed header"))?;
        if header.crit.is_some() {
            return Err(invalid(
                "has critical header extensions this gateway does not know",
            ));
        }
        let sig = decode(s64)?;
        let signed = &token.as_bytes()[..h64.len() + 1 + c64.len()];
        let ok = match header.alg.as_str() {
            "HS256" => self.keys.hs256.iter().any(|secret| {
                Hmac::<Sha256>::new_from_slice(secret)
                    .map(|mut mac| {
                        mac.update(signed);
                        mac.verify_slice(&sig).is_ok()
                    })
                    .unwrap_or(false)
            }),
            "EdDSA" => match Signature::from_slice(&sig) {
                Ok(sig) => self
                    .keys
                    .ed25519
                    .iter()
                    .any(|k| k.verify_strict(signed, &sig).is_ok()),
                Err(_) => false,
            },
            _ => return Err(invalid("uses an algorithm other than HS256 or EdDSA")),
        };
        if !ok {
            return Err(invalid("does not verify against the gateway's keys"));
        }
        let raw: RawClaims =
            serde_json::from_slice(&decode(c64)?).map_err(|_| invalid("has malformed claims"))?;
        let Some(exp) = raw.exp.as_ref() else {
            return Err(invalid("has no exp claim (it is required)"));
        };
        let exp = numeric_date(exp, "exp")?;
        if now > exp.saturating_add(self.leeway) {
            return Err(ApiError::unauthorized(
                "the bearer token has expired; ask for a new token",
            ));
        }
        if let Some(nbf) = raw.nbf.as_ref() {
            let nbf = numeric_date(nbf, "nbf")?;
            if now.saturating_add(self.leeway) < nbf {
                return Err(ApiError::unauthorized(
                    "the bearer token is not valid yet (nbf); retry later",
                ));
            }
        }
        let owner = match raw.owner {
            Some(o) => Some(
                o.parse::<EvmAddress>()
                    .map_err(|_| invalid("has an owner claim that is not an address"))?,
            ),
            None => None,
        };
        Ok(Claims {
            exp,
            sub: raw.sub,
            max_size: raw.max_size,
            max_epochs: raw.max_epochs,
            owner,
            jti: raw.jti,
        })
    }

    /// Reserves the token's `jti` (if any): 403 if it was used or is in use.
    pub(crate) fn reserve_jti(
        self: &Arc<Self>,
        claims: &Claims,
        now: u64,
    ) -> Result<Option<JtiReservation>, ApiError> {
        let Some(jti) = claims.jti.clone() else {
            return Ok(None);
        };
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let leeway = self.leeway;
        seen.retain(|_, exp| exp.saturating_add(leeway) >= now);
        if seen.contains_key(&jti) {
            return Err(ApiError::forbidden(
                "this single-use token (jti) was already used; ask for a new token",
            ));
        }
        if seen.len() >= self.max_seen {
            return Err(ApiError::unavailable(
                "too many single-use tokens are live at once; retry later",
                60,
            ));
        }
        seen.insert(jti.clone(), claims.exp);
        Ok(Some(JtiReservation {
            authority: Arc::clone(self),
            jti,
            committed: false,
        }))
    }

    /// Bytes the token may still upload (`None`: unlimited).
    pub(crate) fn quota_left(&self, token: &str, now: u64) -> Option<u64> {
        let quota = self.quota?;
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        used.retain(|_, (_, exp)| exp.saturating_add(self.leeway) >= now);
        let spent = used.get(&token_key(token)).map_or(0, |(u, _)| *u);
        Some(quota.saturating_sub(spent))
    }

    /// Reserves `bytes` of the token's quota: 429 if they exceed what is left.
    pub(crate) fn reserve_quota(
        self: &Arc<Self>,
        token: &str,
        exp: u64,
        bytes: u64,
    ) -> Result<Option<QuotaReservation>, ApiError> {
        let Some(quota) = self.quota else {
            return Ok(None);
        };
        let key = token_key(token);
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        let entry = used.entry(key).or_insert((0, exp));
        if entry.0.saturating_add(bytes) > quota {
            return Err(quota_error(quota, entry.0));
        }
        entry.0 += bytes;
        Ok(Some(QuotaReservation {
            authority: Arc::clone(self),
            key,
            bytes,
            committed: false,
        }))
    }
}

/// The 429 of a token whose quota is used up.
pub(crate) fn quota_error(quota: u64, spent: u64) -> ApiError {
    ApiError::quota_exceeded(format!(
        "the token's upload quota of {quota} bytes is used up ({spent} bytes uploaded); ask for a new token"
    ))
}

fn token_key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// A reserved single-use token id, released on drop unless committed.
#[derive(Debug)]
pub(crate) struct JtiReservation {
    authority: Arc<Authority>,
    jti: String,
    committed: bool,
}

impl JtiReservation {
    /// The store succeeded: the id stays spent.
    pub(crate) fn commit(mut self) {
        self.committed = true;
    }
}

impl Drop for JtiReservation {
    fn drop(&mut self) {
        if !self.committed {
            let mut seen = self
                .authority
                .seen
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            seen.remove(&self.jti);
        }
    }
}

/// Reserved quota bytes, refunded on drop unless committed.
#[derive(Debug)]
pub(crate) struct QuotaReservation {
    authority: Arc<Authority>,
    key: [u8; 32],
    bytes: u64,
    committed: bool,
}

impl QuotaReservation {
    /// The store succeeded: the bytes stay spent.
    pub(crate) fn commit(mut self) {
        self.committed = true;
    }
}

impl Drop for QuotaReservation {
    fn drop(&mut self) {
        if !self.committed {
            let mut used = self
                .authority
                .used
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if let Some(e) = used.get_mut(&self.key) {
                e.0 = e.0.saturating_sub(self.bytes);
            }
        }
    }
}
