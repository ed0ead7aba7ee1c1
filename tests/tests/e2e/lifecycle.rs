//! Delete, expiry and extension: after the epoch change the nodes drop deleted and expired
//! blobs, and reads say "deleted" / "expired"; an extended blob outlives its first end epoch.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use floe_chain::RegistrationState;
use floe_client::{ClientError, StoreOptions, node_api::NodeError};
use floe_core::encoding::SliverKind;
use floe_tests::{node_client, node_complete, start_devnet, test_bytes, wait_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_and_expired_blobs_are_gone_after_the_epoch_change() -> Result<()> {
    let devnet = start_devnet(4).await?;
    let client = devnet.client().await?;
    let epoch = client.chain().current_epoch().await?;

    let deletable = client
        .store(
            test_bytes(40_000, 41),
            &StoreOptions {
                epochs: 5,
                deletable: true,
                ..Default::default()
            },
        )
        .await?;
    let short = client
        .store(
            test_bytes(40_000, 42),
            &StoreOptions {
                epochs: 1,
                deletable: false,
                ..Default::default()
            },
        )
        .await?;
    let extended_data = test_bytes(40_000, 43);
    let extended = client
        .store(
            extended_data.clone(),
            &StoreOptions {
                epochs: 1,
                deletable: false,
                ..Default::default()
            },
        )
        .await?;
    assert_eq!(short.end_epoch, epoch + 1);
    for blob in [&deletable.blob_id, &short.blob_id, &extended.blob_id] {
        for i in 0..4 {
            wait_until(
                &format!("node {i} to hold {blob}"),
                Duration::from_secs(60),
                || async { node_complete(&devnet, i, blob).await.then_some(()) },
            )
            .await?;
        }
    }

    // A permanent blob cannot be deleted.
    match client.delete(&short.blob_id, None).await {
        Err(e @ ClientError::NotDeletable { .. }) => assert_eq!(
            e.to_string(),
            format!(
                "cannot delete blob {}: this wallet's live registrations of it ({}) are permanent (store with --deletable to be able to delete)",
                short.blob_id, short.registration_id
            )
        ),
        other => bail!("deleting a permanent blob: {other:?}"),
    }
    match client
        .delete(&short.blob_id, Some(short.registration_id))
        .await
    {
        Err(e @ ClientError::NotDeletable { .. }) => {
            assert!(e.to_string().contains("is permanent"), "{e}")
        }
        other => bail!("deleting a permanent registration by id: {other:?}"),
    }
    // A registration of another blob named for this one.
    match client
        .delete(&short.blob_id, Some(deletable.registration_id))
        .await
    {
        Err(ClientError::RegistrationOfAnotherBlob {
            registration_id,
            actual,
            ..
        }) => {
            assert_eq!(registration_id, deletable.registration_id);
            assert_eq!(actual, deletable.blob_id);
        }
        other => bail!("deleting another blob's registration: {other:?}"),
    }

    // Someone else cannot delete it.
    let mut other_config = client.config().clone();
    other_config.wallet_key = devnet
        .account_key(devnet.node_count() + 1)
        .context("a spare account")?
        .to_owned();
    let other = floe_client::Client::new(other_config).await?;
    match other.delete(&deletable.blob_id, None).await {
        Err(e @ ClientError::NotDeletable { .. }) => {
            assert!(e.to_string().contains("has no live registration"), "{e}")
        }
        other => bail!("deleting someone else's blob: {other:?}"),
    }
    match other
        .delete(&deletable.blob_id, Some(deletable.registration_id))
        .await
    {
        Err(e @ ClientError::NotDeletable { .. }) => {
            assert!(e.to_string().contains("belongs to"), "{e}")
        }
        other => bail!("deleting someone else's registration: {other:?}"),
    }

    // Delete: the chain says deleted at once, reads say so.
    let storage_id = client
        .chain()
        .registration(deletable.registration_id)
        .await?
        .storage_id;
    let deleted = client.delete(&deletable.blob_id, None).await?;
    assert_eq!(
        deleted
            .iter()
            .map(|d| d.registration_id)
            .collect::<Vec<_>>(),
        vec![deletable.registration_id]
    );
    // Its storage is free again and still the owner's.
    let storage = client
        .chain()
        .registry()
        .storageResource(storage_id)
        .call()
        .await?;
    assert_eq!(storage.owner, client.address());
    assert_eq!(storage.usedBy, alloy::primitives::U256::ZERO);
    assert_eq!(
        client
            .chain()
            .registration(deletable.registration_id)
            .await?
            .state,
        RegistrationState::Deleted
    );
    assert_eq!(client.status(&deletable.blob_id).await?.state, "deleted");
    match client.read(&deletable.blob_id).await {
        Err(e @ ClientError::BlobDeleted(_)) => assert!(e.to_string().contains("deleted")),
        other => bail!("reading a deleted blob: {:?}", other.map(|d| d.len())),
    }

    // Extend one of the two short blobs by 2 epochs.
    let ext = client.extend(&extended.blob_id, 2, None).await?;
    assert_eq!(ext.registration_id, extended.registration_id);
    assert_eq!(ext.end_epoch, epoch + 3);
    assert_eq!(client.status(&extended.blob_id).await?.end_epoch, epoch + 3);
    assert_eq!(
        client
            .chain()
            .registration(extended.registration_id)
            .await?
            .end_epoch,
        epoch + 3
    );

    // Next epoch: the short blob expires.
    let now = devnet.advance_epoch().await?;
    assert_eq!(now, epoch + 1);
    assert_eq!(client.status(&short.blob_id).await?.state, "expired");
    match client.read(&short.blob_id).await {
        Err(e @ ClientError::BlobExpired { .. }) => assert!(e.to_string().contains("expired")),
        other => bail!("reading an expired blob: {:?}", other.map(|d| d.len())),
    }

    // The nodes garbage-collect both at the epoch change: no metadata, no slivers.
    let committee = client.chain().committee(now).await?;
    for i in 0..4 {
        let node = node_client(&devnet, i)?;
        for blob in [&deletable.blob_id, &short.blob_id] {
            let pair = committee.pairs_of(devnet.node(i).operator, blob)[0];
            wait_until(&format!("node {i} to drop {blob}"), Duration::from_secs(60), || async {
                let gone = |r: Result<Vec<u8>, NodeError>| matches!(r, Err(e) if matches!(e.status(), Some(404 | 410)));
                // Only an error answer counts, so the size caps do not matter here.
                let gone = gone(node.get_metadata(blob, committee.n_shards).await)
                    && gone(node.get_sliver(blob, pair, SliverKind::Primary, 1 << 20).await)
                    && gone(node.get_sliver(blob, pair, SliverKind::Secondary, 1 << 20).await);
                let held = node
                    .blob_status(blob)
                    .await
                    .map(|s| s.pairs_held.len())
                    .unwrap_or(0);
                (gone && held == 0).then_some(())
            })
            .await?;
        }
    }

    // The extended blob is still certified and reads back.
    assert_eq!(client.status(&extended.blob_id).await?.state, "certified");
    ensure!(
        client.read(&extended.blob_id).await? == extended_data,
        "extended blob read back wrong"
    );
    Ok(())
}
