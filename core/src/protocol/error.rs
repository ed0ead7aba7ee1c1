//! Errors on the wire: every non-2xx answer of a node is the JSON [`ErrorBody`]
//! `{"error": message, "code": code}` with the HTTP status of its [`ErrorCode`]:
//!
//! | status | code | meaning |
//! | --- | --- | --- |
//! | 400 | `bad_request` | malformed id, pair, kind, index, query or body |
//! | 400 | `registration_mismatch` | the registration named in the path is of another blob id |
//! | 404 | `not_registered` / `not_found` | blob (or registration) unknown on-chain / data (or route) not held here |
//! | 405 | `method_not_allowed` | the route exists, the method does not |
//! | 408 | `timeout` | the request (headers or body) came too slowly |
//! | 409 | `metadata_missing` / `incomplete` | upload metadata first / not all slivers held yet (retry) |
//! | 410 | `gone` | blob deleted, invalid or expired: nothing is accepted or served |
//! | 413 | `too_large` | body over what the blob can legitimately need |
//! | 421 | `not_my_shard` | this node does not hold that pair's shard this epoch |
//! | 422 | `verification_failed` | metadata does not hash to the id / sliver does not match |
//! | 500 | `storage` / `internal` | the node's database or a worker failed |
//! | 503 | `busy` / `chain_unavailable` | too many requests (or chain lookups) in progress / chain unreachable (retry; `Retry-After` says when) |

use serde::{Deserialize, Serialize};

/// The JSON body of an error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong and what to do.
    pub error: String,
    /// Machine-readable code ([`ErrorCode::as_str`]).
    pub code: String,
}

impl ErrorBody {
    /// The code, if this build knows it.
    pub fn code(&self) -> Option<ErrorCode> {
        ErrorCode::parse(&self.code)
    }
}

/// The machine-readable error codes and their HTTP statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: malformed request.
    BadRequest,
    /// 400: the registration named in the path belongs to another blob id.
    RegistrationMismatch,
    /// 404: the blob is not registered on-chain.
    NotRegistered,
    /// 404: the node does not hold what was asked (or no such route).
    NotFound,
    /// 405: the route does not take this method.
    MethodNotAllowed,
    /// 408: the request came too slowly.
    Timeout,
    /// 409: a sliver came before the metadata.
    MetadataMissing,
    /// 409: not all slivers held yet.
    Incomplete,
    /// 410: deleted, invalid or expired.
    Gone,
    /// 413: the body is larger than the blob can need.
    TooLarge,
    /// 421: another node holds the pair's shard this epoch.
    NotMyShard,
    /// 422: the data does not verify.
    VerificationFailed,
    /// 500: the node's storage failed.
    Storage,
    /// 500: another internal failure.
    Internal,
    /// 503: too many requests in progress; retry.
    Busy,
    /// 503: the chain could not be asked; retry.
    ChainUnavailable,
}

impl ErrorCode {
    /// Every code, for tables and tests.
    pub const ALL: [ErrorCode; 16] = [
        ErrorCode::BadRequest,
        ErrorCode::RegistrationMismatch,
        ErrorCode::NotRegistered,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Timeout,
        ErrorCode::MetadataMissing,
        ErrorCode::Incomplete,
        ErrorCode::Gone,
        ErrorCode::TooLarge,
        ErrorCode::NotMyShard,
        ErrorCode::VerificationFailed,
        ErrorCode::Storage,
        ErrorCode::Internal,
        ErrorCode::Busy,
        ErrorCode::ChainUnavailable,
    ];

    /// The HTTP status.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest | ErrorCode::RegistrationMismatch => 400,
            ErrorCode::NotRegistered | ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::Timeout => 408,
            ErrorCode::MetadataMissing | ErrorCode::Incomplete => 409,
            ErrorCode::Gone => 410,
            ErrorCode::TooLarge => 413,
            ErrorCode::NotMyShard => 421,
            ErrorCode::VerificationFailed => 422,
            ErrorCode::Storage | ErrorCode::Internal => 500,
            ErrorCode::Busy | ErrorCode::ChainUnavailable => 503,
        }
    }

    /// The code as sent in [`ErrorBody::code`].
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::RegistrationMismatch => "registration_mismatch",
            ErrorCode::NotRegistered => "not_registered",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Timeout => "timeout",
            ErrorCode::MetadataMissing => "metadata_missing",
            ErrorCode::Incomplete => "incomplete",
            ErrorCode::Gone => "gone",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::NotMyShard => "not_my_shard",
            ErrorCode::VerificationFailed => "verification_failed",
            ErrorCode::Storage => "storage",
            ErrorCode::Internal => "internal",
            ErrorCode::Busy => "busy",
            ErrorCode::ChainUnavailable => "chain_unavailable",
        }
    }

    /// The code named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether the same request may succeed later: "not yet" answers (a registration not
    /// seen yet, metadata or slivers still arriving, a shard still moving) and 5xx.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorCode::NotRegistered
                | ErrorCode::NotFound
                | ErrorCode::Timeout
                | ErrorCode::MetadataMissing
                | ErrorCode::Incomplete
                | ErrorCode::NotMyShard
                | ErrorCode::Storage
                | ErrorCode::Internal
                | ErrorCode::Busy
                | ErrorCode::ChainUnavailable
        )
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_through_their_names_and_serde() {
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(c.as_str()), Some(c));
            let json = serde_json::to_string(&c).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert!((400..600).contains(&c.status()));
        }
        assert_eq!(ErrorCode::parse("nope"), None);
        assert_eq!(ErrorCode::TooLarge.status(), 413);
        assert_eq!(ErrorCode::RegistrationMismatch.status(), 400);
        assert!(!ErrorCode::RegistrationMismatch.is_retryable());
        assert_eq!(ErrorCode::NotMyShard.status(), 421);
        assert!(!ErrorCode::VerificationFailed.is_retryable());
        assert!(ErrorCode::Busy.is_retryable());
    }
}
