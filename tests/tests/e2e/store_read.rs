//! Store and read back byte for byte; the chain says certified; storing again pays nothing.

use anyhow::{Result, ensure};
use floe_chain::RegistrationState;
use floe_client::{StoreOptions, StoreOutcome};
use floe_tests::{node_complete, start_devnet, test_bytes, wait_until};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn store_and_read_back_byte_for_byte() -> Result<()> {
    let devnet = start_devnet(4).await?;
    let client = devnet.client().await?;
    let opts = StoreOptions {
        epochs: 2,
        deletable: false,
        ..Default::default()
    };

    // Empty, 1 byte, 1 MiB, an odd size, 64 MiB.
    for (len, seed) in [
        (0usize, 0u64),
        (1, 1),
        (1 << 20, 2),
        (1_234_567, 3),
        (64 << 20, 4),
    ] {
        let data = test_bytes(len, seed);
        let stored = client.store(data.clone(), &opts).await?;
        assert_eq!(stored.outcome, StoreOutcome::NewlyCertified, "size {len}");
        assert_eq!(stored.size, len as u64);
        let actions: Vec<&str> = stored.transactions.iter().map(|t| t.action).collect();
        assert!(
            actions.ends_with(&["register", "certify"]),
            "size {len}: transactions {actions:?}"
        );

        // On-chain: the registration is certified, ours, with the right size and end epoch,
        // and the blob's status over all registrations says so too.
        let record = client.chain().registration(stored.registration_id).await?;
        assert_eq!(record.state, RegistrationState::Certified, "size {len}");
        assert_eq!(record.blob_id, stored.blob_id);
        assert_eq!(record.size, len as u64);
        assert_eq!(record.owner, client.address());
        assert!(!record.deletable);
        assert_eq!(record.end_epoch, stored.end_epoch);
        let chain_status = client.chain().blob_status(&stored.blob_id).await?;
        assert_eq!(chain_status.certified_end_epoch, stored.end_epoch);
        assert_eq!(chain_status.permanent_certified_end_epoch, stored.end_epoch);
        let status = client.status(&stored.blob_id).await?;
        assert_eq!(status.state, "certified");
        assert_eq!(status.mine.len(), 1);
        assert_eq!(status.mine[0].registration_id, stored.registration_id);

        let back = client.read(&stored.blob_id).await?;
        ensure!(
            back.len() == data.len(),
            "size {len}: read {} bytes",
            back.len()
        );
        ensure!(
            back == data,
            "size {len}: the bytes read back differ from the bytes stored"
        );
    }

    // Every node ends up holding all of its slivers of a certified blob.
    let data = test_bytes(100_000, 5);
    let stored = client.store(data.clone(), &opts).await?;
    for i in 0..devnet.node_count() {
        wait_until(
            &format!("node {i} to hold all its slivers"),
            Duration::from_secs(60),
            || async {
                node_complete(&devnet, i, &stored.blob_id)
                    .await
                    .then_some(())
            },
        )
        .await?;
    }

    // Storing the same bytes again: already certified, nothing paid, nothing sent.
    let balance = client.wal_balance().await?;
    let again = client.store(data, &opts).await?;
    assert_eq!(again.outcome, StoreOutcome::AlreadyCertified);
    assert_eq!(again.blob_id, stored.blob_id);
    assert_eq!(again.registration_id, stored.registration_id);
    assert!(again.transactions.is_empty(), "{:?}", again.transactions);
    assert_eq!(client.wal_balance().await?, balance);
    Ok(())
}
