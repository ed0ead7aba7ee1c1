//! floe-chain against a real anvil (the repo's npm toolchain): deploy, register and stake
//! nodes, advance the epoch, read the committee, register and certify a blob with a real BLS
//! certificate, follow the events, and decode reverts. Needs `npm install` (fails saying so).
#![allow(clippy::unwrap_used)]

use alloy::{
    node_bindings::AnvilInstance,
    primitives::{Address, U256},
};
use floe_chain::testing::{anvil, signer};
use floe_chain::{
    Chain, ChainError, DeployParams, Deployment, FROST_PER_WAL, FloeEvent, RegistrationState,
};
use floe_core::{
    bls::{CertificateBuilder, SecretKey},
    encoding::EncodingConfig,
    messages::certify_message,
};

const N: u16 = 10;

async fn setup(anvil: &AnvilInstance) -> (Deployment, Chain, Vec<(Chain, SecretKey)>) {
    let deployer = signer(anvil, 0);
    let provider = floe_chain::connect(&anvil.endpoint(), Some(deployer.clone()))
        .await
        .unwrap();
    let params = DeployParams {
        n_shards: N,
        epoch_duration_secs: 3600,
        ..DeployParams::default()
    };
    let deployment = floe_chain::deploy(&provider, &params).await.unwrap();
    assert_eq!(deployment.chain_id, 31337);
    let client = Chain::connect(&anvil.endpoint(), deployment, Some(deployer))
        .await
        .unwrap();

    let mut nodes = Vec::new();
    for i in 1..=2usize {
        let s = signer(anvil, i);
        let operator = s.address();
        let chain = Chain::connect(&anvil.endpoint(), deployment, Some(s))
            .await
            .unwrap();
        let key = SecretKey::from_seed(&[i as u8; 32]);
        let stake = U256::from(10 * i as u64) * U256::from(FROST_PER_WAL);
        // The stake and the registration bond (the default: 1 WAL).
        chain
            .faucet(stake + U256::from(FROST_PER_WAL))
            .await
            .unwrap();
        chain
            .register_node(&key, &format!("127.0.0.1:{}", 9000 + i), 500, 1 << 40)
            .await
            .unwrap();
        chain.stake(operator, stake).await.unwrap();
        nodes.push((chain, key));
    }
    client.advance_epoch().await.unwrap();
    (deployment, client, nodes)
}

#[tokio::test]
async fn deploy_stake_register_certify_and_follow_events() {
    let anvil = anvil();
    let (deployment, client, nodes) = setup(&anvil).await;

    // Epoch 1 with both nodes; shards sum to n in proportion to stake (1:2).
    assert_eq!(client.current_epoch().await.unwrap(), 1);
    let committee = client.committee(1).await.unwrap();
    assert_eq!(committee.members.len(), 2);
    assert_eq!(committee.shard_owner.len(), usize::from(N));
    let total: usize = committee.members.iter().map(|m| m.shards.len()).sum();
    assert_eq!(total, usize::from(N));
    for (chain, key) in &nodes {
        let m = committee.member(chain.sender().unwrap()).unwrap();
        assert_eq!(m.public_key, key.public_key());
    }
    assert!(client.committee(0).await.unwrap().is_empty());
    let timing = client.epoch_timing().await.unwrap();
    assert_eq!((timing.epoch, timing.duration), (1, 3600));

    // Register a blob and certify it with both nodes' signatures.
    let cfg = EncodingConfig::new(N).unwrap();
    let blob = cfg.encode(&vec![7u8; 3000]).unwrap();
    let cost = client
        .storage_cost(cfg.encoded_size(3000).unwrap(), 2)
        .await
        .unwrap();
    client.faucet(cost.total()).await.unwrap();
    client
        .ensure_registry_allowance(cost.total())
        .await
        .unwrap();
    let reg = client
        .register_blob_with_new_storage(blob.metadata.root(), 3000, 1, false, 2)
        .await
        .unwrap();
    assert_eq!(reg.blob_id, blob.blob_id);
    assert_eq!(reg.end_epoch, 3);
    let record = client.registration(reg.registration_id).await.unwrap();
    assert_eq!(
        (record.state, record.size, record.end_epoch, record.blob_id),
        (RegistrationState::Registered, 3000, 3, blob.blob_id)
    );
    // The caller's registrations of the blob, found by the indexed blob id and owner.
    let me = client.sender().unwrap();
    assert_eq!(
        client
            .registration_ids_of(&blob.blob_id, Some(me), 10)
            .await
            .unwrap(),
        vec![reg.registration_id]
    );
    assert_eq!(
        client
            .registration_ids_of(&blob.blob_id, Some(Address::repeat_byte(9)), 10)
            .await
            .unwrap(),
        Vec::<u64>::new()
    );
    assert_eq!(
        client
            .registration_ids_of(&blob.blob_id, None, 0)
            .await
            .unwrap(),
        Vec::<u64>::new()
    );

    let msg = certify_message(
        deployment.chain_id,
        deployment.registry.into_array(),
        1,
        &[floe_core::messages::CertifyEntry {
            blob_id: blob.blob_id.0,
            registration_id: reg.registration_id,
            deletable: false,
        }],
    );
    let mut builder = CertificateBuilder::new(1, committee.members.len());
    for (chain, key) in &nodes {
        builder
            .add(
                committee.index_of(chain.sender().unwrap()).unwrap(),
                key.sign(&msg),
            )
            .unwrap();
    }
    let cert = builder.finish().unwrap();
    client
        .certify_registration(reg.registration_id, &cert)
        .await
        .unwrap();
    assert_eq!(
        client
            .registration(reg.registration_id)
            .await
            .unwrap()
            .state,
        RegistrationState::Certified
    );

    // Certifying again reverts with the registry's custom error, decoded.
    let err = client
        .certify_registration(reg.registration_id, &cert)
        .await
        .unwrap_err();
    assert_eq!(err.revert_name(), Some("WrongRegistrationState"), "{err}");
    // Deleting a permanent registration: RegistrationNotDeletable.
    let err = client
        .delete_registration(reg.registration_id)
        .await
        .unwrap_err();
    assert_eq!(err.revert_name(), Some("RegistrationNotDeletable"), "{err}");

    // The events, decoded in order.
    let head = client.block_number().await.unwrap();
    let events = client.events(deployment.start_block, head).await.unwrap();
    let names: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.event {
            FloeEvent::NodeRegistered { .. } => Some("NodeRegistered"),
            FloeEvent::EpochAdvanced { epoch: 1, .. } => Some("EpochAdvanced"),
            FloeEvent::BlobRegistered { blob_id, .. } if *blob_id == blob.blob_id => {
                Some("BlobRegistered")
            }
            FloeEvent::BlobCertified { blob_id, .. } if *blob_id == blob.blob_id => {
                Some("BlobCertified")
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        [
            "NodeRegistered",
            "NodeRegistered",
            "EpochAdvanced",
            "BlobRegistered",
            "BlobCertified"
        ]
    );
}

#[tokio::test]
async fn unreachable_rpc_and_wrong_chain_are_clear_errors() {
    let d = Deployment {
        wal: Default::default(),
        staking: Default::default(),
        registry: Default::default(),
        chain_id: 31337,
        start_block: 0,
    };
    let err = Chain::connect("http://127.0.0.1:1", d, None)
        .await
        .unwrap_err();
    assert!(matches!(err, ChainError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("http://127.0.0.1:1"), "{err}");

    let anvil = anvil();
    let err = Chain::connect(&anvil.endpoint(), Deployment { chain_id: 5, ..d }, None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::WrongChain {
                expected: 5,
                actual: 31337,
                ..
            }
        ),
        "{err}"
    );
    // No contract at the deployment's addresses: a clear error, not a decode failure.
    let chain = Chain::connect(&anvil.endpoint(), d, None).await.unwrap();
    let err = chain.current_epoch().await.unwrap_err();
    assert!(matches!(err, ChainError::NoContract { .. }), "{err}");
    let err = chain.faucet(U256::from(1)).await.unwrap_err();
    assert!(matches!(err, ChainError::NoWallet { .. }), "{err}");
}

/// Moves anvil's clock past the epoch's end and mines a block.
async fn epoch_due(chain: &Chain) {
    use alloy::providers::Provider;
    let p = chain.provider().clone();
    let _: serde_json::Value = p
        .raw_request("evm_increaseTime".into(), (3601u64,))
        .await
        .unwrap();
    let _: serde_json::Value = p.raw_request("evm_mine".into(), ()).await.unwrap();
}

/// Sends a faucet transaction from `chain`'s wallet; it must be mined within 20 s (a nonce
/// gap would leave it queued forever).
async fn faucet_goes_through(chain: &Chain) {
    let sent = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        chain.faucet(U256::from(1)),
    )
    .await;
    assert!(
        matches!(sent, Ok(Ok(_))),
        "a transaction after a failure must be mined: {sent:?}"
    );
}

#[tokio::test]
async fn a_transaction_after_a_revert_goes_through() {
    let anvil = anvil();
    let (_, client, _) = setup(&anvil).await;
    let me = client.sender().unwrap();
    let before = client.pending_nonce(me).await.unwrap();
    // The epoch is not due: the gas estimate reverts, nothing is sent.
    let err = client.advance_epoch().await.unwrap_err();
    assert!(matches!(err, ChainError::Reverted { .. }), "{err}");
    assert_eq!(client.pending_nonce(me).await.unwrap(), before);
    faucet_goes_through(&client).await;
    assert_eq!(client.pending_nonce(me).await.unwrap(), before + 1);
    assert_eq!(client.latest_nonce(me).await.unwrap(), before + 1);
}

#[tokio::test]
async fn wallets_racing_epoch_advances_keep_their_nonces_in_step() {
    let anvil = anvil();
    let (deployment, client, nodes) = setup(&anvil).await;
    // Three wallets, two handles on one of them (they share its send lock).
    let mut racers: Vec<Chain> = nodes.iter().map(|(c, _)| c.clone()).collect();
    racers.push(client.clone());
    racers.push(
        Chain::connect(&anvil.endpoint(), deployment, Some(signer(&anvil, 1)))
            .await
            .unwrap(),
    );
    let first = client.current_epoch().await.unwrap();
    for _ in 0..10 {
        epoch_due(&client).await;
        let mut set = tokio::task::JoinSet::new();
        for c in &racers {
            let c = c.clone();
            set.spawn(async move { c.advance_epoch().await });
        }
        let results = set.join_all().await;
        let won = results.iter().filter(|r| r.is_ok()).count();
        assert!(won >= 1, "someone advances the epoch: {results:?}");
    }
    assert_eq!(client.current_epoch().await.unwrap(), first + 10);
    for c in &racers {
        let me = c.sender().unwrap();
        assert_eq!(
            c.pending_nonce(me).await.unwrap(),
            c.latest_nonce(me).await.unwrap(),
            "wallet {me} has transactions stuck behind a nonce gap"
        );
        faucet_goes_through(c).await;
    }
}
