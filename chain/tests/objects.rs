//! floe-chain's bindings for registrations as on-chain objects, against a real anvil:
//! transfers of registrations and storage, attributes, shared registrations with their funds,
//! the explorer's event reads (`registration_txs`, `recent_registrations`) and how the event
//! follower decodes the new events. Needs `npm install` (fails saying so).
#![allow(clippy::unwrap_used)]

use alloy::{
    node_bindings::AnvilInstance,
    primitives::{Address, U256},
};
use floe_chain::testing::{anvil, signer};
use floe_chain::{Chain, DeployParams, Deployment, FloeEvent, RegistrationState};

/// Deploys with n = 10 and advances to epoch 1 (storage needs no committee); returns the
/// deployment, the deployer's handle and a second funded wallet's.
async fn setup(anvil: &AnvilInstance) -> (Deployment, Chain, Chain) {
    let deployer = signer(anvil, 0);
    let provider = floe_chain::connect(&anvil.endpoint(), Some(deployer.clone()))
        .await
        .unwrap();
    let params = DeployParams {
        n_shards: 10,
        epoch_duration_secs: 3600,
        ..DeployParams::default()
    };
    let deployment = floe_chain::deploy(&provider, &params).await.unwrap();
    let alice = Chain::connect(&anvil.endpoint(), deployment, Some(deployer))
        .await
        .unwrap();
    let bob = Chain::connect(&anvil.endpoint(), deployment, Some(signer(anvil, 1)))
        .await
        .unwrap();
    alice.advance_epoch().await.unwrap();
    for c in [&alice, &bob] {
        c.faucet(U256::from(10u64.pow(12))).await.unwrap();
        c.ensure_registry_allowance(U256::MAX).await.unwrap();
    }
    (deployment, alice, bob)
}

#[tokio::test]
async fn transfers_attributes_and_explorer_reads() {
    let anvil = anvil();
    let (deployment, alice, bob) = setup(&anvil).await;
    let (a, b) = (alice.sender().unwrap(), bob.sender().unwrap());
    let first = alice
        .register_blob_with_new_storage([1; 32], 1000, 1, true, 3)
        .await
        .unwrap();
    let second = alice
        .register_blob_with_new_storage([2; 32], 2000, 1, false, 3)
        .await
        .unwrap();
    let id = first.registration_id;

    // Attributes: set, replace, read, remove; a missing key is a decoded revert.
    alice.set_attribute(id, "title", "sunset").await.unwrap();
    alice.set_attribute(id, "type", "image/png").await.unwrap();
    alice.set_attribute(id, "title", "sunrise").await.unwrap();
    assert_eq!(
        alice.attributes(id).await.unwrap(),
        vec![
            ("title".to_owned(), "sunrise".to_owned()),
            ("type".to_owned(), "image/png".to_owned())
        ]
    );
    alice.remove_attribute(id, "title").await.unwrap();
    assert_eq!(
        alice.attributes(id).await.unwrap(),
        vec![("type".to_owned(), "image/png".to_owned())]
    );
    let err = alice.remove_attribute(id, "title").await.unwrap_err();
    assert_eq!(err.revert_name(), Some("AttributeNotFound"), "{err}");
    let err = alice
        .set_attribute(id, &"k".repeat(65), "v")
        .await
        .unwrap_err();
    assert_eq!(err.revert_name(), Some("AttributeKeyLength"), "{err}");

    // Transfers: the registration and its storage move; the old owner lost its rights.
    let t1 = alice.transfer_registration(id, b).await.unwrap();
    let record = alice.registration(id).await.unwrap();
    assert_eq!((record.owner, record.shared), (b, false));
    let err = alice.delete_registration(id).await.unwrap_err();
    assert_eq!(err.revert_name(), Some("NotRegistrationOwner"), "{err}");
    let t2 = bob.transfer_registration(id, a).await.unwrap();
    assert_eq!(alice.registration(id).await.unwrap().owner, a);
    let err = alice
        .transfer_registration(id, Address::ZERO)
        .await
        .unwrap_err();
    assert_eq!(err.revert_name(), Some("ZeroAddress"), "{err}");
    // A used resource does not move alone; a freed one does.
    let storage_id = u64::try_from(first.storage_id).unwrap();
    let err = alice.transfer_storage(storage_id, b).await.unwrap_err();
    assert_eq!(err.revert_name(), Some("StorageInUse"), "{err}");
    alice.delete_registration(id).await.unwrap();
    alice.transfer_storage(storage_id, b).await.unwrap();
    let used = bob
        .register_blob(first.storage_id, [3; 32], 1000, 1, true)
        .await
        .unwrap();
    assert_eq!(
        bob.registration(used.registration_id).await.unwrap().owner,
        b
    );

    // The explorer's reads: one registration's transactions, and the newest registrations.
    let txs = alice.registration_txs(id, 10_000).await.unwrap();
    assert_eq!(txs.registered, Some(first.tx));
    assert_eq!(txs.certified, None);
    assert_eq!(txs.transfers, vec![t1, t2]);
    // Bounded in blocks: the last block holds none of it.
    let none = alice.registration_txs(id, 1).await.unwrap();
    assert_eq!(
        (none.registered, none.transfers.len()),
        (None, 0),
        "only the last block searched"
    );
    let recent = alice.recent_registrations(2, 10_000).await.unwrap();
    assert_eq!(
        recent
            .iter()
            .map(|r| (r.registration_id, r.owner, r.tx_hash))
            .collect::<Vec<_>>(),
        vec![
            (used.registration_id, b, used.tx),
            (second.registration_id, a, second.tx)
        ],
        "newest first, at most the limit"
    );
    assert_eq!(
        (recent[1].size, recent[1].deletable, recent[1].epoch),
        (2000, false, 1)
    );
    assert_eq!(recent[1].blob_id, second.blob_id);
    let all = alice.recent_registrations(10, 10_000).await.unwrap();
    assert_eq!(all.len(), 3);
    assert!(
        all.windows(2)
            .all(|w| w[0].block_number >= w[1].block_number)
    );
    assert!(
        alice
            .recent_registrations(0, 10_000)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(alice.recent_registrations(10, 0).await.unwrap().is_empty());

    // The follower decodes the new events by name and keeps the ones it acts on.
    let head = alice.block_number().await.unwrap();
    let events = alice.events(deployment.start_block, head).await.unwrap();
    let others: Vec<&str> = events
        .iter()
        .filter_map(|e| match &e.event {
            FloeEvent::Other(name) if name != "StorageBought" && !name.starts_with("Rewards") => {
                Some(name.as_str())
            }
            _ => None,
        })
        .filter(|n| {
            [
                "AttributeSet",
                "AttributeRemoved",
                "BlobTransferred",
                "StorageTransferred",
            ]
            .contains(n)
        })
        .collect();
    assert_eq!(
        others,
        [
            "AttributeSet",
            "AttributeSet",
            "AttributeSet",
            "AttributeRemoved",
            "BlobTransferred",
            "BlobTransferred",
            "StorageTransferred"
        ]
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e.event, FloeEvent::BlobDeleted { registration_id, .. } if registration_id == id))
    );
}

#[tokio::test]
async fn shared_registration_is_funded_and_extended_by_anyone() {
    let anvil = anvil();
    let (deployment, alice, bob) = setup(&anvil).await;
    let reg = alice
        .register_blob_with_new_storage([7; 32], 1000, 1, false, 2)
        .await
        .unwrap();
    let id = reg.registration_id;
    let err = bob.fund_shared(id, U256::from(1)).await.unwrap_err();
    assert_eq!(err.revert_name(), Some("RegistrationNotShared"), "{err}");
    alice.set_attribute(id, "k", "v").await.unwrap();
    alice.share_registration(id).await.unwrap();
    assert!(alice.registration(id).await.unwrap().shared);
    let err = alice.set_attribute(id, "k", "w").await.unwrap_err();
    assert_eq!(err.revert_name(), Some("RegistrationIsShared"), "{err}");
    let err = alice
        .transfer_registration(id, bob.sender().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.revert_name(), Some("RegistrationIsShared"), "{err}");

    // A fresh wallet funds it: fund_shared approves the registry itself.
    let carol = Chain::connect(&anvil.endpoint(), deployment, Some(signer(&anvil, 2)))
        .await
        .unwrap();
    let encoded = alice.encoded_size(1000).await.unwrap();
    let cost = alice.storage_cost(encoded, 3).await.unwrap().storage;
    carol.faucet(cost + U256::from(5)).await.unwrap();
    carol.fund_shared(id, cost + U256::from(5)).await.unwrap();
    assert_eq!(alice.shared_funds(id).await.unwrap(), cost + U256::from(5));
    let registry = deployment.registry;
    assert_eq!(
        alice.wal_balance(registry).await.unwrap(),
        cost + U256::from(5)
    );

    // Anyone extends it from the fund; more than the fund holds is refused.
    let err = bob.extend_shared(id, 4).await.unwrap_err();
    assert_eq!(err.revert_name(), Some("InsufficientFunds"), "{err}");
    bob.extend_shared(id, 3).await.unwrap();
    assert_eq!(alice.shared_funds(id).await.unwrap(), U256::from(5));
    let record = alice.registration(id).await.unwrap();
    assert_eq!(
        (record.end_epoch, record.state, record.shared),
        (6, RegistrationState::Registered, true)
    );
    // The follower sees the extension as a BlobExtended.
    let head = alice.block_number().await.unwrap();
    let events = alice.events(head, head).await.unwrap();
    assert!(events.iter().any(|e| matches!(
        e.event,
        FloeEvent::BlobExtended { registration_id, end_epoch: 6, .. } if registration_id == id
    )));
    assert!(
        events
            .iter()
            .any(|e| e.event == FloeEvent::Other("SharedBlobFundsUsed".into()))
    );
}
