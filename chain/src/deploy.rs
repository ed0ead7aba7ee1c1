//! Deploying WAL, Staking and BlobRegistry from the committed artifacts' bytecode.

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, Bytes, U256},
    providers::{DynProvider, Provider},
    rpc::types::TransactionRequest,
    sol_types::SolValue,
};
use serde::{Deserialize, Serialize};

use crate::{
    bindings::{artifacts, staking::Staking},
    error::ChainError,
    types::Deployment,
};

/// 1 WAL in FROST.
pub const FROST_PER_WAL: u64 = 1_000_000_000;

/// Constructor parameters of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployParams {
    /// WAL faucet cap per account over its lifetime, in FROST.
    pub faucet_cap: U256,
    /// Number of shards `n`.
    pub n_shards: u16,
    /// Epoch duration in seconds.
    pub epoch_duration_secs: u64,
    /// Minimum stake for committee membership, in FROST.
    pub min_stake: U256,
    /// Maximum committee size.
    pub max_committee_size: u16,
    /// Initial storage price, FROST per MiB per epoch.
    pub storage_price: u64,
    /// Initial write price, FROST per MiB.
    pub write_price: u64,
}

impl Default for DeployParams {
    /// The devnet's: 100 shards, 60 s epochs, 1M WAL faucet cap, 1 WAL minimum stake.
    fn default() -> Self {
        DeployParams {
            faucet_cap: U256::from(1_000_000u64) * U256::from(FROST_PER_WAL),
            n_shards: 100,
            epoch_duration_secs: 60,
            min_stake: U256::from(FROST_PER_WAL),
            max_committee_size: 100,
            storage_price: 100_000,
            write_price: 10_000,
        }
    }
}

/// The creation bytecode in an artifact's JSON.
fn creation_code(contract: &'static str, json: &str) -> Result<Vec<u8>, ChainError> {
    #[derive(Deserialize)]
    struct Artifact {
        bytecode: Code,
    }
    #[derive(Deserialize)]
    struct Code {
        object: String,
    }
    let a: Artifact = serde_json::from_str(json).map_err(|e| {
        ChainError::BadData(format!("artifact of {contract} is not valid JSON: {e}"))
    })?;
    let code = alloy::hex::decode(a.bytecode.object.trim_start_matches("0x")).map_err(|e| {
        ChainError::BadData(format!("artifact of {contract} has bad bytecode hex: {e}"))
    })?;
    if code.is_empty() {
        return Err(ChainError::MissingBytecode { contract });
    }
    Ok(code)
}

async fn deploy_one(
    provider: &DynProvider,
    contract: &'static str,
    json: &str,
    args: Vec<u8>,
) -> Result<Address, ChainError> {
    let mut code = creation_code(contract, json)?;
    code.extend_from_slice(&args);
    let tx = TransactionRequest::default().with_deploy_code(Bytes::from(code));
    let pending = provider
        .send_transaction(tx)
        .await
        .map_err(|e| ChainError::from_transport("deploy", e))?;
    let receipt = crate::handle::receipt("deploy", pending).await?;
    if !receipt.status() {
        return Err(ChainError::TxFailed {
            call: "deploy",
            tx: receipt.transaction_hash,
        });
    }
    receipt.contract_address.ok_or_else(|| {
        ChainError::BadData(format!(
            "deploying {contract}: receipt has no contract address"
        ))
    })
}

/// Deploys WAL, Staking and BlobRegistry with `provider`'s wallet and links the registry into
/// staking (`setRegistry`). The provider must have a wallet (see [`crate::connect`]).
pub async fn deploy(
    provider: &DynProvider,
    params: &DeployParams,
) -> Result<Deployment, ChainError> {
    let chain_id = provider
        .get_chain_id()
        .await
        .map_err(|e| ChainError::from_transport("eth_chainId", e))?;
    let start_block = provider
        .get_block_number()
        .await
        .map_err(|e| ChainError::from_transport("eth_blockNumber", e))?;
    let wal = deploy_one(
        provider,
        "WAL",
        artifacts::WAL,
        (params.faucet_cap,).abi_encode_params(),
    )
    .await?;
    let staking_args = (
        wal,
        params.n_shards,
        params.epoch_duration_secs,
        params.min_stake,
        params.max_committee_size,
        params.storage_price,
        params.write_price,
    )
        .abi_encode_params();
    let staking = deploy_one(provider, "Staking", artifacts::STAKING, staking_args).await?;
    let registry = deploy_one(
        provider,
        "BlobRegistry",
        artifacts::BLOB_REGISTRY,
        (staking,).abi_encode_params(),
    )
    .await?;
    let s = Staking::new(staking, provider.clone());
    let pending = s
        .setRegistry(registry)
        .send()
        .await
        .map_err(|e| ChainError::from_contract("setRegistry", staking, e))?;
    let receipt = crate::handle::receipt("setRegistry", pending).await?;
    if !receipt.status() {
        return Err(ChainError::TxFailed {
            call: "setRegistry",
            tx: receipt.transaction_hash,
        });
    }
    tracing::info!(%wal, %staking, %registry, chain_id, "deployed floe contracts");
    Ok(Deployment {
        wal,
        staking,
        registry,
        chain_id,
        start_block,
    })
}
