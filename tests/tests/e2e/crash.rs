//! Crash safety: a node killed with SIGKILL in the middle of an upload, and in the middle of
//! recovering a blob it missed, comes back with every sliver it had acknowledged, serves only
//! slivers that verify against the metadata (nothing half-written), and catches up until it
//! holds all its slivers.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use anyhow::{Context, Result, bail, ensure};
use floe_client::{StoreOptions, StoreOutcome};
use floe_core::{
    encoding::{EncodedBlob, EncodingConfig, Sliver, SliverKind},
    ids::BlobId,
    wire::Wire,
};
use floe_devnet::Devnet;
use floe_tests::{node_blob_status, node_client, start_devnet, test_bytes, wait_until};

const CRASHED: usize = 3;

/// Fetches every sliver of `blob` that node `i` owes (its pairs in the current committee) and
/// checks each one it serves: it verifies against the metadata and is exactly the encoder's.
/// Pairs in `must_hold` must be served whole. Returns the pairs served whole.
async fn check_served(
    devnet: &Devnet,
    i: usize,
    cfg: &EncodingConfig,
    blob: &EncodedBlob,
    must_hold: &BTreeSet<u16>,
) -> Result<BTreeSet<u16>> {
    let chain = devnet.chain().await?;
    let committee = chain.committee(chain.current_epoch().await?).await?;
    let node = node_client(devnet, i)?;
    let id = &blob.blob_id;
    match node.get_metadata(id, committee.n_shards).await {
        Ok(wire) => ensure!(
            wire == blob.metadata.to_wire(),
            "node {i} serves metadata other than the blob's"
        ),
        Err(e) if matches!(e.status(), Some(404 | 409)) => {
            ensure!(must_hold.is_empty(), "node {i} lost the metadata: {e}")
        }
        Err(e) => bail!("node {i} metadata: {e}"),
    }
    let mut whole = BTreeSet::new();
    for pair in committee.pairs_of(devnet.node(i).operator, id) {
        let mut served = 0;
        for kind in [SliverKind::Primary, SliverKind::Secondary] {
            let expected = match kind {
                SliverKind::Primary => &blob.pairs[usize::from(pair)].primary,
                SliverKind::Secondary => &blob.pairs[usize::from(pair)].secondary,
            };
            // The cap is the sliver's exact size: a longer answer is an error too.
            let max = expected.to_wire().len() as u64;
            match node.get_sliver(id, pair, kind, max).await {
                Ok(wire) => {
                    let sliver = Sliver::from_wire(&wire)
                        .with_context(|| format!("node {i} serves a malformed {kind} {pair}"))?;
                    sliver.verify(&blob.metadata, cfg).with_context(|| {
                        format!("node {i} serves {kind} sliver {pair} that does not verify")
                    })?;
                    ensure!(
                        &sliver == expected,
                        "node {i} serves {kind} sliver {pair} other than the encoder's"
                    );
                    served += 1;
                }
                Err(e) if matches!(e.status(), Some(404 | 409)) => ensure!(
                    !must_hold.contains(&pair),
                    "node {i} lost {kind} sliver {pair}, which it held before the crash: {e}"
                ),
                Err(e) => bail!("node {i} {kind} sliver {pair}: {e}"),
            }
        }
        if served == 2 {
            whole.insert(pair);
        }
    }
    Ok(whole)
}

/// The pairs node `i` reports holding whole, and whether it holds all it owes.
async fn held(devnet: &Devnet, i: usize, id: &BlobId) -> Option<(BTreeSet<u16>, bool)> {
    node_blob_status(devnet, i, id)
        .await
        .map(|s| (s.pairs_held.into_iter().collect(), s.complete))
}

/// After a crash and restart: every acknowledged pair is still served whole, every served
/// sliver verifies, and the node catches up to a complete blob.
async fn restart_and_check(
    devnet: &mut Devnet,
    cfg: &EncodingConfig,
    blob: &EncodedBlob,
    acknowledged: &BTreeSet<u16>,
) -> Result<()> {
    devnet.start_node(CRASHED).await?;
    // At once, before it could rebuild anything: what it had is there, nothing is half-written.
    let whole = check_served(devnet, CRASHED, cfg, blob, acknowledged).await?;
    ensure!(
        whole.is_superset(acknowledged),
        "after the restart node {CRASHED} serves whole only {whole:?} of the acknowledged {acknowledged:?}"
    );
    // It catches up.
    wait_until(
        "the restarted node to hold all its slivers",
        Duration::from_secs(120),
        || async {
            held(devnet, CRASHED, &blob.blob_id)
                .await
                .and_then(|(_, complete)| complete.then_some(()))
        },
    )
    .await?;
    let expected: BTreeSet<u16> = {
        let chain = devnet.chain().await?;
        let committee = chain.committee(chain.current_epoch().await?).await?;
        committee
            .pairs_of(devnet.node(CRASHED).operator, &blob.blob_id)
            .into_iter()
            .collect()
    };
    let whole = check_served(devnet, CRASHED, cfg, blob, &expected).await?;
    ensure!(
        whole == expected,
        "complete, yet serves {whole:?} of {expected:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_during_an_upload_keeps_what_it_acknowledged_and_catches_up() -> Result<()> {
    let mut devnet = start_devnet(4).await?;
    let client = devnet.client().await?;
    let cfg = EncodingConfig::new(100)?;
    let data = test_bytes(16 << 20, 91);
    let blob = Arc::new(cfg.encode(&data)?);
    let id = blob.blob_id;

    let store = tokio::spawn({
        let client = client.clone();
        let data = data.clone();
        async move {
            client
                .store(
                    data,
                    &StoreOptions {
                        epochs: 2,
                        deletable: false,
                        ..Default::default()
                    },
                )
                .await
        }
    });
    // Kill the node as soon as it holds some pair of the blob, while the store is in flight.
    let acknowledged = wait_until(
        "the node to receive its first pair",
        Duration::from_secs(120),
        || async {
            held(&devnet, CRASHED, &id)
                .await
                .and_then(|(pairs, _)| (!pairs.is_empty()).then_some(pairs))
        },
    )
    .await?;
    ensure!(
        !store.is_finished(),
        "the store ended before the node could be killed"
    );
    devnet.kill_node(CRASHED);

    // The store certifies with the other nodes' shards.
    let stored = store.await.context("store task")??;
    assert_eq!(stored.outcome, StoreOutcome::NewlyCertified);
    assert_eq!(stored.blob_id, id);

    restart_and_check(&mut devnet, &cfg, &blob, &acknowledged).await?;
    ensure!(client.read(&id).await? == data, "read back wrong");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_during_recovery_serves_only_verified_slivers_and_catches_up() -> Result<()> {
    let mut devnet = start_devnet(4).await?;
    let client = devnet.client().await?;
    let cfg = EncodingConfig::new(100)?;

    // The node misses the store: it must recover its slivers from its peers when it starts.
    devnet.stop_node(CRASHED);
    let data = test_bytes(16 << 20, 92);
    let blob = cfg.encode(&data)?;
    let stored = client
        .store(
            data.clone(),
            &StoreOptions {
                epochs: 2,
                deletable: false,
                ..Default::default()
            },
        )
        .await?;
    assert_eq!(stored.blob_id, blob.blob_id);
    let id = blob.blob_id;

    devnet.start_node(CRASHED).await?;
    // Kill it in the middle of recovery: some pairs rebuilt, not all.
    let acknowledged = wait_until(
        "the node to rebuild its first pair",
        Duration::from_secs(120),
        || async {
            held(&devnet, CRASHED, &id)
                .await
                .and_then(|(pairs, _)| (!pairs.is_empty()).then_some(pairs))
        },
    )
    .await?;
    let complete = held(&devnet, CRASHED, &id).await.is_some_and(|(_, c)| c);
    devnet.kill_node(CRASHED);
    ensure!(
        !complete,
        "the node finished recovering before it could be killed (acknowledged {acknowledged:?})"
    );

    restart_and_check(&mut devnet, &cfg, &blob, &acknowledged).await?;
    // With another node down, the recovered slivers serve reads.
    devnet.stop_node(0);
    ensure!(client.read(&id).await? == data, "read back wrong");
    Ok(())
}
