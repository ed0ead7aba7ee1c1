//! Two in-process nodes against a real anvil: a writer uploads only to the node holding a
//! quorum of shards; the skipped node recovers its slivers from its peer; a blob left
//! uncertified is certified by a node; a restarted node resumes from its cursor with its data;
//! a deleted blob's data is garbage-collected at the epoch change. Needs `npm install`.
#![allow(clippy::unwrap_used)]

use std::{future::Future, path::PathBuf, time::Duration};

use floe_chain::testing::{anvil, signer};
use floe_chain::{
    Chain, DeployParams, Deployment, FROST_PER_WAL, RegistrationState,
    alloy::{
        node_bindings::AnvilInstance,
        primitives::{Address, U256},
        providers::Provider,
    },
};
use floe_core::{
    bls::{CertificateBuilder, SecretKey, Signature},
    encoding::{EncodedBlob, EncodingConfig},
    messages::{CertifyEntry, certify_message},
    wire::Wire,
};
use floe_node::{BlobStatus, Confirmation, NodeConfig};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

const N: u16 = 10;

/// Polls `cond` every 100 ms until it returns true, failing after `secs` seconds.
async fn wait_for<F, Fut>(what: &str, secs: u64, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !cond().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct TestNode {
    config: NodeConfig,
    addr: String,
    operator: Address,
    key: SecretKey,
    running: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl TestNode {
    async fn start(&mut self) {
        let listener = TcpListener::bind(&self.addr).await.unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let config = self.config.clone();
        let handle = tokio::spawn(async move {
            floe_node::run(config, listener, async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        self.running = Some((tx, handle));
        let http = reqwest::Client::new();
        let url = format!("http://{}/v1/health", self.addr);
        wait_for("node health", 30, || {
            let http = http.clone();
            let url = url.clone();
            async move {
                http.get(&url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        })
        .await;
    }

    async fn stop(&mut self) {
        if let Some((tx, handle)) = self.running.take() {
            let _ = tx.send(());
            handle.await.unwrap();
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

struct Net {
    _anvil: AnvilInstance,
    _dir: TempDir,
    deployment: Deployment,
    client: Chain,
    /// A second blob owner.
    other: Chain,
    nodes: Vec<TestNode>,
    http: reqwest::Client,
    cfg: EncodingConfig,
}

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn network(name: &str) -> Net {
    network_with(name, 1).await
}

/// A network whose nodes certify abandoned registrations after `grace_secs`.
async fn network_with(name: &str, grace_secs: u64) -> Net {
    network_opts(name, grace_secs, 0).await
}

/// ... and follow the chain `confirmation_depth` blocks behind its head.
async fn network_opts(name: &str, grace_secs: u64, confirmation_depth: u64) -> Net {
    let anvil = anvil();
    let dir = std::env::temp_dir().join(format!("floe-node-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let deployer = signer(&anvil, 0);
    let provider = floe_chain::connect(&anvil.endpoint(), Some(deployer.clone()))
        .await
        .unwrap();
    let params = DeployParams {
        n_shards: N,
        epoch_duration_secs: 3600,
        ..DeployParams::default()
    };
    let deployment = floe_chain::deploy(&provider, &params).await.unwrap();
    let client = Chain::connect(&anvil.endpoint(), deployment, Some(deployer))
        .await
        .unwrap();
    let other = Chain::connect(&anvil.endpoint(), deployment, Some(signer(&anvil, 3)))
        .await
        .unwrap();
    let mut nodes = Vec::new();
    for i in 1..=2usize {
        let s = signer(&anvil, i);
        let operator = s.address();
        let chain = Chain::connect(&anvil.endpoint(), deployment, Some(s))
            .await
            .unwrap();
        let key = SecretKey::from_seed(&[i as u8; 32]);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        // Stakes 10 and 20 WAL: node 2 gets 7 of 10 shards, a quorum on its own. The faucet
        // also pays the registration bond.
        let stake = U256::from(10 * i as u64) * U256::from(FROST_PER_WAL);
        chain
            .faucet(stake + params.registration_bond)
            .await
            .unwrap();
        chain
            .register_node(&key, &addr, 500, 1 << 40)
            .await
            .unwrap();
        chain.stake(operator, stake).await.unwrap();
        let ndir = dir.join(format!("node{i}"));
        std::fs::create_dir_all(&ndir).unwrap();
        std::fs::write(ndir.join("bls.key"), key.to_hex()).unwrap();
        std::fs::write(
            ndir.join("operator.key"),
            alloy_hex(&anvil.keys()[i].to_bytes()),
        )
        .unwrap();
        let mut config = NodeConfig::parse(include_str!("../floe-node.example.toml")).unwrap();
        config.bls_key_file = ndir.join("bls.key");
        config.operator_key_file = ndir.join("operator.key");
        config.rpc_url = anvil.endpoint();
        config.listen_address = addr.parse().unwrap();
        config.public_address = addr.clone();
        config.storage_dir = ndir.join("db");
        config.poll_interval_ms = 100;
        config.certify_grace_secs = grace_secs;
        config.confirmation_depth = confirmation_depth;
        // Node 1 advances epochs when their time is up; node 2 leaves it to others.
        config.advance_epochs = i == 1;
        config.deployment = deployment;
        nodes.push(TestNode {
            config,
            addr,
            operator,
            key,
            running: None,
        });
    }
    client.advance_epoch().await.unwrap();
    for n in &mut nodes {
        n.start().await;
    }
    Net {
        _anvil: anvil,
        _dir: TempDir(dir),
        deployment,
        client,
        other,
        nodes,
        http: reqwest::Client::new(),
        cfg: EncodingConfig::new(N).unwrap(),
    }
}

fn alloy_hex(b: &[u8]) -> String {
    format!("0x{}", hex::encode(b))
}

impl Net {
    /// Indices in `nodes` of the node holding the most shards in `committee` and of the other one.
    fn big_and_small(&self, committee: &floe_chain::Committee) -> (usize, usize) {
        let big = committee
            .members
            .iter()
            .max_by_key(|m| m.shards.len())
            .unwrap()
            .node;
        if self.nodes[0].operator == big {
            (0, 1)
        } else {
            (1, 0)
        }
    }

    /// Registers `data` by the main client; returns the blob and its registration id.
    async fn register(&self, data: &[u8], deletable: bool) -> (EncodedBlob, u64) {
        self.register_for(data, deletable, 3).await
    }

    async fn register_for(&self, data: &[u8], deletable: bool, epochs: u32) -> (EncodedBlob, u64) {
        self.register_by(&self.client, data, deletable, epochs)
            .await
    }

    async fn register_by(
        &self,
        owner: &Chain,
        data: &[u8],
        deletable: bool,
        epochs: u32,
    ) -> (EncodedBlob, u64) {
        let blob = self.cfg.encode(data).unwrap();
        let size = data.len() as u64;
        let cost = owner
            .storage_cost(self.cfg.encoded_size(size).unwrap(), epochs)
            .await
            .unwrap();
        owner.faucet(cost.total()).await.unwrap();
        owner.ensure_registry_allowance(cost.total()).await.unwrap();
        let reg = owner
            .register_blob_with_new_storage(blob.metadata.root(), size, 1, deletable, epochs)
            .await
            .unwrap();
        assert_eq!((reg.blob_id, reg.deletable), (blob.blob_id, deletable));
        (blob, reg.registration_id)
    }

    /// Node `i`'s confirmation of registration `r` of `blob`, as a certificate (node `i` must
    /// hold a quorum of shards).
    async fn certificate_of(
        &self,
        i: usize,
        blob: &EncodedBlob,
        r: u64,
    ) -> floe_core::bls::Certificate {
        let epoch = self.client.current_epoch().await.unwrap();
        let committee = self.client.committee(epoch).await.unwrap();
        let url = self.nodes[i].url(&floe_core::protocol::routes::confirmation(&blob.blob_id, r));
        let resp = self.http.get(url).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        let c: Confirmation = resp.json().await.unwrap();
        assert_eq!(c.registration_id, Some(r));
        let mut builder = CertificateBuilder::new(epoch, committee.members.len());
        builder
            .add(
                committee.index_of(self.nodes[i].operator).unwrap(),
                Signature::from_hex(&c.signature).unwrap(),
            )
            .unwrap();
        builder.finish().unwrap()
    }

    /// Certifies registration `r` of `blob` with node `i`'s confirmation alone.
    async fn certify_with(&self, i: usize, blob: &EncodedBlob, r: u64) {
        let cert = self.certificate_of(i, blob, r).await;
        self.client.certify_registration(r, &cert).await.unwrap();
    }

    /// Moves the chain's clock past the epoch's end and advances the epoch.
    async fn next_epoch(&self) {
        let provider = self.client.provider().clone();
        let _: serde_json::Value = provider
            .raw_request("evm_increaseTime".into(), (3601u64,))
            .await
            .unwrap();
        let _: serde_json::Value = provider.raw_request("evm_mine".into(), ()).await.unwrap();
        self.client.advance_epoch().await.unwrap();
    }

    /// Node `i`'s follower cursor (the next block it reads).
    async fn cursor(&self, i: usize) -> u64 {
        let h: serde_json::Value = self
            .http
            .get(self.nodes[i].url("/v1/health"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        h["cursor"].as_u64().unwrap()
    }

    /// Mines `n` empty blocks.
    async fn mine(&self, n: usize) {
        let provider = self.client.provider().clone();
        for _ in 0..n {
            let _: serde_json::Value = provider.raw_request("evm_mine".into(), ()).await.unwrap();
        }
    }

    /// The value of counter `name` on node `i`'s `/metrics`.
    async fn metric(&self, i: usize, name: &str) -> u64 {
        let text = self
            .http
            .get(self.nodes[i].url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    }

    /// Uploads metadata and the node's slivers to node `i` (by the current committee).
    async fn upload(&self, i: usize, blob: &EncodedBlob) {
        let node = &self.nodes[i];
        let id = blob.blob_id;
        let r = self
            .http
            .put(node.url(&format!("/v1/blobs/{id}/metadata")))
            .body(blob.metadata.to_wire())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        let committee = self
            .client
            .committee(self.client.current_epoch().await.unwrap())
            .await
            .unwrap();
        for p in committee.pairs_of(node.operator, &id) {
            let pair = &blob.pairs[usize::from(p)];
            for s in [&pair.primary, &pair.secondary] {
                let url = node.url(&format!("/v1/blobs/{id}/slivers/{p}/{}", s.kind));
                let r = self.http.put(url).body(s.to_wire()).send().await.unwrap();
                assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
            }
        }
    }

    async fn status(&self, i: usize, blob: &EncodedBlob) -> BlobStatus {
        let r = self
            .http
            .get(self.nodes[i].url(&format!("/v1/blobs/{}/status", blob.blob_id)))
            .send()
            .await
            .unwrap();
        r.json().await.unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipped_node_recovers_uncertified_blob_gets_certified_restart_resumes_and_gc() {
    let mut net = network("flow").await;
    let epoch = net.client.current_epoch().await.unwrap();
    let committee = net.client.committee(epoch).await.unwrap();
    let (bi, si) = net.big_and_small(&committee);
    assert_eq!(committee.shards_of(net.nodes[bi].operator).len(), 7);

    // 1. Upload only to the big node, certify with its confirmation alone.
    let (blob, reg) = net.register(&vec![3u8; 20_000], false).await;
    net.upload(bi, &blob).await;
    let r = net
        .http
        .get(
            net.nodes[bi].url(&floe_core::protocol::routes::confirmation(
                &blob.blob_id,
                reg,
            )),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let c: Confirmation = r.json().await.unwrap();
    assert_eq!((c.registration_id, c.deletable), (Some(reg), Some(false)));
    let msg = certify_message(
        net.deployment.chain_id,
        net.deployment.registry.into_array(),
        epoch,
        &[CertifyEntry {
            blob_id: blob.blob_id.0,
            registration_id: reg,
            deletable: false,
        }],
    );
    let sig = Signature::from_hex(&c.signature).unwrap();
    sig.verify(&net.nodes[bi].key.public_key(), &msg).unwrap();
    let mut builder = CertificateBuilder::new(epoch, committee.members.len());
    builder
        .add(committee.index_of(net.nodes[bi].operator).unwrap(), sig)
        .unwrap();
    net.client
        .certify_registration(reg, &builder.finish().unwrap())
        .await
        .unwrap();

    // The skipped node follows the certification and recovers its 3 pairs from its peer.
    wait_for("the skipped node to recover its slivers", 60, || async {
        net.status(si, &blob).await.complete
    })
    .await;
    let s = net.status(si, &blob).await;
    assert_eq!((s.state.as_str(), s.pairs_held.len()), ("certified", 3));
    // And the recovered slivers are exactly the writer's.
    let p = s.pairs_held[0];
    let r = net
        .http
        .get(net.nodes[si].url(&format!("/v1/blobs/{}/slivers/{p}/primary", blob.blob_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.bytes().await.unwrap().to_vec(),
        blob.pairs[usize::from(p)].primary.to_wire()
    );

    // 2. A blob uploaded everywhere but never certified by its writer: a node certifies it.
    let (orphan, orphan_reg) = net.register(&vec![9u8; 5_000], true).await;
    net.upload(0, &orphan).await;
    net.upload(1, &orphan).await;
    wait_for("a node to certify the orphan blob", 60, || async {
        net.client.registration(orphan_reg).await.unwrap().state == RegistrationState::Certified
    })
    .await;

    // 3. Restart the skipped node: its data and cursor survive.
    let head = net.client.block_number().await.unwrap();
    let health_url = net.nodes[si].url("/v1/health");
    let cursor = || {
        let url = health_url.clone();
        let http = net.http.clone();
        async move {
            let h: serde_json::Value = http.get(url).send().await.unwrap().json().await.unwrap();
            h["cursor"].as_u64().unwrap()
        }
    };
    wait_for("the node to follow the chain head", 30, || async {
        cursor().await > head
    })
    .await;
    let before = cursor().await;
    net.nodes[si].stop().await;
    net.nodes[si].start().await;
    assert!(
        cursor().await >= before,
        "the restarted node resumes from its persisted cursor"
    );
    let s = net.status(si, &blob).await;
    assert!(s.complete, "data survives the restart");

    // 4. Delete the deletable blob, move to the next epoch: its data is collected.
    net.client.delete_registration(orphan_reg).await.unwrap();
    let provider = net.client.provider().clone();
    let _: serde_json::Value = provider
        .raw_request("evm_increaseTime".into(), (3601u64,))
        .await
        .unwrap();
    let _: serde_json::Value = provider.raw_request("evm_mine".into(), ()).await.unwrap();
    // Node 1 sees the chain's clock past the epoch's end and advances it.
    wait_for("a node to advance the epoch", 30, || async {
        net.client.current_epoch().await.unwrap() == epoch + 1
    })
    .await;
    for i in [0, 1] {
        wait_for("the deleted blob's data to be collected", 30, || async {
            let s = net.status(i, &orphan).await;
            s.epoch == epoch + 1 && !s.metadata
        })
        .await;
        let url = net.nodes[i].url(&format!("/v1/blobs/{}/metadata", orphan.blob_id));
        assert_eq!(net.http.get(url).send().await.unwrap().status(), 410);
        let s = net.status(i, &orphan).await;
        assert!(
            s.pairs_held.is_empty() && !s.metadata,
            "node {i} still holds data of a deleted blob: {s:?}"
        );
    }
    // The permanent blob is untouched.
    assert!(net.status(bi, &blob).await.complete);
    for n in &mut net.nodes {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inconsistently_encoded_blob_is_marked_invalid_by_the_nodes() {
    let mut net = network("invalid").await;
    let epoch = net.client.current_epoch().await.unwrap();
    let committee = net.client.committee(epoch).await.unwrap();
    let (bi, si) = net.big_and_small(&committee);
    let small_shards = committee.shards_of(net.nodes[si].operator).to_vec();

    // A dishonest writer: metadata whose pair hashes come from blob A for exactly the small
    // node's pairs and from blob B for the others, and B's slivers on the big node.
    let len = 2000usize;
    let a = net.cfg.encode(&vec![1u8; len]).unwrap();
    let mut found = None;
    'search: for seed in 0..=255u8 {
        let b = net
            .cfg
            .encode(&(0..len).map(|i| (i as u8) ^ seed).collect::<Vec<_>>())
            .unwrap();
        for r in 0..N {
            let pairs: Vec<u16> = small_shards.iter().map(|s| (s + N - r) % N).collect();
            let mut m = b.metadata.clone();
            for &p in &pairs {
                m.hashes[usize::from(p)] = a.metadata.hashes[usize::from(p)];
            }
            if m.blob_id().rotation(N) == r {
                found = Some((m, b));
                break 'search;
            }
        }
    }
    let (metadata, b) = found.expect("a mix whose rotation puts A's hashes on the small node");
    let id = metadata.blob_id();
    let cost = net
        .client
        .storage_cost(net.cfg.encoded_size(len as u64).unwrap(), 3)
        .await
        .unwrap();
    net.client.faucet(cost.total()).await.unwrap();
    net.client
        .ensure_registry_allowance(cost.total())
        .await
        .unwrap();
    let reg = net
        .client
        .register_blob_with_new_storage(metadata.root(), len as u64, 1, false, 3)
        .await
        .unwrap();
    assert_eq!(reg.blob_id, id);
    let reg = reg.registration_id;

    // The big node accepts B's slivers (they match the metadata), confirms; the writer certifies.
    let node = &net.nodes[bi];
    let r = net
        .http
        .put(node.url(&format!("/v1/blobs/{id}/metadata")))
        .body(metadata.to_wire())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    for p in committee.pairs_of(node.operator, &id) {
        let pair = &b.pairs[usize::from(p)];
        for s in [&pair.primary, &pair.secondary] {
            let url = node.url(&format!("/v1/blobs/{id}/slivers/{p}/{}", s.kind));
            let r = net.http.put(url).body(s.to_wire()).send().await.unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
    }
    let c: Confirmation = net
        .http
        .get(node.url(&floe_core::protocol::routes::confirmation(&id, reg)))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut builder = CertificateBuilder::new(epoch, committee.members.len());
    builder
        .add(
            committee.index_of(node.operator).unwrap(),
            Signature::from_hex(&c.signature).unwrap(),
        )
        .unwrap();
    net.client
        .certify_registration(reg, &builder.finish().unwrap())
        .await
        .unwrap();

    // The small node cannot rebuild a consistent sliver: with the big node's attestation it
    // marks the blob invalid on-chain, and the nodes then refuse it.
    wait_for("the blob to be marked invalid", 60, || async {
        net.client.blob_status(&id).await.unwrap().invalid
    })
    .await;
    wait_for("the big node to refuse the invalid blob", 30, || async {
        let url = net.nodes[bi].url(&format!("/v1/blobs/{id}/metadata"));
        net.http.get(url).send().await.unwrap().status() == 410
    })
    .await;
    for n in &mut net.nodes {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restarted_after_an_extension_and_an_epoch_change_keeps_the_data() {
    let mut net = network("extend").await;
    let epoch = net.client.current_epoch().await.unwrap();
    let committee = net.client.committee(epoch).await.unwrap();
    let big = usize::from(committee.shards_of(net.nodes[0].operator).len() < 5);
    // A blob stored for one epoch only, held by both nodes.
    let (blob, reg) = net.register_for(&vec![4u8; 8_000], false, 1).await;
    assert_eq!(
        net.client
            .blob_status(&blob.blob_id)
            .await
            .unwrap()
            .end_epoch,
        epoch + 1
    );
    net.upload(0, &blob).await;
    net.upload(1, &blob).await;
    net.certify_with(big, &blob, reg).await;
    for i in [0, 1] {
        wait_for("the nodes to see the certification", 30, || async {
            net.status(i, &blob).await.state == "certified"
        })
        .await;
    }

    // While node 0 is down, the blob is extended and the epoch moves past its old end.
    net.nodes[0].stop().await;
    net.client.faucet(U256::from(FROST_PER_WAL)).await.unwrap();
    net.client
        .ensure_registry_allowance(U256::from(FROST_PER_WAL))
        .await
        .unwrap();
    net.client.extend_registration(reg, 2).await.unwrap();
    net.next_epoch().await;
    let head = net.client.block_number().await.unwrap();

    // Its store still says the blob ended at `epoch + 1`: restarting must not delete the data.
    net.nodes[0].start().await;
    let health = net.nodes[0].url("/v1/health");
    wait_for("the restarted node to catch up", 30, || async {
        let h: serde_json::Value = net
            .http
            .get(&health)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        h["cursor"].as_u64().unwrap() > head
    })
    .await;
    let s = net.status(0, &blob).await;
    assert_eq!(
        (s.state.as_str(), s.epoch, s.end_epoch, s.complete),
        ("certified", epoch + 1, epoch + 3, true),
        "{s:?}"
    );
    assert_eq!(net.metric(0, "floe_node_blobs_collected_total").await, 0);
    assert_eq!(net.metric(0, "floe_node_slivers_recovered_total").await, 0);
    for n in &mut net.nodes {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blob_lives_while_any_owner_registration_does_and_is_collected_after_the_last() {
    // Nodes that never certify on their own: the test decides what is certified.
    let mut net = network_with("two-owners", 3600).await;
    let epoch = net.client.current_epoch().await.unwrap();
    let committee = net.client.committee(epoch).await.unwrap();
    let (bi, _) = net.big_and_small(&committee);
    let data = vec![7u8; 12_000];
    let (blob, first) = net.register_by(&net.client, &data, true, 3).await;
    let (again, second) = net.register_by(&net.other, &data, true, 3).await;
    assert_eq!(again.blob_id, blob.blob_id);
    assert_ne!(first, second);
    net.upload(0, &blob).await;
    net.upload(1, &blob).await;
    for i in [0, 1] {
        wait_for("the nodes to see both registrations", 30, || async {
            net.status(i, &blob).await.registrations == 2
        })
        .await;
    }

    // The first owner's registration is certified with its confirmation. That certificate
    // does not certify the second owner's registration of the same blob.
    net.certify_with(bi, &blob, first).await;
    let cert_of_first = net.certificate_of(bi, &blob, first).await;
    let err = net
        .client
        .certify_registration(second, &cert_of_first)
        .await
        .unwrap_err();
    assert_eq!(
        err.revert().map(|r| r.name.as_str()),
        Some("BadSignature"),
        "{err}"
    );
    assert_eq!(
        net.client.registration(second).await.unwrap().state,
        RegistrationState::Registered
    );

    // The first owner deletes theirs: the nodes keep the data for the second registration.
    net.client.delete_registration(first).await.unwrap();
    for i in [0, 1] {
        wait_for("the nodes to see the deletion", 30, || async {
            let s = net.status(i, &blob).await;
            s.registrations == 1 && s.state == "registered"
        })
        .await;
        let s = net.status(i, &blob).await;
        assert!(
            s.complete,
            "node {i} dropped data a live registration needs: {s:?}"
        );
        let p = s.pairs_held[0];
        let url = net.nodes[i].url(&format!("/v1/blobs/{}/slivers/{p}/secondary", blob.blob_id));
        let r = net.http.get(url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.bytes().await.unwrap().to_vec(),
            blob.pairs[usize::from(p)].secondary.to_wire()
        );
        // No confirmation for the deleted registration.
        let url = net.nodes[i].url(&floe_core::protocol::routes::confirmation(
            &blob.blob_id,
            first,
        ));
        let r = net.http.get(url).send().await.unwrap();
        assert_eq!(r.status(), 410);
    }
    // The second registration is confirmed (signed with its own id and flag) and certified.
    let cert = net.certificate_of(bi, &blob, second).await;
    net.client
        .certify_registration(second, &cert)
        .await
        .unwrap();
    assert_eq!(
        net.client.registration(second).await.unwrap().state,
        RegistrationState::Certified
    );
    let chain_status = net.client.blob_status(&blob.blob_id).await.unwrap();
    assert_eq!(
        (chain_status.registrations, chain_status.certified_end_epoch),
        (1, epoch + 3)
    );
    for i in [0, 1] {
        wait_for("the nodes to see the second certification", 30, || async {
            net.status(i, &blob).await.certified_end_epoch == epoch + 3
        })
        .await;
    }

    // The second owner deletes the last live registration: every node removes the data
    // (without waiting for an epoch change).
    net.other.delete_registration(second).await.unwrap();
    for i in [0, 1] {
        wait_for("the data to be collected", 30, || async {
            let s = net.status(i, &blob).await;
            !s.metadata && s.pairs_held.is_empty()
        })
        .await;
        let s = net.status(i, &blob).await;
        assert_eq!(
            (s.state.as_str(), s.registrations, s.epoch),
            ("expired", 0, epoch)
        );
        let url = net.nodes[i].url(&format!("/v1/blobs/{}/metadata", blob.blob_id));
        assert_eq!(net.http.get(url).send().await.unwrap().status(), 410);
        assert_eq!(net.metric(i, "floe_node_blobs_collected_total").await, 1);
    }
    for n in &mut net.nodes {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_undone_by_a_reorg_leaves_nothing_behind_and_the_follower_resumes() {
    let mut net = network_with("reorg", 3600).await;
    let provider = net.client.provider().clone();
    let epoch = net.client.current_epoch().await.unwrap();
    let committee = net.client.committee(epoch).await.unwrap();
    let (bi, si) = net.big_and_small(&committee);
    let snapshot: serde_json::Value = provider
        .raw_request("evm_snapshot".into(), ())
        .await
        .unwrap();
    // A registration, uploaded to both nodes, that the chain will drop.
    let (dropped, reg) = net.register(&vec![5u8; 6_000], true).await;
    net.upload(0, &dropped).await;
    net.upload(1, &dropped).await;
    let head = net.client.block_number().await.unwrap();
    for i in [0, 1] {
        wait_for("the nodes to follow the registration", 30, || async {
            net.cursor(i).await > head
        })
        .await;
        assert!(net.status(i, &dropped).await.complete);
    }
    let reverted: bool = provider
        .raw_request("evm_revert".into(), (snapshot,))
        .await
        .unwrap();
    assert!(reverted);
    // The new branch grows past the old head without the registration.
    net.mine(4).await;
    assert_eq!(
        net.client.registration(reg).await.unwrap().state,
        RegistrationState::None
    );
    let id = dropped.blob_id;
    for i in [0, 1] {
        wait_for("the node to undo the reorg", 30, || async {
            net.metric(i, "floe_node_reorgs_total").await >= 1
        })
        .await;
        // Nothing is held or accepted for the vanished registration.
        let get = |path: String| {
            let url = net.nodes[i].url(&path);
            let http = net.http.clone();
            async move {
                let r = http.get(url).send().await.unwrap();
                let status = r.status().as_u16();
                let v: serde_json::Value = r.json().await.unwrap();
                (status, v["code"].as_str().unwrap_or("").to_owned())
            }
        };
        assert_eq!(
            get(format!("/v1/blobs/{id}/metadata")).await,
            (404, "not_found".to_owned()),
            "node {i} still serves metadata of a vanished registration"
        );
        let p = committee.pairs_of(net.nodes[i].operator, &id)[0];
        assert_eq!(
            get(format!("/v1/blobs/{id}/slivers/{p}/primary")).await,
            (404, "not_found".to_owned())
        );
        assert_eq!(
            get(format!("/v1/blobs/{id}/status")).await,
            (404, "not_registered".to_owned())
        );
        let r = net
            .http
            .put(net.nodes[i].url(&format!("/v1/blobs/{id}/metadata")))
            .body(dropped.metadata.to_wire())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }
    // The follower goes on along the new branch: a later registration (which gets the
    // vanished one's id on this branch) is followed, certified and recovered by the skipped
    // node, which only the follower's certification event starts.
    let (later, later_reg) = net.register(&vec![6u8; 6_000], false).await;
    assert_eq!(later_reg, reg);
    net.upload(bi, &later).await;
    net.certify_with(bi, &later, later_reg).await;
    wait_for("the skipped node to recover the later blob", 60, || async {
        net.status(si, &later).await.complete
    })
    .await;
    assert_eq!(net.status(si, &later).await.state, "certified");
    for n in &mut net.nodes {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_confirmation_depth_two_a_registration_is_followed_two_blocks_later() {
    let mut net = network_opts("depth", 3600, 2).await;
    let data = vec![8u8; 3_000];
    let blob = net.cfg.encode(&data).unwrap();
    let cost = net
        .client
        .storage_cost(net.cfg.encoded_size(data.len() as u64).unwrap(), 3)
        .await
        .unwrap();
    net.client.faucet(cost.total()).await.unwrap();
    net.client
        .ensure_registry_allowance(cost.total())
        .await
        .unwrap();
    // The follower is 2 blocks behind the head: next block to read = head - 1.
    let before = net.client.block_number().await.unwrap();
    wait_for("the follower to reach head - 2", 30, || async {
        net.cursor(0).await == before - 1
    })
    .await;
    let events = net.metric(0, "floe_node_events_total").await;
    net.client
        .register_blob_with_new_storage(blob.metadata.root(), data.len() as u64, 1, true, 3)
        .await
        .unwrap();
    let at = net.client.block_number().await.unwrap();
    assert_eq!(at, before + 1);
    // One block later the follower reads up to the block before the registration's: the
    // registration's events are not applied.
    net.mine(1).await;
    wait_for(
        "the follower to reach the block before the registration",
        30,
        || async { net.cursor(0).await == at },
    )
    .await;
    assert_eq!(net.metric(0, "floe_node_events_total").await, events);
    assert_eq!(net.cursor(0).await, at, "the follower went past head - 2");
    // Two blocks later it applies them (the registry's and staking's events of that block).
    net.mine(1).await;
    wait_for(
        "the follower to apply the registration block",
        30,
        || async { net.cursor(0).await == at + 1 },
    )
    .await;
    let applied = net.metric(0, "floe_node_events_total").await;
    assert!(applied >= events + 2, "{applied} events after {events}");
    for n in &mut net.nodes {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bls_key_other_than_the_registered_one_stops_the_node() {
    let mut net = network("keymismatch").await;
    net.nodes[0].stop().await;
    let mut config = net.nodes[0].config.clone();
    let other = config.bls_key_file.with_file_name("other.key");
    std::fs::write(&other, SecretKey::from_seed(&[99; 32]).to_hex()).unwrap();
    config.bls_key_file = other;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = floe_node::run(config, listener, std::future::pending())
        .await
        .unwrap_err();
    assert!(
        matches!(err, floe_node::NodeError::KeyMismatch { .. }),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("does not match the key registered on-chain"),
        "{err}"
    );
}
