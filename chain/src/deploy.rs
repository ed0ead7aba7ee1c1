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
    bindings::{
        artifacts,
        staking::{IStaking, Staking},
    },
    error::ChainError,
    types::Deployment,
};

/// 1 WAL in FROST.
pub const FROST_PER_WAL: u64 = 1_000_000_000;

/// How WAL comes into being in a deployment (visible on-chain as `WAL.faucetEnabled()`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WalSupply {
    /// A devnet: anyone draws up to `cap_per_account` FROST from the faucet.
    Faucet {
        /// Faucet cap per account over its lifetime, in FROST.
        cap_per_account: U256,
    },
    /// Any other network: a fixed supply minted once to `holder`; no faucet.
    Fixed {
        /// Who receives the supply.
        holder: Address,
        /// The whole supply, in FROST.
        supply: U256,
    },
}

/// Constructor parameters of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployParams {
    /// Where WAL comes from.
    pub wal_supply: WalSupply,
    /// Number of shards `n`.
    pub n_shards: u16,
    /// Epoch duration in seconds.
    pub epoch_duration_secs: u64,
    /// Minimum stake for committee membership, in FROST.
    pub min_stake: U256,
    /// Maximum committee size.
    pub max_committee_size: u16,
    /// The bond a node pays to register (returned after it deregisters), in FROST.
    pub registration_bond: U256,
    /// Initial storage price, FROST per MiB per epoch.
    pub storage_price: u64,
    /// The range storage price votes must lie in, `[min, max]`.
    pub storage_price_range: (u64, u64),
    /// Initial write price, FROST per MiB.
    pub write_price: u64,
    /// The range write price votes must lie in, `[min, max]`.
    pub write_price_range: (u64, u64),
}

impl Default for DeployParams {
    /// The devnet's: 100 shards, 60 s epochs, a faucet capped at 1M WAL per account, 1 WAL
    /// minimum stake and registration bond, prices free to move within 1/1000 to 1000 times
    /// their initial values.
    fn default() -> Self {
        let storage_price = 100_000;
        let write_price = 10_000;
        DeployParams {
            wal_supply: WalSupply::Faucet {
                cap_per_account: U256::from(1_000_000u64) * U256::from(FROST_PER_WAL),
            },
            n_shards: 100,
            epoch_duration_secs: 60,
            min_stake: U256::from(FROST_PER_WAL),
            max_committee_size: 100,
            registration_bond: U256::from(FROST_PER_WAL),
            storage_price,
            storage_price_range: (storage_price / 1000, storage_price * 1000),
            write_price,
            write_price_range: (write_price / 1000, write_price * 1000),
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

/// WAL's constructor arguments `(bool faucetEnabled, uint256 faucetCap, address holder, uint256 supply)`.
fn wal_args(supply: &WalSupply) -> Vec<u8> {
    match supply {
        WalSupply::Faucet { cap_per_account } => {
            (true, *cap_per_account, Address::ZERO, U256::ZERO).abi_encode_params()
        }
        WalSupply::Fixed { holder, supply } => {
            (false, U256::ZERO, *holder, *supply).abi_encode_params()
        }
    }
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
        wal_args(&params.wal_supply),
    )
    .await?;
    let config = IStaking::Config {
        wal,
        nShards: params.n_shards,
        epochDuration: params.epoch_duration_secs,
        minStake: params.min_stake,
        maxCommitteeSize: params.max_committee_size,
        registrationBond: params.registration_bond,
        initialStoragePrice: params.storage_price,
        minStoragePrice: params.storage_price_range.0,
        maxStoragePrice: params.storage_price_range.1,
        initialWritePrice: params.write_price,
        minWritePrice: params.write_price_range.0,
        maxWritePrice: params.write_price_range.1,
    };
    let staking_args = (config,).abi_encode_params();
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
