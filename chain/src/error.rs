//! [`ChainError`]: everything that can go wrong talking to the chain, with reverts decoded into
//! the contracts' custom errors (by selector, from the committed artifacts' ABIs) and a hint
//! saying what to do next.

use std::{collections::HashMap, sync::LazyLock};

use alloy::{
    dyn_abi::{DynSolValue, JsonAbiExt},
    json_abi::{Error as AbiError, JsonAbi},
    primitives::{Address, Bytes, TxHash},
};

use crate::bindings::artifacts;

/// Errors of floe-chain.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The JSON-RPC endpoint did not answer at all.
    #[error(
        "cannot reach the chain RPC at {url}: {reason}; check that the chain (anvil) is running and the URL is right"
    )]
    Unreachable {
        /// The RPC URL tried.
        url: String,
        /// What the transport said.
        reason: String,
    },
    /// The RPC URL is not a valid URL.
    #[error("invalid RPC URL {url:?}: {reason}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// Why it does not parse.
        reason: String,
    },
    /// The chain the RPC serves is not the one the deployment was made on.
    #[error(
        "the RPC at {url} serves chain {actual}, but the deployment is on chain {expected}; use the matching RPC URL or deployment file"
    )]
    WrongChain {
        /// The RPC URL.
        url: String,
        /// Chain id in the deployment.
        expected: u64,
        /// Chain id the RPC reports.
        actual: u64,
    },
    /// A contract call reverted; `revert` names the custom error and what to do.
    #[error("{call} reverted: {revert}")]
    Reverted {
        /// The contract function called.
        call: &'static str,
        /// The decoded revert.
        revert: Revert,
    },
    /// A transaction was mined but failed (status 0).
    #[error(
        "{call} transaction {tx} failed on-chain (status 0); retry, or inspect it with `cast run {tx}`"
    )]
    TxFailed {
        /// The contract function called.
        call: &'static str,
        /// The transaction hash.
        tx: TxHash,
    },
    /// A sent transaction was not mined in time.
    #[error(
        "{call} transaction {tx} was not mined within {secs}s; check that the chain produces blocks, then look it up with `cast receipt {tx}` before resending"
    )]
    ReceiptTimeout {
        /// The contract function called.
        call: &'static str,
        /// The transaction hash.
        tx: TxHash,
        /// How long was waited.
        secs: u64,
    },
    /// No contract code at an address of the deployment.
    #[error(
        "no contract answers at {address} ({call}): the deployment file does not match this chain (was anvil restarted?); redeploy or fix the addresses"
    )]
    NoContract {
        /// The contract function called.
        call: &'static str,
        /// The address called.
        address: Address,
    },
    /// Any other JSON-RPC or transport failure.
    #[error(
        "chain RPC call {call} failed: {reason}; check that the chain RPC is up and answering (each request times out after {}s), then retry",
        crate::handle::RPC_TIMEOUT.as_secs()
    )]
    Rpc {
        /// What was being done.
        call: &'static str,
        /// The underlying error.
        reason: String,
    },
    /// A transaction was needed but the handle was built without a wallet.
    #[error("{call} sends a transaction but no wallet was configured; connect with a private key")]
    NoWallet {
        /// The contract function.
        call: &'static str,
    },
    /// A committed artifact has no creation bytecode.
    #[error(
        "the artifact of {contract} has no bytecode (contracts/src/{contract}.sol was missing when it was generated); run chain/artifacts/update.sh"
    )]
    MissingBytecode {
        /// The contract name.
        contract: &'static str,
    },
    /// The chain returned data floe cannot use (bad key, unknown enum value, inconsistent committee).
    #[error("unexpected data from the chain: {0}")]
    BadData(String),
    /// A deployment file could not be read or written.
    #[error("deployment file {path}: {reason}")]
    DeploymentFile {
        /// The file.
        path: String,
        /// The I/O or JSON error.
        reason: String,
    },
}

impl ChainError {
    /// The decoded revert, if this error is one.
    pub fn revert(&self) -> Option<&Revert> {
        match self {
            ChainError::Reverted { revert, .. } => Some(revert),
            _ => None,
        }
    }

    /// The custom error's name if this is a revert (`"ShortOfQuorum"`, `"Error"` for a string
    /// reason, `"Panic"`, or `""` if the data matched nothing known).
    pub fn revert_name(&self) -> Option<&str> {
        self.revert().map(|r| r.name.as_str())
    }

    /// Maps an alloy contract error for `call` on `address`.
    pub(crate) fn from_contract(
        call: &'static str,
        address: Address,
        err: alloy::contract::Error,
    ) -> Self {
        if let Some(data) = err.as_revert_data() {
            return ChainError::Reverted {
                call,
                revert: Revert::decode(data),
            };
        }
        match err {
            alloy::contract::Error::ZeroData(..) => ChainError::NoContract { call, address },
            alloy::contract::Error::TransportError(e) => Self::from_transport(call, e),
            other => ChainError::Rpc {
                call,
                reason: other.to_string(),
            },
        }
    }

    /// Maps a transport error for `call`.
    pub(crate) fn from_transport(
        call: &'static str,
        err: alloy::transports::TransportError,
    ) -> Self {
        if let Some(data) = err.as_error_resp().and_then(|e| e.as_revert_data()) {
            return ChainError::Reverted {
                call,
                revert: Revert::decode(data),
            };
        }
        ChainError::Rpc {
            call,
            reason: err.to_string(),
        }
    }
}

/// A decoded revert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revert {
    /// The custom error's name (`"Error"` for `require` strings, `"Panic"`, `""` if unknown).
    pub name: String,
    /// The error with its arguments, e.g. `ShortOfQuorum(weight: 60, needed: 67)`.
    pub rendered: String,
    /// The raw revert data.
    pub data: Bytes,
}

impl std::fmt::Display for Revert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.rendered)?;
        if let Some(hint) = hint(&self.name) {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

/// Every custom error of WAL, Staking and BlobRegistry (and what they inherit), by selector.
static ERRORS: LazyLock<HashMap<[u8; 4], AbiError>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for json in [artifacts::WAL, artifacts::STAKING, artifacts::BLOB_REGISTRY] {
        #[derive(serde::Deserialize)]
        struct Artifact {
            abi: JsonAbi,
        }
        if let Ok(a) = serde_json::from_str::<Artifact>(json) {
            for e in a.abi.errors() {
                map.insert(e.selector().0, e.clone());
            }
        }
    }
    map
});

impl Revert {
    /// Decodes revert data against the contracts' custom errors, `Error(string)` and `Panic(uint256)`.
    pub fn decode(data: Bytes) -> Self {
        let unknown = |data: Bytes| Revert {
            name: String::new(),
            rendered: format!("unknown revert data {data}"),
            data,
        };
        if data.len() < 4 {
            return if data.is_empty() {
                Revert {
                    name: String::new(),
                    rendered: "reverted without a reason".into(),
                    data,
                }
            } else {
                unknown(data)
            };
        }
        let selector: [u8; 4] = [data[0], data[1], data[2], data[3]];
        let std_err = |sig: &str| AbiError::parse(sig).ok();
        let abi_err = match selector {
            [0x08, 0xc3, 0x79, 0xa0] => std_err("error Error(string reason)"),
            [0x4e, 0x48, 0x7b, 0x71] => std_err("error Panic(uint256 code)"),
            s => ERRORS.get(&s).cloned(),
        };
        let Some(abi_err) = abi_err else {
            return unknown(data);
        };
        match abi_err.abi_decode_input(&data[4..]) {
            Ok(values) => {
                let args: Vec<String> = abi_err
                    .inputs
                    .iter()
                    .zip(&values)
                    .map(|(p, v)| {
                        if p.name.is_empty() {
                            render(v)
                        } else {
                            format!("{}: {}", p.name, render(v))
                        }
                    })
                    .collect();
                Revert {
                    name: abi_err.name.clone(),
                    rendered: format!("{}({})", abi_err.name, args.join(", ")),
                    data,
                }
            }
            Err(_) => Revert {
                name: abi_err.name.clone(),
                rendered: format!("{}(<undecodable>)", abi_err.name),
                data,
            },
        }
    }
}

fn render(v: &DynSolValue) -> String {
    match v {
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::FixedBytes(w, size) => format!("0x{}", alloy::hex::encode(&w[..*size])),
        DynSolValue::Address(a) => a.to_checksum(None),
        DynSolValue::Function(f) => f.to_string(),
        DynSolValue::Bytes(b) => format!("0x{}", alloy::hex::encode(b)),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Array(a) | DynSolValue::FixedArray(a) => {
            format!("[{}]", a.iter().map(render).collect::<Vec<_>>().join(", "))
        }
        DynSolValue::Tuple(t) => {
            format!("({})", t.iter().map(render).collect::<Vec<_>>().join(", "))
        }
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}

/// What to do about a revert, by custom error name.
fn hint(name: &str) -> Option<&'static str> {
    Some(match name {
        "ERC20InsufficientBalance" => "the account lacks WAL: get some with `floe faucet`",
        "ERC20InsufficientAllowance" => "approve the registry (or staking) to spend more WAL first",
        "FaucetCapExceeded" => {
            "this account's faucet allowance is used up: ask for less or use another account"
        }
        "ShortOfQuorum" => {
            "collect confirmations from nodes holding more shards (3w >= 2n+1) and retry"
        }
        "WrongEpoch" => {
            "the epoch changed: collect fresh confirmations for the current epoch and retry"
        }
        "BadSignature" => "a confirmation did not verify: drop the bad signer and collect again",
        "BlobExpired" => "the blob's storage ran out: store it again",
        "BlobAlreadyRegistered" => {
            "the blob is already registered: reuse it instead of registering again"
        }
        "NotRegistrationOwner" | "NotStorageOwner" => {
            "only the owner may do this: use the owner's wallet"
        }
        "RegistrationNotDeletable" => "the blob was stored permanent; it cannot be deleted",
        "StorageTooSmall" => "buy more storage or split less off",
        "UnknownBlob" => "no such blob is registered: check the blob id",
        "NoCommittee" => "no committee yet: advance to epoch 1 after staking nodes",
        "RegistrationIsShared" => {
            "the registration is shared, which is final: it cannot be transferred or edited"
        }
        "RegistrationNotShared" => "share the registration first (its owner, if it is permanent)",
        "InsufficientFunds" => {
            "fund the shared registration with more WAL first, or extend by fewer epochs"
        }
        "TooManyAttributes" => "a registration has at most 16 attributes: remove one first",
        "AttributeNotFound" => "the registration has no such attribute: list them first",
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use alloy::sol_types::SolError;

    #[test]
    fn decodes_registry_error_with_arguments_and_hint() {
        let err = crate::bindings::registry::BlobRegistry::ShortOfQuorum {
            weight: alloy::primitives::U256::from(60),
            needed: alloy::primitives::U256::from(67),
        };
        let r = Revert::decode(err.abi_encode().into());
        assert_eq!(r.name, "ShortOfQuorum");
        assert_eq!(r.rendered, "ShortOfQuorum(weight: 60, needed: 67)");
        assert!(r.to_string().contains("collect confirmations"), "{r}");
    }

    #[test]
    fn decodes_string_reason_and_unknown_data() {
        let data = alloy::sol_types::Revert::from("nope").abi_encode();
        let r = Revert::decode(data.into());
        assert_eq!(
            (r.name.as_str(), r.rendered.as_str()),
            ("Error", "Error(reason: \"nope\")")
        );
        let r = Revert::decode(Bytes::from(vec![1, 2, 3, 4, 5]));
        assert_eq!(r.name, "");
        assert_eq!(r.rendered, "unknown revert data 0x0102030405");
        assert_eq!(
            Revert::decode(Bytes::new()).rendered,
            "reverted without a reason"
        );
    }
}
