//! A store across an epoch change: the epoch moves on while the client uploads, so the
//! confirmations it gathered are for an epoch that ended; it reads the new committee, uploads
//! to the new shard holders and certifies in the new epoch, on the same registration.

use std::{sync::Arc, time::Duration};

use anyhow::{Context, Result, ensure};
use floe_chain::RegistrationState;
use floe_client::{StoreOptions, StoreOutcome, units::FROST_PER_WAL};
use floe_tests::{node_complete, start_devnet, test_bytes, wait_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_interrupted_by_an_epoch_change_certifies_on_the_new_committee() -> Result<()> {
    let mut devnet = start_devnet(4).await?;
    let client = devnet.client().await?;
    let epoch = client.chain().current_epoch().await?;

    // From the next epoch on, nodes 2 and 3 hold most shards (stake 21000 WAL each vs 1000).
    let big =
        alloy::primitives::U256::from(20_000u64) * alloy::primitives::U256::from(FROST_PER_WAL);
    for i in [2, 3] {
        client.stake(devnet.node(i).operator, big).await?;
    }
    // In this epoch, nodes 2 and 3 hold half the shards: with 0 and 1 down, no quorum.
    devnet.stop_node(0);
    devnet.stop_node(1);

    // The store runs from a wallet of its own: the devnet advances epochs from the deployer's
    // (the default client's), and two senders on one account would race for its nonces.
    let mut config = devnet.client_config().clone();
    config.wallet_key = devnet
        .account_key(9)
        .context("anvil's dev account 9")?
        .to_owned();
    let writer = floe_client::Client::new(config).await?;
    writer.faucet(big).await?;

    let data = test_bytes(300_000, 21);
    let blob_id = client.encode(Arc::new(data.clone())).await?.blob_id;
    let store = tokio::spawn({
        let client = writer.clone();
        let data = data.clone();
        async move {
            client
                .store(
                    data,
                    &StoreOptions {
                        epochs: 3,
                        deletable: false,
                        ..Default::default()
                    },
                )
                .await
        }
    });

    // Nodes 2 and 3 got everything of this epoch; then the epoch changes under the store.
    wait_until(
        "nodes 2 and 3 to hold the blob",
        Duration::from_secs(30),
        || async {
            (node_complete(&devnet, 2, &blob_id).await && node_complete(&devnet, 3, &blob_id).await)
                .then_some(())
        },
    )
    .await?;
    ensure!(
        !store.is_finished(),
        "the store ended before the epoch change"
    );
    let next = devnet.advance_epoch().await?;
    assert_eq!(next, epoch + 1);
    let committee = client.chain().committee(next).await?;
    let held: u64 = [2, 3]
        .iter()
        .map(|&i| committee.shards_of(devnet.node(i).operator).len() as u64)
        .sum();
    ensure!(
        committee.is_quorum(held),
        "nodes 2 and 3 hold only {held} shards in epoch {next}: the test needs a quorum"
    );

    let stored = store.await.context("store task")??;
    assert_eq!(stored.blob_id, blob_id);
    assert_eq!(stored.outcome, StoreOutcome::NewlyCertified);
    assert_eq!(stored.confirmed_shards, held);
    let record = client.chain().registration(stored.registration_id).await?;
    assert_eq!(record.blob_id, blob_id);
    assert_eq!(record.state, RegistrationState::Certified);
    assert_eq!(record.certified_epoch, next);
    ensure!(
        client.read(&blob_id).await? == data,
        "read after the epoch change returned other bytes"
    );
    Ok(())
}
