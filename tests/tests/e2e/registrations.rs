//! Registrations: which one a store reuses (only one of ours that gives what was asked, or a
//! certified permanent one of anyone), and squatting: a registration of someone else never
//! stands in the way, and deleting it leaves ours and the data intact.

use std::sync::Arc;

use alloy::primitives::U256;
use anyhow::{Result, ensure};
use floe_chain::RegistrationState;
use floe_client::{Client, StoreOutcome, units::FROST_PER_WAL};
use floe_core::ids::ENCODING_RED_STUFF;
use floe_tests::{funded_client, start_devnet, store_opts, test_bytes};

fn actions(result: &floe_client::StoreResult) -> Vec<&'static str> {
    result.transactions.iter().map(|t| t.action).collect()
}

/// Registers `data` (new storage for `epochs`) from `client`'s wallet without uploading it.
async fn register_only(
    client: &Client,
    data: &[u8],
    epochs: u32,
    deletable: bool,
) -> Result<floe_chain::Registration> {
    let chain = client.chain();
    let blob = client.encode(Arc::new(data.to_vec())).await?;
    let size = data.len() as u64;
    let cost = chain
        .storage_cost(chain.encoded_size(size).await?, epochs)
        .await?;
    chain.ensure_registry_allowance(cost.total()).await?;
    let reg = chain
        .register_blob_with_new_storage(
            blob.metadata.root(),
            size,
            ENCODING_RED_STUFF,
            deletable,
            epochs,
        )
        .await?;
    ensure!(
        reg.blob_id == blob.blob_id,
        "the registry derived another id"
    );
    Ok(reg)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_reuses_only_registrations_that_give_what_was_asked() -> Result<()> {
    let devnet = start_devnet(4).await?;
    let me = devnet.client().await?;
    let alice = funded_client(&devnet, devnet.node_count() + 1).await?;
    let epoch = me.chain().current_epoch().await?;

    // Every node paid the 1 WAL registration bond.
    for i in 0..devnet.node_count() {
        let status = me
            .chain()
            .staking()
            .nodeStatus(devnet.node(i).operator)
            .call()
            .await?;
        assert_eq!(status.bond, U256::from(FROST_PER_WAL), "node {i}'s bond");
    }

    // 1. Our registered-but-uncertified registration, long enough: reused, nothing paid.
    let a = test_bytes(30_000, 71);
    let reg = register_only(&me, &a, 3, false).await?;
    let balance = me.wal_balance().await?;
    let stored = me.store(a.clone(), &store_opts(2, false)).await?;
    assert_eq!(stored.outcome, StoreOutcome::ReusedRegistration);
    assert_eq!(stored.registration_id, reg.registration_id);
    assert_eq!(stored.end_epoch, epoch + 3);
    assert_eq!(actions(&stored), vec!["certify"]);
    assert_eq!(me.wal_balance().await?, balance, "the reuse paid");
    let record = me.chain().registration(reg.registration_id).await?;
    assert_eq!(record.state, RegistrationState::Certified);
    ensure!(
        me.read(&stored.blob_id).await? == a,
        "blob A read back wrong"
    );

    // 2. Ours, certified but too short: a new registration of ours, paid.
    let b = test_bytes(30_000, 72);
    let short = me.store(b.clone(), &store_opts(1, false)).await?;
    assert_eq!(short.outcome, StoreOutcome::NewlyCertified);
    let balance = me.wal_balance().await?;
    let longer = me.store(b.clone(), &store_opts(3, false)).await?;
    assert_eq!(longer.outcome, StoreOutcome::NewlyCertified);
    assert!(
        actions(&longer).contains(&"register"),
        "{:?}",
        longer.transactions
    );
    assert_ne!(longer.registration_id, short.registration_id);
    assert_eq!(longer.end_epoch, epoch + 3);
    assert!(
        me.wal_balance().await? < balance,
        "the longer store paid nothing"
    );
    let status = me.status(&longer.blob_id).await?;
    let mine: Vec<u64> = status.mine.iter().map(|r| r.registration_id).collect();
    assert_eq!(mine, vec![longer.registration_id, short.registration_id]);
    assert_eq!(status.certified_end_epoch, epoch + 3);
    // Asking again for what the longer one gives: nothing to do, it is named.
    let again = me.store(b, &store_opts(3, false)).await?;
    assert_eq!(again.outcome, StoreOutcome::AlreadyCertified);
    assert_eq!(again.registration_id, longer.registration_id);

    // 3. Someone else's deletable registration, certified and long: never counts.
    let c = test_bytes(30_000, 73);
    let hers = alice.store(c.clone(), &store_opts(5, true)).await?;
    assert_eq!(hers.outcome, StoreOutcome::NewlyCertified);
    let ours = me.store(c.clone(), &store_opts(2, false)).await?;
    assert_eq!(ours.outcome, StoreOutcome::NewlyCertified);
    assert_eq!(ours.owner, me.address());
    assert_ne!(ours.registration_id, hers.registration_id);
    assert!(!ours.deletable);

    // 4. Someone else's certified permanent registration covering the request: nothing paid,
    //    even for a deletable request; one that ends too early does not cover a longer request.
    let d = test_bytes(30_000, 74);
    let permanent = alice.store(d.clone(), &store_opts(5, false)).await?;
    let balance = me.wal_balance().await?;
    let covered = me.store(d.clone(), &store_opts(3, true)).await?;
    assert_eq!(covered.outcome, StoreOutcome::AlreadyCertified);
    assert_eq!(covered.registration_id, permanent.registration_id);
    assert_eq!(covered.owner, alice.address());
    assert!(!covered.deletable);
    assert_eq!(covered.end_epoch, epoch + 5);
    assert!(
        covered.transactions.is_empty(),
        "{:?}",
        covered.transactions
    );
    assert_eq!(me.wal_balance().await?, balance, "a covered store paid");
    let beyond = me.store(d.clone(), &store_opts(6, false)).await?;
    assert_eq!(beyond.outcome, StoreOutcome::NewlyCertified);
    assert_eq!(beyond.owner, me.address());
    assert_eq!(beyond.end_epoch, epoch + 6);
    ensure!(
        me.read(&beyond.blob_id).await? == d,
        "blob D read back wrong"
    );

    // Anyone may extend a permanent registration, not a deletable one of someone else's.
    let extended = me
        .extend(&permanent.blob_id, 1, Some(permanent.registration_id))
        .await?;
    assert_eq!(extended.end_epoch, epoch + 6);
    assert_eq!(
        alice
            .chain()
            .registration(permanent.registration_id)
            .await?
            .end_epoch,
        epoch + 6
    );
    match me
        .extend(&hers.blob_id, 1, Some(hers.registration_id))
        .await
    {
        Err(e @ floe_client::ClientError::CannotExtend { .. }) => {
            assert!(
                e.to_string().contains("only its owner may extend it"),
                "{e}"
            )
        }
        other => anyhow::bail!("extending Alice's deletable registration: {other:?}"),
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_squatters_deletable_registration_neither_blocks_nor_takes_our_blob() -> Result<()> {
    let devnet = start_devnet(4).await?;
    let bob = devnet.client().await?;
    let alice = funded_client(&devnet, devnet.node_count() + 1).await?;
    let epoch = bob.chain().current_epoch().await?;
    let data = test_bytes(200_000, 81);

    // Alice registers the blob first, deletable for one epoch, and uploads nothing.
    let squat = register_only(&alice, &data, 1, true).await?;

    // Bob stores it permanent for 5 epochs: his own registration, uploaded and certified.
    let stored = bob.store(data.clone(), &store_opts(5, false)).await?;
    assert_eq!(stored.outcome, StoreOutcome::NewlyCertified);
    assert_eq!(stored.blob_id, squat.blob_id);
    assert_ne!(stored.registration_id, squat.registration_id);
    assert_eq!(stored.owner, bob.address());
    assert_eq!(stored.end_epoch, epoch + 5);

    // Alice deletes hers: only hers.
    let deleted = alice.delete(&squat.blob_id, None).await?;
    assert_eq!(
        deleted
            .iter()
            .map(|d| d.registration_id)
            .collect::<Vec<_>>(),
        vec![squat.registration_id]
    );
    let chain = bob.chain();
    assert_eq!(
        chain.registration(squat.registration_id).await?.state,
        RegistrationState::Deleted
    );
    assert_eq!(
        chain.registration(stored.registration_id).await?.state,
        RegistrationState::Certified
    );
    let status = chain.blob_status(&stored.blob_id).await?;
    assert_eq!(status.registrations, 1);
    assert_eq!(status.end_epoch, epoch + 5);
    assert_eq!(status.certified_end_epoch, epoch + 5);
    assert_eq!(status.permanent_certified_end_epoch, epoch + 5);
    ensure!(
        bob.read(&stored.blob_id).await? == data,
        "Bob's blob read back wrong after Alice deleted hers"
    );

    // Past the end of Alice's registration, after the nodes' garbage collection ran: the
    // blob still lives by Bob's registration alone.
    let now = devnet.advance_epoch().await?;
    assert_eq!(now, epoch + 1);
    let status = chain.blob_status(&stored.blob_id).await?;
    assert_eq!(status.end_epoch, epoch + 5);
    assert_eq!(bob.status(&stored.blob_id).await?.state, "certified");
    ensure!(
        bob.read(&stored.blob_id).await? == data,
        "Bob's blob read back wrong in the next epoch"
    );
    Ok(())
}
