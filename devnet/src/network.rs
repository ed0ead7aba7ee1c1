//! A whole local floe network as a library: anvil, the contracts, and storage nodes each in its
//! own `floe-node` process. `floe devnet` runs one until Ctrl-C; the end-to-end tests start
//! one per test and stop and restart its nodes.
//!
//! Start-up: find anvil (the repo's `node_modules/.bin`, else `PATH`) and start it on a free
//! port → deploy the contracts (devnet WAL with a faucet, a registration bond of 1 WAL) → for
//! each node: BLS key, operator account (one of anvil's dev accounts), faucet, register with a
//! proof of possession paying the bond, stake; write its config and start
//! it → advance to epoch 1 (the first committee) → wait until every node serves → write the
//! client config. Dropping the [`Devnet`] kills every process it started (and removes its
//! directory if it made a temporary one).

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use alloy::{
    primitives::{Address, U256},
    signers::local::PrivateKeySigner,
};
use floe_chain::{Chain, DeployParams, Deployment, WalSupply};
use floe_core::bls::SecretKey;

use floe_client::{
    Client, ClientConfig, ClientError,
    config::Timeouts,
    node_api::{NodeClient, http_client},
    units::FROST_PER_WAL,
};

use crate::{
    config_files::{NodeConfigFile, NodeOptions, write_toml},
    error::{DevnetError, io},
    process::{ManagedChild, find_anvil, find_floe_node, free_port},
};

/// Options of [`Devnet::start`].
#[derive(Debug, Clone)]
pub struct DevnetOptions {
    /// Storage nodes.
    pub nodes: usize,
    /// Shards `n`.
    pub shards: u16,
    /// Epoch duration in seconds.
    pub epoch_secs: u64,
    /// Working directory (wiped node data at start); `None` = a fresh temporary directory,
    /// removed on drop.
    pub dir: Option<PathBuf>,
    /// The anvil executable; `None` = [`find_anvil`].
    pub anvil: Option<PathBuf>,
    /// The floe-node executable; `None` = [`find_floe_node`].
    pub floe_node: Option<PathBuf>,
    /// WAL each node operator stakes, in FROST.
    pub stake: U256,
    /// The bond each node pays to register (returned after it deregisters), in FROST.
    pub registration_bond: U256,
    /// WAL the client wallet takes from the faucet, in FROST.
    pub client_funds: U256,
    /// Client timeouts written to the client config.
    pub timeouts: Timeouts,
    /// `RUST_LOG` for the node processes.
    pub node_log_filter: String,
    /// How long start-up waits for each step.
    pub startup_timeout: Duration,
    /// Nodes' `certify_grace_secs`: how long a fully uploaded blob may stay uncertified before
    /// a node certifies it itself; `None` = the node's default.
    pub node_certify_grace_secs: Option<u64>,
    /// Nodes' `poll_interval_ms` (chain event polling).
    pub node_poll_interval_ms: u64,
    /// anvil's port on 127.0.0.1; `None` = a free port (what tests use).
    pub chain_port: Option<u16>,
}

impl Default for DevnetOptions {
    fn default() -> Self {
        Self {
            nodes: 4,
            shards: 100,
            epoch_secs: 3600,
            dir: None,
            anvil: None,
            floe_node: None,
            stake: U256::from(1_000u64) * U256::from(FROST_PER_WAL),
            registration_bond: U256::from(FROST_PER_WAL),
            client_funds: U256::from(100_000u64) * U256::from(FROST_PER_WAL),
            timeouts: Timeouts::default(),
            node_log_filter: "info".into(),
            startup_timeout: Duration::from_secs(60),
            node_certify_grace_secs: None,
            node_poll_interval_ms: 200,
            chain_port: None,
        }
    }
}

/// One storage node of a devnet.
#[derive(Debug)]
pub struct DevnetNode {
    /// Its operator account (node id).
    pub operator: Address,
    /// Its operator's private key (hex).
    pub operator_key: String,
    /// Its BLS key.
    pub bls_key: SecretKey,
    /// Its HTTP port on 127.0.0.1.
    pub port: u16,
    /// Its directory (config, keys, storage, log).
    pub dir: PathBuf,
    /// Its config file.
    pub config: PathBuf,
    process: Option<ManagedChild>,
    reported_exit: bool,
}

/// A running local network. Dropping it stops everything.
#[derive(Debug)]
pub struct Devnet {
    dir: PathBuf,
    remove_dir: bool,
    rpc_url: String,
    epoch_secs: u64,
    floe_node: PathBuf,
    node_log_filter: String,
    startup_timeout: Duration,
    chain_port: Option<u16>,
    node_options: NodeOptions,
    deployment: Deployment,
    accounts: Vec<String>,
    client_config: ClientConfig,
    nodes: Vec<DevnetNode>,
    // Declared last: dropped after the nodes.
    anvil: Option<ManagedChild>,
}

/// anvil dev accounts at least: deployer/client, operators, spare ones for tests, and the
/// publisher (the last).
const MIN_ACCOUNTS: usize = 12;

/// The deployment before [`Devnet::deploy`] ran.
const UNDEPLOYED: Deployment = Deployment {
    wal: Address::ZERO,
    staking: Address::ZERO,
    registry: Address::ZERO,
    chain_id: 0,
    start_block: 0,
};

/// A directory name unique to this process and moment.
fn unique_temp_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    std::env::temp_dir().join(format!("floe-devnet-{}-{nanos}", std::process::id()))
}

/// The private keys anvil prints at start ("Private Keys" then "(i) 0x…").
fn parse_anvil_keys(log: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut in_keys = false;
    for line in log.lines() {
        let line = line.trim();
        if line.starts_with("Private Keys") {
            in_keys = true;
            continue;
        }
        if in_keys {
            if let Some(rest) = line.strip_prefix('(') {
                if let Some((_, key)) = rest.split_once(") ") {
                    keys.push(key.trim().to_owned());
                }
            } else if !line.is_empty() && !line.starts_with('=') {
                break;
            }
        }
    }
    keys
}

/// Polls `cond` every 50 ms until it yields `Some`, or fails with a timeout.
async fn wait_for<T, F, Fut>(
    what: &str,
    timeout: Duration,
    dir: &Path,
    mut cond: F,
) -> Result<T, DevnetError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>, DevnetError>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = cond().await? {
            return Ok(v);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(DevnetError::Timeout {
                what: what.to_owned(),
                secs: timeout.as_secs(),
                dir: dir.to_path_buf(),
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Devnet {
    /// Starts a devnet: see the module doc.
    pub async fn start(opts: DevnetOptions) -> Result<Self, DevnetError> {
        if opts.nodes == 0 {
            return Err(DevnetError::BadOption("--nodes must be at least 1".into()));
        }
        if opts.shards < 4 {
            return Err(DevnetError::BadOption("--shards must be at least 4".into()));
        }
        if opts.registration_bond.is_zero() {
            return Err(DevnetError::BadOption(
                "the registration bond must be at least 1 FROST (the staking contract refuses 0)"
                    .into(),
            ));
        }
        let anvil_bin = opts
            .anvil
            .clone()
            .or_else(find_anvil)
            .ok_or(DevnetError::AnvilNotFound)?;
        let floe_node = opts
            .floe_node
            .clone()
            .or_else(find_floe_node)
            .ok_or_else(|| DevnetError::FloeNodeNotFound {
                exe: std::env::current_exe()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default(),
            })?;
        let (dir, remove_dir) = match &opts.dir {
            Some(d) => (d.clone(), false),
            None => (unique_temp_dir(), true),
        };
        std::fs::create_dir_all(&dir).map_err(io(format!("cannot create {}", dir.display())))?;
        // Old node data belongs to an old chain: start clean.
        let nodes_dir = dir.join("nodes");
        if nodes_dir.exists() {
            std::fs::remove_dir_all(&nodes_dir)
                .map_err(io(format!("cannot clear {}", nodes_dir.display())))?;
        }
        let mut devnet = Devnet {
            dir: dir.clone(),
            remove_dir,
            rpc_url: String::new(),
            epoch_secs: opts.epoch_secs,
            floe_node,
            node_log_filter: opts.node_log_filter.clone(),
            startup_timeout: opts.startup_timeout,
            chain_port: opts.chain_port,
            node_options: NodeOptions {
                poll_interval_ms: opts.node_poll_interval_ms,
                certify_grace_secs: opts.node_certify_grace_secs,
            },
            deployment: UNDEPLOYED,
            accounts: Vec::new(),
            client_config: ClientConfig {
                rpc_url: String::new(),
                wallet_key: String::new(),
                deployment: UNDEPLOYED,
                timeouts: opts.timeouts.clone(),
            },
            nodes: Vec::new(),
            anvil: None,
        };
        devnet.start_anvil(&anvil_bin, opts.nodes + 3).await?;
        devnet.deploy(&opts).await?;
        devnet.setup_nodes(&opts).await?;
        for i in 0..devnet.nodes.len() {
            devnet.spawn_node(i)?;
        }
        for i in 0..devnet.nodes.len() {
            devnet.wait_node_healthy(i).await?;
        }
        // The first committee: the staked nodes. Epoch 0 may be advanced at any time, so a node
        // may have done it already.
        let chain = devnet.chain_with(&devnet.accounts[0]).await?;
        if let Err(e) = chain.advance_epoch().await
            && chain.current_epoch().await? == 0
        {
            return Err(e.into());
        }
        devnet.wait_nodes_in_epoch(1).await?;
        write_toml(
            &dir.join("client.toml"),
            &devnet.client_config,
            "client config",
        )?;
        devnet
            .deployment
            .save(&dir.join("deployment.json"))
            .map_err(DevnetError::Chain)?;
        Ok(devnet)
    }

    /// Starts anvil on a free port (retrying with another port if the chosen one was taken in
    /// the meantime), waits until it listens, and reads its dev keys from its log.
    async fn start_anvil(&mut self, anvil_bin: &Path, accounts: usize) -> Result<(), DevnetError> {
        let log = self.dir.join("anvil.log");
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_start_anvil(anvil_bin, accounts, &log).await {
                Err(DevnetError::Exited { .. }) if attempt < 3 && self.chain_port.is_none() => {
                    tracing::warn!(
                        attempt,
                        "anvil exited at start (port taken?); retrying on another port"
                    );
                }
                other => break other?,
            }
        }
        let text = std::fs::read_to_string(&log).map_err(io("cannot read the anvil log"))?;
        self.accounts = parse_anvil_keys(&text);
        if self.accounts.len() < accounts {
            return Err(DevnetError::BadOption(format!(
                "anvil printed {} dev keys, {accounts} are needed (see {})",
                self.accounts.len(),
                log.display()
            )));
        }
        Ok(())
    }

    async fn try_start_anvil(
        &mut self,
        anvil_bin: &Path,
        accounts: usize,
        log: &Path,
    ) -> Result<(), DevnetError> {
        let port = match self.chain_port {
            Some(port) => {
                // A fixed port: say plainly when something already listens there.
                std::net::TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
                    DevnetError::BadOption(format!(
                        "port {port} on 127.0.0.1 is not free ({e}): stop the other chain, or pass \
                         --port 0 for a free port"
                    ))
                })?;
                port
            }
            None => free_port().map_err(io("cannot find a free port"))?,
        };
        let _ = std::fs::remove_file(log);
        let mut cmd = Command::new(anvil_bin);
        cmd.args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--accounts", &accounts.max(MIN_ACCOUNTS).to_string()])
            .args(["--hardfork", "prague"])
            .env("NO_COLOR", "1");
        let child = ManagedChild::spawn("anvil", cmd, log)
            .map_err(io(format!("cannot start {}", anvil_bin.display())))?;
        self.anvil = Some(child);
        self.rpc_url = format!("http://127.0.0.1:{port}");
        let listening = format!("Listening on 127.0.0.1:{port}");
        let (dir, timeout) = (self.dir.clone(), self.startup_timeout);
        let anvil = &mut self.anvil;
        // Our own anvil's log says it listens: never mistake another process on the port for it.
        wait_for("anvil to listen", timeout, &dir, || {
            let state = anvil.as_mut().map(|a| {
                let exited = a
                    .try_exited()
                    .map(|s| (s, a.log().to_path_buf(), a.log_tail(20)));
                let ready = std::fs::read_to_string(a.log()).is_ok_and(|t| t.contains(&listening));
                (exited, ready)
            });
            async move {
                match state {
                    Some((Some((status, log, tail)), _)) => Err(DevnetError::Exited {
                        name: "anvil".into(),
                        status: status.to_string(),
                        log,
                        tail,
                    }),
                    Some((None, ready)) => Ok(ready.then_some(())),
                    None => Ok(None),
                }
            }
        })
        .await
    }

    async fn chain_with(&self, key: &str) -> Result<Chain, DevnetError> {
        let signer = floe_chain::signer_from_hex(key)?;
        Ok(Chain::connect(&self.rpc_url, self.deployment, Some(signer)).await?)
    }

    async fn deploy(&mut self, opts: &DevnetOptions) -> Result<(), DevnetError> {
        // A devnet WAL (faucet, capped per account) and the default price ranges.
        let params = DeployParams {
            wal_supply: WalSupply::Faucet {
                cap_per_account: U256::from(1_000_000u64) * U256::from(FROST_PER_WAL),
            },
            n_shards: opts.shards,
            epoch_duration_secs: opts.epoch_secs,
            registration_bond: opts.registration_bond,
            ..DeployParams::default()
        };
        let deployer = floe_chain::signer_from_hex(&self.accounts[0])?;
        let provider = floe_chain::connect(&self.rpc_url, Some(deployer)).await?;
        self.deployment = floe_chain::deploy(&provider, &params).await?;
        self.client_config = ClientConfig {
            rpc_url: self.rpc_url.clone(),
            wallet_key: self.accounts[0].clone(),
            deployment: self.deployment,
            timeouts: opts.timeouts.clone(),
        };
        // The client wallet's WAL, and the publisher's.
        let chain = self.chain_with(&self.accounts[0]).await?;
        chain.faucet(opts.client_funds).await?;
        let publisher = self.publisher_config();
        self.chain_with(&publisher.wallet_key)
            .await?
            .faucet(opts.client_funds)
            .await?;
        Ok(())
    }

    async fn setup_nodes(&mut self, opts: &DevnetOptions) -> Result<(), DevnetError> {
        for i in 0..opts.nodes {
            let operator_key = self.accounts[i + 1].clone();
            let signer: PrivateKeySigner = operator_key
                .parse()
                .map_err(|e| DevnetError::BadOption(format!("anvil key {i} unusable: {e}")))?;
            let operator = signer.address();
            let seed: [u8; 32] = rand::random();
            let bls_key = SecretKey::from_seed(&seed);
            let port = free_port().map_err(io("cannot find a free port"))?;
            let dir = self.dir.join("nodes").join(format!("node{i}"));
            std::fs::create_dir_all(&dir)
                .map_err(io(format!("cannot create {}", dir.display())))?;
            let chain = self.chain_with(&operator_key).await?;
            // The stake and the registration bond, from the devnet's faucet.
            chain.faucet(opts.stake + opts.registration_bond).await?;
            // Approves the staking contract for the bond and pays it.
            chain
                .register_node(&bls_key, &format!("127.0.0.1:{port}"), 1_000, 1 << 40)
                .await?;
            // Approves the staking contract first.
            chain.stake(operator, opts.stake).await?;
            let config = dir.join("floe-node.toml");
            let node = DevnetNode {
                operator,
                operator_key,
                bls_key,
                port,
                dir,
                config,
                process: None,
                reported_exit: false,
            };
            self.write_node_config(&node)?;
            self.nodes.push(node);
        }
        Ok(())
    }

    fn write_node_config(&self, node: &DevnetNode) -> Result<(), DevnetError> {
        let file = NodeConfigFile::new(
            &node.dir,
            node.port,
            &self.rpc_url,
            self.deployment,
            &self.node_options,
        );
        std::fs::write(&file.bls_key_file, node.bls_key.to_hex())
            .map_err(io("cannot write a BLS key"))?;
        std::fs::write(&file.operator_key_file, &node.operator_key)
            .map_err(io("cannot write an operator key"))?;
        write_toml(&node.config, &file, "node config")
    }

    fn spawn_node(&mut self, i: usize) -> Result<(), DevnetError> {
        let node = &mut self.nodes[i];
        let mut cmd = Command::new(&self.floe_node);
        cmd.arg("--config")
            .arg(&node.config)
            .env("RUST_LOG", &self.node_log_filter)
            .env("NO_COLOR", "1");
        let log = node.dir.join("node.log");
        let child = ManagedChild::spawn(&format!("node {i}"), cmd, &log)
            .map_err(io(format!("cannot start {}", self.floe_node.display())))?;
        node.process = Some(child);
        node.reported_exit = false;
        Ok(())
    }

    async fn wait_node_healthy(&mut self, i: usize) -> Result<(), DevnetError> {
        let http = http_client(Duration::from_secs(1), Duration::from_secs(2))?;
        let client = NodeClient::new(http, &self.node_address(i));
        let (dir, timeout) = (self.dir.clone(), self.startup_timeout);
        let node = &mut self.nodes[i];
        wait_for(
            &format!("node {i} to serve /v1/health"),
            timeout,
            &dir,
            || {
                let exited = node.process.as_mut().and_then(|p| {
                    p.try_exited()
                        .map(|s| (s, p.log().to_path_buf(), p.log_tail(20)))
                });
                let client = client.clone();
                async move {
                    if let Some((status, log, tail)) = exited {
                        return Err(DevnetError::Exited {
                            name: format!("node {i}"),
                            status: status.to_string(),
                            log,
                            tail,
                        });
                    }
                    Ok(client.health().await.ok().map(|_| ()))
                }
            },
        )
        .await
    }

    /// Waits until every running node reports `epoch` (or later) on `/v1/health`.
    pub async fn wait_nodes_in_epoch(&self, epoch: u32) -> Result<(), DevnetError> {
        let http = http_client(Duration::from_secs(1), Duration::from_secs(2))?;
        for (i, node) in self.nodes.iter().enumerate() {
            if node.process.is_none() {
                continue;
            }
            let client = NodeClient::new(http.clone(), &self.node_address(i));
            wait_for(
                &format!("node {i} to reach epoch {epoch}"),
                self.startup_timeout,
                &self.dir,
                || {
                    let client = client.clone();
                    async move {
                        let seen = client.health().await.ok().map(|h| h.epoch);
                        Ok(seen.filter(|e| *e >= epoch).map(|_| ()))
                    }
                },
            )
            .await?;
        }
        Ok(())
    }

    /// The chain's JSON-RPC URL.
    pub fn rpc_url(&self) -> &str {
        &self.rpc_url
    }

    /// The devnet's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The deployed contracts.
    pub fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// The config of the devnet's client wallet (also written to `dir/client.toml`).
    pub fn client_config(&self) -> &ClientConfig {
        &self.client_config
    }

    /// The config of the devnet's publisher wallet (a gateway's): the last anvil dev account,
    /// funded like the client wallet at start, so a gateway and the CLI never share a nonce.
    pub fn publisher_config(&self) -> ClientConfig {
        let key = self.accounts.last().cloned().unwrap_or_default();
        ClientConfig {
            wallet_key: key,
            ..self.client_config.clone()
        }
    }

    /// A client with the devnet's publisher wallet (see [`Devnet::publisher_config`]).
    pub async fn publisher_client(&self) -> Result<Client, ClientError> {
        Client::new(self.publisher_config()).await
    }

    /// A client with the devnet's client wallet.
    pub async fn client(&self) -> Result<Client, ClientError> {
        Client::new(self.client_config.clone()).await
    }

    /// The private key (hex) of anvil dev account `account`: 0 is the deployer and client
    /// wallet, 1..=nodes the node operators, the last one the publisher
    /// ([`Devnet::publisher_config`]), the rest (at least one) unused by the devnet.
    pub fn account_key(&self, account: usize) -> Option<&str> {
        self.accounts.get(account).map(String::as_str)
    }

    /// The chain with the devnet's client wallet.
    pub async fn chain(&self) -> Result<Chain, DevnetError> {
        self.chain_with(&self.accounts[0]).await
    }

    /// The number of nodes.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Node `i`.
    pub fn node(&self, i: usize) -> &DevnetNode {
        &self.nodes[i]
    }

    /// Node `i`'s HTTP address (`127.0.0.1:port`).
    pub fn node_address(&self, i: usize) -> String {
        format!("127.0.0.1:{}", self.nodes[i].port)
    }

    /// Node `i`'s log file.
    pub fn node_log(&self, i: usize) -> PathBuf {
        self.nodes[i].dir.join("node.log")
    }

    /// Whether node `i` runs.
    pub fn is_node_running(&self, i: usize) -> bool {
        self.nodes[i].process.is_some()
    }

    /// Stops node `i` (SIGTERM, then SIGKILL after 5 s). Its data stays.
    pub fn stop_node(&mut self, i: usize) {
        if let Some(mut p) = self.nodes[i].process.take() {
            p.stop(Duration::from_secs(5));
        }
    }

    /// Kills node `i` at once (SIGKILL), like a crash. Its data stays.
    pub fn kill_node(&mut self, i: usize) {
        if let Some(mut p) = self.nodes[i].process.take() {
            p.kill();
        }
    }

    /// (Re)starts node `i` with its data and waits until it serves.
    pub async fn start_node(&mut self, i: usize) -> Result<(), DevnetError> {
        if self.nodes[i].process.is_none() {
            self.spawn_node(i)?;
        }
        self.wait_node_healthy(i).await
    }

    /// Moves the chain's clock past the current epoch's end (`evm_increaseTime`) and advances
    /// the epoch (tolerating a node having done it first); waits until the running nodes see it.
    pub async fn advance_epoch(&self) -> Result<u32, DevnetError> {
        let chain = self.chain().await?;
        let before = chain.current_epoch().await?;
        increase_time(&chain, self.epoch_secs + 1).await?;
        if let Err(e) = chain.advance_epoch().await {
            // A node may have advanced first; only an unchanged epoch is a failure.
            if chain.current_epoch().await? == before {
                return Err(e.into());
            }
        }
        let now = chain.current_epoch().await?;
        self.wait_nodes_in_epoch(now).await?;
        Ok(now)
    }

    /// A process that exited since the last call, as a message (for `floe devnet`).
    pub fn check_processes(&mut self) -> Option<String> {
        if let Some(a) = self.anvil.as_mut()
            && let Some(status) = a.try_exited()
        {
            let log = a.log().to_path_buf();
            self.anvil = None;
            return Some(format!("anvil exited ({status}); see {}", log.display()));
        }
        for (i, node) in self.nodes.iter_mut().enumerate() {
            if node.reported_exit {
                continue;
            }
            if let Some(p) = node.process.as_mut()
                && let Some(status) = p.try_exited()
            {
                node.reported_exit = true;
                return Some(format!(
                    "node {i} exited ({status}); see {}",
                    p.log().display()
                ));
            }
        }
        None
    }

    /// Stops every process (nodes first, then anvil).
    pub fn shutdown(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut p) = node.process.take() {
                p.stop(Duration::from_secs(5));
            }
        }
        if let Some(mut a) = self.anvil.take() {
            a.stop(Duration::from_secs(3));
        }
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        self.shutdown();
        if self.remove_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// Moves anvil's clock forward by `secs` (`evm_increaseTime`, then a block to apply it).
pub async fn increase_time(chain: &Chain, secs: u64) -> Result<(), DevnetError> {
    use alloy::providers::Provider;
    let rpc = |call: &'static str| {
        move |e: alloy::transports::TransportError| floe_chain::ChainError::Rpc {
            call,
            reason: e.to_string(),
        }
    };
    let provider = chain.provider();
    let _: serde_json::Value = provider
        .raw_request("evm_increaseTime".into(), (secs,))
        .await
        .map_err(rpc("evm_increaseTime"))?;
    let _: serde_json::Value = provider
        .raw_request("evm_mine".into(), ())
        .await
        .map_err(rpc("evm_mine"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_zero_registration_bond_is_refused_before_anything_starts() {
        let dir = unique_temp_dir();
        let err = Devnet::start(DevnetOptions {
            registration_bond: U256::ZERO,
            dir: Some(dir.clone()),
            ..DevnetOptions::default()
        })
        .await
        .expect_err("a zero bond");
        assert_eq!(
            err.to_string(),
            DevnetError::BadOption(
                "the registration bond must be at least 1 FROST (the staking contract refuses 0)"
                    .into()
            )
            .to_string()
        );
        assert!(!dir.exists(), "the devnet created its directory");
    }

    #[test]
    fn parses_the_keys_anvil_prints() {
        let log = "Available Accounts\n==================\n\n(0) 0xf39F (10000.000000000000000000 ETH)\n\n\
                   Private Keys\n==================\n\n(0) 0xac09\n(1) 0x59c6\n\nWallet\n==================\n";
        assert_eq!(
            parse_anvil_keys(log),
            vec!["0xac09".to_owned(), "0x59c6".to_owned()]
        );
    }
}
