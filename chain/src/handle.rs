//! [`Chain`]: one handle on the floe contracts over one provider, with typed reads and
//! transactions returning their hashes.

use std::{sync::Arc, time::Duration};

use alloy::{
    primitives::{Address, B256, Bytes, TxHash, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::{Filter, TransactionReceipt},
    signers::local::PrivateKeySigner,
    sol_types::SolEvent,
};
use floe_core::{bls::PublicKey, ids::BlobId};
use tokio::sync::Mutex;

use crate::{
    bindings::{
        registry::{BlobRegistry, IBlobRegistry},
        staking::Staking,
        wal::WAL,
    },
    committee::{Committee, Member},
    error::ChainError,
    events::{EventRecord, FloeEvent},
    types::{
        BlobStatusRecord, Deployment, EpochTiming, NodeInfo, Prices, RecentRegistration,
        Registration, RegistrationRecord, RegistrationState, RegistrationTxs, StorageCost,
        registration_id_u64,
    },
};

/// Longest wait for one JSON-RPC request (a call, `eth_getLogs`, a send): a chain that hangs
/// fails the request instead of stalling the caller forever.
pub const RPC_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest wait for a sent transaction's receipt.
pub const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);
/// Longest wait to open a connection to the RPC.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Most blocks one `eth_getLogs` of [`Chain::registration_ids_of`], [`Chain::registration_txs`]
/// and [`Chain::recent_registrations`] spans.
pub const LOG_WINDOW: u64 = 50_000;
/// Most transfer transactions [`Chain::registration_txs`] returns (the newest).
pub const MAX_TRANSFER_TXS: usize = 256;

/// Waits for `pending`'s receipt at most [`RECEIPT_TIMEOUT`], mapping failures to
/// [`ChainError::ReceiptTimeout`] (naming the transaction) or [`ChainError::Rpc`].
pub(crate) async fn receipt<N: alloy::network::Network>(
    call: &'static str,
    pending: alloy::providers::PendingTransactionBuilder<N>,
) -> Result<N::ReceiptResponse, ChainError> {
    let tx = *pending.tx_hash();
    pending
        .with_timeout(Some(RECEIPT_TIMEOUT))
        .get_receipt()
        .await
        .map_err(|e| match e {
            alloy::providers::PendingTransactionError::TxWatcher(
                alloy::providers::WatchTxError::Timeout,
            ) => ChainError::ReceiptTimeout {
                call,
                tx,
                secs: RECEIPT_TIMEOUT.as_secs(),
            },
            e => ChainError::Rpc {
                call,
                reason: e.to_string(),
            },
        })
}

/// Connects to `rpc_url` (checking that it answers) and returns a type-erased provider, with
/// `signer` as its wallet when given. Every request times out after [`RPC_TIMEOUT`].
pub async fn connect(
    rpc_url: &str,
    signer: Option<PrivateKeySigner>,
) -> Result<DynProvider, ChainError> {
    let url: alloy::transports::http::reqwest::Url =
        rpc_url
            .parse()
            .map_err(|e: url_error::ParseError| ChainError::BadUrl {
                url: rpc_url.to_owned(),
                reason: e.to_string(),
            })?;
    let http = alloy::transports::http::reqwest::Client::builder()
        .timeout(RPC_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|e| ChainError::Unreachable {
            url: rpc_url.to_owned(),
            reason: format!("cannot build the HTTP client: {e}"),
        })?;
    let provider = match signer {
        Some(s) => ProviderBuilder::new()
            .wallet(s)
            .connect_reqwest(http, url)
            .erased(),
        None => ProviderBuilder::new().connect_reqwest(http, url).erased(),
    };
    provider
        .get_chain_id()
        .await
        .map_err(|e| ChainError::Unreachable {
            url: rpc_url.to_owned(),
            reason: e.to_string(),
        })?;
    Ok(provider)
}

mod url_error {
    pub(super) use alloy::transports::http::reqwest::Url;
    pub(super) type ParseError = <Url as std::str::FromStr>::Err;
}

/// A handle on a floe deployment. Cheap to clone; transactions of one wallet are sent one at
/// a time, each with the nonce the chain reports as pending (never a cached one), and each
/// waits for its receipt.
#[derive(Clone)]
pub struct Chain {
    provider: DynProvider,
    deployment: Deployment,
    sender: Option<Address>,
    url: String,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chain")
            .field("url", &self.url)
            .field("deployment", &self.deployment)
            .field("sender", &self.sender)
            .finish()
    }
}

/// One send lock per wallet address in this process: every [`Chain`] handle on the same
/// wallet sends through it, so two handles never pick the same nonce.
fn wallet_lock(wallet: Address) -> Arc<Mutex<()>> {
    static LOCKS: std::sync::LazyLock<
        std::sync::Mutex<std::collections::HashMap<Address, Arc<Mutex<()>>>>,
    > = std::sync::LazyLock::new(Default::default);
    let mut locks = match LOCKS.lock() {
        Ok(l) => l,
        Err(p) => p.into_inner(),
    };
    locks.entry(wallet).or_default().clone()
}

/// Sends a contract call built by `$call` (a `CallBuilder`), waits for the receipt, maps errors.
///
/// Nonces: under the wallet's send lock, the nonce is read from the chain (the wallet's
/// `pending` transaction count) and set on the call, so the provider's nonce cache is never
/// used. A call that fails before it is sent (a reverting gas estimate, a transport error)
/// consumes nothing: the next send reads the same count again. The lock is released once the
/// node has accepted the transaction, so the next send sees it in the pending count.
macro_rules! send {
    ($self:ident, $name:literal, $addr:expr, $call:expr) => {{
        let wallet = $self.require_wallet($name)?;
        let lock = wallet_lock(wallet);
        let _guard = lock.lock().await;
        let nonce = $self.pending_nonce(wallet).await?;
        let pending = $call
            .nonce(nonce)
            .send()
            .await
            .map_err(|e| ChainError::from_contract($name, $addr, e))?;
        drop(_guard);
        let receipt = $crate::handle::receipt($name, pending).await?;
        if !receipt.status() {
            return Err(ChainError::TxFailed {
                call: $name,
                tx: receipt.transaction_hash,
            });
        }
        Ok::<TransactionReceipt, ChainError>(receipt)
    }};
}

/// Makes a view call, mapping errors.
macro_rules! view {
    ($name:literal, $addr:expr, $call:expr) => {
        $call
            .call()
            .await
            .map_err(|e| ChainError::from_contract($name, $addr, e))
    };
}

impl Chain {
    /// Connects to `rpc_url` for `deployment`, with `signer` as the wallet for transactions
    /// (`None` = read-only). Fails with [`ChainError::Unreachable`] naming the URL if the RPC
    /// does not answer, and [`ChainError::WrongChain`] if it serves another chain.
    pub async fn connect(
        rpc_url: &str,
        deployment: Deployment,
        signer: Option<PrivateKeySigner>,
    ) -> Result<Self, ChainError> {
        let sender = signer.as_ref().map(|s| s.address());
        let provider = connect(rpc_url, signer).await?;
        let actual = provider
            .get_chain_id()
            .await
            .map_err(|e| ChainError::Unreachable {
                url: rpc_url.to_owned(),
                reason: e.to_string(),
            })?;
        if actual != deployment.chain_id {
            return Err(ChainError::WrongChain {
                url: rpc_url.to_owned(),
                expected: deployment.chain_id,
                actual,
            });
        }
        Ok(Self::from_provider(provider, deployment, sender, rpc_url))
    }

    /// Wraps an existing provider (e.g. the one [`crate::deploy()`] used). `sender` is the
    /// provider wallet's address, if it has one.
    pub fn from_provider(
        provider: DynProvider,
        deployment: Deployment,
        sender: Option<Address>,
        url: &str,
    ) -> Self {
        Chain {
            provider,
            deployment,
            sender,
            url: url.to_owned(),
        }
    }

    /// The provider.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The deployment.
    pub fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// The RPC URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The wallet's address, if the handle can send transactions.
    pub fn sender(&self) -> Option<Address> {
        self.sender
    }

    fn require_wallet(&self, call: &'static str) -> Result<Address, ChainError> {
        self.sender.ok_or(ChainError::NoWallet { call })
    }

    /// The WAL contract.
    pub fn wal(&self) -> WAL::WALInstance<DynProvider> {
        WAL::new(self.deployment.wal, self.provider.clone())
    }

    /// The staking contract.
    pub fn staking(&self) -> Staking::StakingInstance<DynProvider> {
        Staking::new(self.deployment.staking, self.provider.clone())
    }

    /// The blob registry.
    pub fn registry(&self) -> BlobRegistry::BlobRegistryInstance<DynProvider> {
        BlobRegistry::new(self.deployment.registry, self.provider.clone())
    }

    // ---------------------------------------------------------------- reads

    /// The nonce the next transaction of `account` takes: its `pending` transaction count.
    pub async fn pending_nonce(&self, account: Address) -> Result<u64, ChainError> {
        self.provider
            .get_transaction_count(account)
            .pending()
            .await
            .map_err(|e| ChainError::from_transport("eth_getTransactionCount", e))
    }

    /// The transaction count of `account` in the latest block.
    pub async fn latest_nonce(&self, account: Address) -> Result<u64, ChainError> {
        self.provider
            .get_transaction_count(account)
            .latest()
            .await
            .map_err(|e| ChainError::from_transport("eth_getTransactionCount", e))
    }

    /// The latest block number.
    pub async fn block_number(&self) -> Result<u64, ChainError> {
        self.provider
            .get_block_number()
            .await
            .map_err(|e| ChainError::from_transport("eth_blockNumber", e))
    }

    /// The hash of block `number`, `None` if the chain has no such block (now).
    pub async fn block_hash(&self, number: u64) -> Result<Option<[u8; 32]>, ChainError> {
        let block = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Number(number))
            .await
            .map_err(|e| ChainError::from_transport("eth_getBlockByNumber", e))?;
        Ok(block.map(|b| b.header.hash.0))
    }

    /// The latest block's timestamp (unix seconds).
    pub async fn block_timestamp(&self) -> Result<u64, ChainError> {
        let block = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(|e| ChainError::from_transport("eth_getBlockByNumber", e))?
            .ok_or_else(|| ChainError::BadData("no latest block".into()))?;
        Ok(block.header.timestamp)
    }

    /// The current epoch.
    pub async fn current_epoch(&self) -> Result<u32, ChainError> {
        view!(
            "currentEpoch",
            self.deployment.staking,
            self.staking().currentEpoch()
        )
    }

    /// The current epoch, its start and the epoch duration.
    pub async fn epoch_timing(&self) -> Result<EpochTiming, ChainError> {
        let s = self.staking();
        let a = self.deployment.staking;
        let (epoch, start_time, duration) = tokio::try_join!(
            async { view!("currentEpoch", a, s.currentEpoch()) },
            async { view!("epochStartTime", a, s.epochStartTime()) },
            async { view!("epochDuration", a, s.epochDuration()) },
        )?;
        Ok(EpochTiming {
            epoch,
            start_time,
            duration,
        })
    }

    /// The number of shards `n`.
    pub async fn n_shards(&self) -> Result<u16, ChainError> {
        view!("nShards", self.deployment.staking, self.staking().nShards())
    }

    /// A node's registration.
    pub async fn node_info(&self, node: Address) -> Result<NodeInfo, ChainError> {
        let i = view!(
            "nodeInfo",
            self.deployment.staking,
            self.staking().nodeInfo(node)
        )?;
        Ok(NodeInfo {
            node,
            public_key_eip2537: i.publicKey.to_vec(),
            network_address: i.networkAddress,
            commission_bps: i.commissionBps,
            capacity: i.capacity,
            stake: i.stake,
            registered: i.registered,
        })
    }

    /// The committee of `epoch` (empty for epoch 0), with keys, addresses and shards.
    pub async fn committee(&self, epoch: u32) -> Result<Committee, ChainError> {
        let s = self.staking();
        let a = self.deployment.staking;
        let n_shards = self.n_shards().await?;
        let c = view!("committee", a, s.committee(epoch))?;
        if c.members.is_empty() {
            return Ok(Committee::new(epoch, n_shards, vec![], vec![]));
        }
        let owners = view!("shardOwners", a, s.shardOwners(epoch))?;
        if owners.len() != usize::from(n_shards)
            || owners.iter().any(|&o| usize::from(o) >= c.members.len())
        {
            return Err(ChainError::BadData(format!(
                "shardOwners({epoch}) has {} entries for {n_shards} shards and {} members",
                owners.len(),
                c.members.len()
            )));
        }
        let infos = in_order(c.members.iter().map(|&m| self.node_info(m))).await?;
        let members = infos
            .into_iter()
            .map(|info| {
                let public_key =
                    PublicKey::from_eip2537(&info.public_key_eip2537).map_err(|e| {
                        ChainError::BadData(format!(
                            "node {} has an unusable BLS key: {e}",
                            info.node
                        ))
                    })?;
                Ok(Member {
                    node: info.node,
                    public_key,
                    network_address: info.network_address,
                    shards: vec![],
                })
            })
            .collect::<Result<Vec<_>, ChainError>>()?;
        Ok(Committee::new(epoch, n_shards, members, owners))
    }

    /// Registration `registration_id`; `state == RegistrationState::None` if there is none.
    pub async fn registration(
        &self,
        registration_id: u64,
    ) -> Result<RegistrationRecord, ChainError> {
        let g = view!(
            "registration",
            self.deployment.registry,
            self.registry().registration(U256::from(registration_id))
        )?;
        let state = RegistrationState::from_u8(g.state)?;
        Ok(RegistrationRecord {
            registration_id: if state == RegistrationState::None {
                0
            } else {
                registration_id
            },
            blob_id: BlobId(g.blobId.0),
            owner: g.owner,
            size: g.size,
            encoding_type: g.encodingType,
            deletable: g.deletable,
            state,
            registered_epoch: g.registeredEpoch,
            certified_epoch: g.certifiedEpoch,
            end_epoch: g.endEpoch,
            storage_id: g.storageId,
            root: g.root.0,
            invalid: g.invalid,
            shared: g.shared,
        })
    }

    /// A blob id's status over all its registrations (`first_registration_id == 0` if it was never
    /// registered).
    pub async fn blob_status(&self, blob_id: &BlobId) -> Result<BlobStatusRecord, ChainError> {
        let b = view!(
            "blobStatus",
            self.deployment.registry,
            self.registry().blobStatus(B256::from(blob_id.0))
        )?;
        Ok(BlobStatusRecord {
            blob_id: *blob_id,
            invalid: b.invalid,
            size: b.size,
            encoding_type: b.encodingType,
            root: b.root.0,
            registrations: b.registrations,
            first_registration_id: registration_id_u64(b.firstRegistrationId)?,
            end_epoch: b.endEpoch,
            permanent_end_epoch: b.permanentEndEpoch,
            certified_end_epoch: b.certifiedEndEpoch,
            permanent_certified_end_epoch: b.permanentCertifiedEndEpoch,
        })
    }

    /// The id the next registration will get (ids count from 1).
    pub async fn next_registration_id(&self) -> Result<u64, ChainError> {
        let id = view!(
            "nextRegistrationId",
            self.deployment.registry,
            self.registry().nextRegistrationId()
        )?;
        registration_id_u64(id)
    }

    /// The prices in force.
    pub async fn prices(&self) -> Result<Prices, ChainError> {
        let p = view!("prices", self.deployment.staking, self.staking().prices())?;
        Ok(Prices {
            storage_per_mib_epoch: p.storagePricePerMiBEpoch,
            write_per_mib: p.writePricePerMiB,
        })
    }

    /// The WAL cost of `encoded_size` bytes for `epochs` epochs, plus the write fee.
    pub async fn storage_cost(
        &self,
        encoded_size: u64,
        epochs: u32,
    ) -> Result<StorageCost, ChainError> {
        let c = view!(
            "storageCost",
            self.deployment.registry,
            self.registry().storageCost(encoded_size, epochs)
        )?;
        Ok(StorageCost {
            storage: c.storage_,
            write: c.write,
        })
    }

    /// The encoded size the registry charges for a blob of `size` bytes.
    pub async fn encoded_size(&self, size: u64) -> Result<u64, ChainError> {
        view!(
            "encodedSize",
            self.deployment.registry,
            self.registry().encodedSize(size)
        )
    }

    /// WAL balance of `account`, in FROST.
    pub async fn wal_balance(&self, account: Address) -> Result<U256, ChainError> {
        view!(
            "balanceOf",
            self.deployment.wal,
            self.wal().balanceOf(account)
        )
    }

    /// WAL allowance `owner` gave `spender`.
    pub async fn allowance(&self, owner: Address, spender: Address) -> Result<U256, ChainError> {
        view!(
            "allowance",
            self.deployment.wal,
            self.wal().allowance(owner, spender)
        )
    }

    /// Rewards `account` can claim from `node`.
    pub async fn pending_rewards(
        &self,
        node: Address,
        account: Address,
    ) -> Result<U256, ChainError> {
        view!(
            "pendingRewards",
            self.deployment.staking,
            self.staking().pendingRewards(node, account)
        )
    }

    // ---------------------------------------------------------------- transactions

    /// Mints `amount` FROST from the faucet to the wallet.
    pub async fn faucet(&self, amount: U256) -> Result<TxHash, ChainError> {
        let r = send!(
            self,
            "faucet",
            self.deployment.wal,
            self.wal().faucet(amount)
        )?;
        Ok(r.transaction_hash)
    }

    /// Approves `spender` to spend `amount` of the wallet's WAL.
    pub async fn approve(&self, spender: Address, amount: U256) -> Result<TxHash, ChainError> {
        let r = send!(
            self,
            "approve",
            self.deployment.wal,
            self.wal().approve(spender, amount)
        )?;
        Ok(r.transaction_hash)
    }

    /// Transfers `amount` FROST of the wallet's WAL to `to`.
    pub async fn transfer(&self, to: Address, amount: U256) -> Result<TxHash, ChainError> {
        let r = send!(
            self,
            "transfer",
            self.deployment.wal,
            self.wal().transfer(to, amount)
        )?;
        Ok(r.transaction_hash)
    }

    /// Approves the registry for `amount` if the current allowance is lower; `None` if no
    /// transaction was needed.
    pub async fn ensure_registry_allowance(
        &self,
        amount: U256,
    ) -> Result<Option<TxHash>, ChainError> {
        let me = self.require_wallet("approve")?;
        if self.allowance(me, self.deployment.registry).await? >= amount {
            return Ok(None);
        }
        self.approve(self.deployment.registry, amount)
            .await
            .map(Some)
    }

    /// Registers the wallet as a storage node with BLS key `key`, proving possession of it
    /// (the proof binds this chain, the staking contract and the wallet's address), and pays the
    /// registration bond (approving staking for it first if needed).
    pub async fn register_node(
        &self,
        key: &floe_core::bls::SecretKey,
        network_address: &str,
        commission_bps: u16,
        capacity: u64,
    ) -> Result<TxHash, ChainError> {
        let operator = self.require_wallet("registerNode")?;
        let bond = view!(
            "registrationBond",
            self.deployment.staking,
            self.staking().registrationBond()
        )?;
        if self.allowance(operator, self.deployment.staking).await? < bond {
            self.approve(self.deployment.staking, bond).await?;
        }
        let proof = floe_core::bls::proof_of_possession(
            key,
            self.deployment.chain_id,
            self.deployment.staking.into_array(),
            operator.into_array(),
        );
        let stk = self.staking();
        let call = stk.registerNode(
            Bytes::from(key.public_key().to_eip2537().to_vec()),
            Bytes::from(proof.to_eip2537().to_vec()),
            network_address.to_owned(),
            commission_bps,
            capacity,
        );
        let r = send!(self, "registerNode", self.deployment.staking, call)?;
        Ok(r.transaction_hash)
    }

    /// Changes the wallet's node network address and commission.
    pub async fn update_node(
        &self,
        network_address: &str,
        commission_bps: u16,
    ) -> Result<TxHash, ChainError> {
        let stk = self.staking();
        let call = stk.updateNode(network_address.to_owned(), commission_bps);
        let r = send!(self, "updateNode", self.deployment.staking, call)?;
        Ok(r.transaction_hash)
    }

    /// Deregisters the wallet's node: it leaves the candidates now and the committee at the next
    /// epoch; its bond can be withdrawn from the epoch after.
    pub async fn deregister_node(&self) -> Result<TxHash, ChainError> {
        let r = send!(
            self,
            "deregisterNode",
            self.deployment.staking,
            self.staking().deregisterNode()
        )?;
        Ok(r.transaction_hash)
    }

    /// Withdraws the bond of the wallet's deregistered node.
    pub async fn withdraw_bond(&self) -> Result<TxHash, ChainError> {
        let r = send!(
            self,
            "withdrawBond",
            self.deployment.staking,
            self.staking().withdrawBond()
        )?;
        Ok(r.transaction_hash)
    }

    /// Stakes `amount` FROST to `node`, approving staking first if needed.
    pub async fn stake(&self, node: Address, amount: U256) -> Result<TxHash, ChainError> {
        let me = self.require_wallet("stake")?;
        if self.allowance(me, self.deployment.staking).await? < amount {
            self.approve(self.deployment.staking, amount).await?;
        }
        let r = send!(
            self,
            "stake",
            self.deployment.staking,
            self.staking().stake(node, amount)
        )?;
        Ok(r.transaction_hash)
    }

    /// Advances the epoch (reverts if its time is not up).
    pub async fn advance_epoch(&self) -> Result<TxHash, ChainError> {
        let r = send!(
            self,
            "advanceEpoch",
            self.deployment.staking,
            self.staking().advanceEpoch()
        )?;
        Ok(r.transaction_hash)
    }

    /// Votes prices (committee members only).
    pub async fn vote_prices(
        &self,
        storage_per_mib_epoch: u64,
        write_per_mib: u64,
    ) -> Result<TxHash, ChainError> {
        let stk = self.staking();
        let call = stk.votePrices(storage_per_mib_epoch, write_per_mib);
        let r = send!(self, "votePrices", self.deployment.staking, call)?;
        Ok(r.transaction_hash)
    }

    /// Buys exactly the storage a blob needs for `epochs` epochs and registers it (needs a WAL
    /// allowance for the registry: see [`Chain::ensure_registry_allowance`]).
    pub async fn register_blob_with_new_storage(
        &self,
        root: [u8; 32],
        size: u64,
        encoding_type: u8,
        deletable: bool,
        epochs: u32,
    ) -> Result<Registration, ChainError> {
        let reg = self.registry();
        let call = reg.registerBlobWithNewStorage(
            B256::from(root),
            size,
            encoding_type,
            deletable,
            epochs,
        );
        let r = send!(
            self,
            "registerBlobWithNewStorage",
            self.deployment.registry,
            call
        )?;
        self.registration_from(&r)
    }

    /// Registers a blob against free storage the wallet owns.
    pub async fn register_blob(
        &self,
        storage_id: U256,
        root: [u8; 32],
        size: u64,
        encoding_type: u8,
        deletable: bool,
    ) -> Result<Registration, ChainError> {
        let reg = self.registry();
        let call = reg.registerBlob(storage_id, B256::from(root), size, encoding_type, deletable);
        let r = send!(self, "registerBlob", self.deployment.registry, call)?;
        self.registration_from(&r)
    }

    fn registration_from(&self, r: &TransactionReceipt) -> Result<Registration, ChainError> {
        for log in r.inner.logs() {
            if log.address() != self.deployment.registry {
                continue;
            }
            if let Ok(e) = BlobRegistry::BlobRegistered::decode_log_data(log.data()) {
                return Ok(Registration {
                    tx: r.transaction_hash,
                    registration_id: registration_id_u64(e.registrationId)?,
                    deletable: e.deletable,
                    blob_id: BlobId(e.blobId.0),
                    storage_id: e.storageId,
                    end_epoch: e.endEpoch,
                });
            }
        }
        Err(ChainError::BadData(format!(
            "registration {} emitted no BlobRegistered",
            r.transaction_hash
        )))
    }

    /// Certifies one registration with a certificate over it.
    pub async fn certify_registration(
        &self,
        registration_id: u64,
        cert: &floe_core::bls::Certificate,
    ) -> Result<TxHash, ChainError> {
        let reg = self.registry();
        let call = reg.certifyRegistration(U256::from(registration_id), cert_arg(cert));
        let r = send!(self, "certifyRegistration", self.deployment.registry, call)?;
        Ok(r.transaction_hash)
    }

    /// Certifies several registrations with one certificate over all of them, in this order.
    pub async fn certify_registrations(
        &self,
        registration_ids: &[u64],
        cert: &floe_core::bls::Certificate,
    ) -> Result<TxHash, ChainError> {
        let ids = registration_ids.iter().map(|id| U256::from(*id)).collect();
        let reg = self.registry();
        let call = reg.certifyRegistrations(ids, cert_arg(cert));
        let r = send!(self, "certifyRegistrations", self.deployment.registry, call)?;
        Ok(r.transaction_hash)
    }

    /// Extends a registration by `epochs` (needs a WAL allowance for the registry; a deletable
    /// registration only by its owner).
    pub async fn extend_registration(
        &self,
        registration_id: u64,
        epochs: u32,
    ) -> Result<TxHash, ChainError> {
        let reg = self.registry();
        let call = reg.extendRegistration(U256::from(registration_id), epochs);
        let r = send!(self, "extendRegistration", self.deployment.registry, call)?;
        Ok(r.transaction_hash)
    }

    /// Deletes a deletable registration the wallet owns (other registrations of the blob live on).
    pub async fn delete_registration(&self, registration_id: u64) -> Result<TxHash, ChainError> {
        let reg = self.registry();
        let call = reg.deleteRegistration(U256::from(registration_id));
        let r = send!(self, "deleteRegistration", self.deployment.registry, call)?;
        Ok(r.transaction_hash)
    }

    /// Marks a blob invalid with a certificate of f+1 shards.
    pub async fn invalidate_blob(
        &self,
        blob_id: &BlobId,
        cert: &floe_core::bls::Certificate,
    ) -> Result<TxHash, ChainError> {
        let reg = self.registry();
        let call = reg.invalidateBlob(B256::from(blob_id.0), cert_arg(cert));
        let r = send!(self, "invalidateBlob", self.deployment.registry, call)?;
        Ok(r.transaction_hash)
    }

    /// Moves a registration the wallet owns (not deleted, not shared), with its storage, to `to`.
    pub async fn transfer_registration(
        &self,
        registration_id: u64,
        to: Address,
    ) -> Result<TxHash, ChainError> {
        let reg = self.registry();
        let call = reg.transferRegistration(U256::from(registration_id), to);
        let r = send!(self, "transferRegistration", self.deployment.registry, call)?;
        Ok(r.transaction_hash)
    }

    /// Moves a free storage resource the wallet owns to `to` (a used one moves with its
    /// registration: [`Chain::transfer_registration`]).
    pub async fn transfer_storage(
        &self,
        storage_id: u64,
        to: Address,
    ) -> Result<TxHash, ChainError> {
        let reg = self.registry();
        let call = reg.transferStorage(U256::from(storage_id), to);
        let r = send!(self, "transferStorage", self.deployment.registry, call)?;
        Ok(r.transaction_hash)
    }

    /// Sets attribute `key` (1..64 bytes) of a registration the wallet owns to `value` (at most
    /// 1024 bytes; at most 16 keys per registration).
    pub async fn set_attribute(
        &self,
        registration_id: u64,
        key: &str,
        value: &str,
    ) -> Result<TxHash, ChainError> {
        let reg = self.registry();
        let call = reg.setAttribute(
            U256::from(registration_id),
            key.to_owned(),
            value.to_owned(),
        );
        let r = send!(self, "setAttribute", self.deployment.registry, call)?;
        Ok(r.transaction_hash)
    }

    /// Removes attribute `key` of a registration the wallet owns.
    pub async fn remove_attribute(
        &self,
        registration_id: u64,
        key: &str,
    ) -> Result<TxHash, ChainError> {
        let reg = self.registry();
        let call = reg.removeAttribute(U256::from(registration_id), key.to_owned());
        let r = send!(self, "removeAttribute", self.deployment.registry, call)?;
        Ok(r.transaction_hash)
    }

    /// A registration's attributes as (key, value) pairs, in the registry's order (at most 16).
    pub async fn attributes(
        &self,
        registration_id: u64,
    ) -> Result<Vec<(String, String)>, ChainError> {
        let items = view!(
            "attributes",
            self.deployment.registry,
            self.registry().attributes(U256::from(registration_id))
        )?;
        Ok(items.into_iter().map(|a| (a.key, a.value)).collect())
    }

    /// Makes a permanent registration the wallet owns shared (final).
    pub async fn share_registration(&self, registration_id: u64) -> Result<TxHash, ChainError> {
        let reg = self.registry();
        let call = reg.shareRegistration(U256::from(registration_id));
        let r = send!(self, "shareRegistration", self.deployment.registry, call)?;
        Ok(r.transaction_hash)
    }

    /// Adds `amount` FROST of the wallet's WAL to a shared registration's fund, approving the
    /// registry for it first if needed.
    pub async fn fund_shared(
        &self,
        registration_id: u64,
        amount: U256,
    ) -> Result<TxHash, ChainError> {
        self.ensure_registry_allowance(amount).await?;
        let reg = self.registry();
        let call = reg.fundSharedRegistration(U256::from(registration_id), amount);
        let r = send!(
            self,
            "fundSharedRegistration",
            self.deployment.registry,
            call
        )?;
        Ok(r.transaction_hash)
    }

    /// Extends a shared registration by `epochs`, paid from its fund (anyone may).
    pub async fn extend_shared(
        &self,
        registration_id: u64,
        epochs: u32,
    ) -> Result<TxHash, ChainError> {
        let reg = self.registry();
        let call = reg.extendSharedRegistration(U256::from(registration_id), epochs);
        let r = send!(
            self,
            "extendSharedRegistration",
            self.deployment.registry,
            call
        )?;
        Ok(r.transaction_hash)
    }

    /// FROST in a shared registration's fund (0 if none).
    pub async fn shared_funds(&self, registration_id: u64) -> Result<U256, ChainError> {
        view!(
            "sharedFunds",
            self.deployment.registry,
            self.registry().sharedFunds(U256::from(registration_id))
        )
    }

    /// Ids of the registrations of `blob_id` (those of `owner` only, if given), newest first, at
    /// most `limit`, from the `BlobRegistered` logs (filtered by the indexed blob id and owner).
    /// The logs are read backwards from the latest block to the deployment's in windows of
    /// [`LOG_WINDOW`] blocks, so no single `eth_getLogs` spans more than that. Deleted, expired
    /// and certified registrations are included: check each with [`Chain::registration`].
    pub async fn registration_ids_of(
        &self,
        blob_id: &BlobId,
        owner: Option<Address>,
        limit: usize,
    ) -> Result<Vec<u64>, ChainError> {
        let latest = self.block_number().await?;
        let first = self.deployment.start_block;
        let mut ids = Vec::new();
        let mut to = latest;
        while ids.len() < limit && to >= first {
            let from = to.saturating_sub(LOG_WINDOW - 1).max(first);
            let mut filter = Filter::new()
                .address(self.deployment.registry)
                .event_signature(BlobRegistry::BlobRegistered::SIGNATURE_HASH)
                .topic2(B256::from(blob_id.0))
                .from_block(from)
                .to_block(to);
            if let Some(owner) = owner {
                filter = filter.topic3(owner.into_word());
            }
            let logs = self
                .provider
                .get_logs(&filter)
                .await
                .map_err(|e| ChainError::from_transport("eth_getLogs", e))?;
            for log in logs.iter().rev() {
                let Ok(e) = BlobRegistry::BlobRegistered::decode_log_data(log.data()) else {
                    continue;
                };
                if e.blobId.0 != blob_id.0 || owner.is_some_and(|o| o != e.owner) {
                    continue;
                }
                ids.push(registration_id_u64(e.registrationId)?);
                if ids.len() == limit {
                    break;
                }
            }
            if from == first {
                break;
            }
            to = from - 1;
        }
        Ok(ids)
    }

    /// Ids of the registrations `owner` may hold now, newest first, at most `limit`: those it
    /// registered (`BlobRegistered` logs with `owner` as the indexed registrant) and those
    /// transferred to it (`BlobTransferred` logs, whose recipient is not indexed, so every
    /// transfer log of a window is read and filtered here). Read backwards from the latest block
    /// to the deployment's in windows of [`LOG_WINDOW`] blocks. A registration may since have
    /// moved on, been deleted or expired: check each with [`Chain::registration`].
    pub async fn registration_ids_held_by(
        &self,
        owner: Address,
        limit: usize,
    ) -> Result<Vec<u64>, ChainError> {
        let registered = BlobRegistry::BlobRegistered::SIGNATURE_HASH;
        let transferred = BlobRegistry::BlobTransferred::SIGNATURE_HASH;
        let mut ids: Vec<u64> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        if limit == 0 {
            return Ok(ids);
        }
        for (from, to) in self.log_windows(u64::MAX).await? {
            let filter = Filter::new()
                .address(self.deployment.registry)
                .event_signature(vec![registered, transferred])
                .from_block(from)
                .to_block(to);
            let logs = self.get_logs(&filter).await?;
            for log in logs.iter().rev() {
                let id = match log.topic0() {
                    Some(sig) if *sig == registered => {
                        match BlobRegistry::BlobRegistered::decode_log(&log.inner) {
                            Ok(e) if e.owner == owner => e.registrationId,
                            _ => continue,
                        }
                    }
                    Some(sig) if *sig == transferred => {
                        match BlobRegistry::BlobTransferred::decode_log(&log.inner) {
                            Ok(e) if e.to == owner => e.registrationId,
                            _ => continue,
                        }
                    }
                    _ => continue,
                };
                let id = registration_id_u64(id)?;
                if seen.insert(id) {
                    ids.push(id);
                    if ids.len() == limit {
                        return Ok(ids);
                    }
                }
            }
        }
        Ok(ids)
    }

    /// The transactions that registered, certified and transferred registration
    /// `registration_id`, from the registry's logs with that id as first topic in the last
    /// `max_blocks` blocks (and not before the deployment), read backwards in windows of at most
    /// [`LOG_WINDOW`] blocks; stops at the registering transaction (nothing of a registration
    /// comes before it). At most the newest [`MAX_TRANSFER_TXS`] transfers, oldest first.
    pub async fn registration_txs(
        &self,
        registration_id: u64,
        max_blocks: u64,
    ) -> Result<RegistrationTxs, ChainError> {
        let mut out = RegistrationTxs::default();
        let registered = BlobRegistry::BlobRegistered::SIGNATURE_HASH;
        let certified = BlobRegistry::BlobCertified::SIGNATURE_HASH;
        let transferred = BlobRegistry::BlobTransferred::SIGNATURE_HASH;
        let topic = B256::from(U256::from(registration_id));
        for (from, to) in self.log_windows(max_blocks).await? {
            let filter = Filter::new()
                .address(self.deployment.registry)
                .event_signature(vec![registered, certified, transferred])
                .topic1(topic)
                .from_block(from)
                .to_block(to);
            let logs = self.get_logs(&filter).await?;
            for log in logs.iter().rev() {
                let (Some(sig), Some(tx)) = (log.topic0(), log.transaction_hash) else {
                    continue;
                };
                if log.topics().get(1) != Some(&topic) {
                    continue;
                }
                if *sig == transferred {
                    if out.transfers.len() < MAX_TRANSFER_TXS {
                        out.transfers.push(tx);
                    }
                } else if *sig == certified {
                    out.certified.get_or_insert(tx);
                } else if *sig == registered {
                    out.registered = Some(tx);
                }
            }
            if out.registered.is_some() {
                break;
            }
        }
        out.transfers.reverse();
        Ok(out)
    }

    /// The newest `limit` registrations, newest first, from the `BlobRegistered` logs of the
    /// last `max_blocks` blocks (and not before the deployment), read backwards in windows of at
    /// most [`LOG_WINDOW`] blocks.
    pub async fn recent_registrations(
        &self,
        limit: usize,
        max_blocks: u64,
    ) -> Result<Vec<RecentRegistration>, ChainError> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        for (from, to) in self.log_windows(max_blocks).await? {
            let filter = Filter::new()
                .address(self.deployment.registry)
                .event_signature(BlobRegistry::BlobRegistered::SIGNATURE_HASH)
                .from_block(from)
                .to_block(to);
            let logs = self.get_logs(&filter).await?;
            for log in logs.iter().rev() {
                let (Some(block_number), Some(tx_hash)) = (log.block_number, log.transaction_hash)
                else {
                    continue;
                };
                let Ok(e) = BlobRegistry::BlobRegistered::decode_log(&log.inner) else {
                    continue;
                };
                out.push(RecentRegistration {
                    registration_id: registration_id_u64(e.registrationId)?,
                    blob_id: BlobId(e.blobId.0),
                    owner: e.owner,
                    size: e.size,
                    deletable: e.deletable,
                    epoch: e.epoch,
                    block_number,
                    tx_hash,
                });
                if out.len() == limit {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }

    /// The block ranges of the last `max_blocks` blocks down to the deployment's start block,
    /// newest first, each at most [`LOG_WINDOW`] blocks.
    async fn log_windows(&self, max_blocks: u64) -> Result<Vec<(u64, u64)>, ChainError> {
        let latest = self.block_number().await?;
        let first = latest
            .saturating_sub(max_blocks.saturating_sub(1))
            .max(self.deployment.start_block);
        let mut windows = Vec::new();
        if max_blocks == 0 || latest < first {
            return Ok(windows);
        }
        let mut to = latest;
        loop {
            let from = to.saturating_sub(LOG_WINDOW - 1).max(first);
            windows.push((from, to));
            if from == first {
                return Ok(windows);
            }
            to = from - 1;
        }
    }

    async fn get_logs(&self, filter: &Filter) -> Result<Vec<alloy::rpc::types::Log>, ChainError> {
        self.provider
            .get_logs(filter)
            .await
            .map_err(|e| ChainError::from_transport("eth_getLogs", e))
    }

    // ---------------------------------------------------------------- events

    /// The floe events (staking and registry) in blocks `from..=to`, in chain order.
    pub async fn events(&self, from: u64, to: u64) -> Result<Vec<EventRecord>, ChainError> {
        let filter = Filter::new()
            .address(vec![self.deployment.staking, self.deployment.registry])
            .from_block(from)
            .to_block(to);
        let logs = self
            .provider
            .get_logs(&filter)
            .await
            .map_err(|e| ChainError::from_transport("eth_getLogs", e))?;
        let mut out = Vec::with_capacity(logs.len());
        for log in &logs {
            if let Some(event) =
                FloeEvent::decode(log, self.deployment.staking, self.deployment.registry)
            {
                out.push(EventRecord {
                    event,
                    block: log.block_number.unwrap_or(from),
                    tx: log.transaction_hash,
                    log_index: log.log_index.unwrap_or(0),
                });
            }
        }
        Ok(out)
    }
}

fn cert_arg(cert: &floe_core::bls::Certificate) -> IBlobRegistry::Certificate {
    IBlobRegistry::Certificate {
        epoch: cert.epoch,
        signers: Bytes::from(cert.signers.clone()),
        signature: Bytes::from(cert.signature.to_eip2537().to_vec()),
    }
}

/// Awaits `futs` one after the other (committees are small and the RPC is local), keeping order.
async fn in_order<T, F>(futs: impl Iterator<Item = F>) -> Result<Vec<T>, ChainError>
where
    F: std::future::Future<Output = Result<T, ChainError>>,
{
    let mut out = Vec::new();
    for f in futs {
        out.push(f.await?);
    }
    Ok(out)
}
