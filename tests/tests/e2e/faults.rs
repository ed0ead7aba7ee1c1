//! Nodes down: one of four (a store still certifies; the node recovers its slivers when it
//! comes back), two of four (old blobs read, a store fails with the quorum error and its
//! registration is reused, not paid again, by the next store).

use std::time::Duration;

use anyhow::{Result, bail, ensure};
use floe_chain::RegistrationState;
use floe_client::{ClientError, StoreOptions, StoreOutcome};
use floe_tests::{node_blob_status, node_complete, start_devnet, test_bytes, wait_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_node_down_store_certifies_and_the_node_recovers_after_restart() -> Result<()> {
    let mut devnet = start_devnet(4).await?;
    let client = devnet.client().await?;
    devnet.stop_node(3);

    let data = test_bytes(1 << 20, 11);
    let stored = client
        .store(
            data.clone(),
            &StoreOptions {
                epochs: 3,
                deletable: false,
                ..Default::default()
            },
        )
        .await?;
    assert_eq!(stored.outcome, StoreOutcome::NewlyCertified);
    assert!(
        stored.confirmed_shards < 100,
        "node 3 was down, yet all shards confirmed"
    );
    assert_eq!(
        client
            .chain()
            .registration(stored.registration_id)
            .await?
            .state,
        RegistrationState::Certified
    );
    ensure!(
        client.read(&stored.blob_id).await? == data,
        "read with a node down returned other bytes"
    );

    // Node 3 missed the store; restarted, it recovers its slivers from its peers.
    devnet.start_node(3).await?;
    wait_until(
        "node 3 to recover all its slivers",
        Duration::from_secs(90),
        || async {
            node_complete(&devnet, 3, &stored.blob_id)
                .await
                .then_some(())
        },
    )
    .await?;
    let status = node_blob_status(&devnet, 3, &stored.blob_id).await;
    let held = status.as_ref().map(|s| s.pairs_held.len());
    assert!(
        held.unwrap_or(0) > 0,
        "node 3 status after recovery: {status:?}"
    );

    // With node 3 back and another node down, the recovered slivers serve reads.
    devnet.stop_node(0);
    ensure!(
        client.read(&stored.blob_id).await? == data,
        "read after recovery returned other bytes"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_down_store_fails_with_quorum_error_and_the_rerun_reuses_the_registration()
-> Result<()> {
    let mut devnet = start_devnet(4).await?;
    let client = devnet.client().await?;
    let opts = StoreOptions {
        epochs: 2,
        deletable: false,
        ..Default::default()
    };
    let old = test_bytes(300_000, 21);
    let old_stored = client.store(old.clone(), &opts).await?;
    for i in 0..4 {
        wait_until(
            &format!("node {i} to hold blob A"),
            Duration::from_secs(60),
            || async {
                node_complete(&devnet, i, &old_stored.blob_id)
                    .await
                    .then_some(())
            },
        )
        .await?;
    }

    devnet.stop_node(2);
    devnet.stop_node(3);

    // Blobs certified earlier still read: n-2f primary slivers suffice.
    ensure!(
        client.read(&old_stored.blob_id).await? == old,
        "old blob read back wrong with two nodes down"
    );

    // A new store pays, registers, and fails with the quorum error.
    let new = test_bytes(200_000, 22);
    let before = client.wal_balance().await?;
    let err = match client.store(new.clone(), &opts).await {
        Ok(r) => bail!("store with two of four nodes down succeeded: {r:?}"),
        Err(e) => e,
    };
    let ClientError::QuorumNotReached {
        blob_id,
        registration_id,
        weight,
        needed,
        n,
        ..
    } = &err
    else {
        bail!("expected the quorum error, got: {err}");
    };
    assert_eq!(*n, 100);
    assert_eq!(*needed, 67);
    assert!(*weight < 67, "weight {weight}");
    let message = err.to_string();
    assert!(
        message.contains("stays yours") && message.contains("floe store"),
        "unhelpful message: {message}"
    );
    let (blob_id, registration_id) = (*blob_id, *registration_id);
    let paid = client.wal_balance().await?;
    assert!(
        paid < before,
        "the failed store paid nothing ({before} -> {paid})"
    );
    let registration = client.chain().registration(registration_id).await?;
    assert_eq!(registration.blob_id, blob_id);
    assert_eq!(registration.state, RegistrationState::Registered);
    assert_eq!(registration.owner, client.address());

    // The nodes come back; the same store reuses the registration: no payment, no register.
    devnet.start_node(2).await?;
    devnet.start_node(3).await?;
    let rerun = client.store(new.clone(), &opts).await?;
    assert_eq!(rerun.outcome, StoreOutcome::ReusedRegistration);
    assert_eq!(rerun.blob_id, blob_id);
    assert_eq!(rerun.registration_id, registration_id);
    let actions: Vec<&str> = rerun.transactions.iter().map(|t| t.action).collect();
    assert_eq!(actions, vec!["certify"]);
    assert_eq!(client.wal_balance().await?, paid, "the rerun paid again");
    let record = client.chain().registration(registration_id).await?;
    assert_eq!(record.state, RegistrationState::Certified);
    assert_eq!(record.storage_id, registration.storage_id);
    assert_eq!(record.end_epoch, registration.end_epoch);
    ensure!(
        client.read(&blob_id).await? == new,
        "reused blob read back wrong"
    );
    Ok(())
}
