//! Bad uploads: metadata of an unregistered blob, metadata not matching the blob id, a
//! corrupted sliver, a sliver of a shard the node does not hold, an oversize body. Each is a
//! 4xx and changes nothing on the node.

use anyhow::{Context, Result};
use floe_core::{
    encoding::{EncodingConfig, Sliver, SliverKind},
    ids::ENCODING_RED_STUFF,
    protocol::BlobStatus,
    wire::Wire,
};
use floe_tests::{node_blob_status, start_devnet, test_bytes};

async fn put(http: &reqwest::Client, url: String, body: Vec<u8>) -> Result<u16> {
    let resp = http
        .put(&url)
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .with_context(|| format!("PUT {url}"))?;
    Ok(resp.status().as_u16())
}

async fn get_status(http: &reqwest::Client, url: String) -> Result<u16> {
    Ok(http
        .get(&url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?
        .status()
        .as_u16())
}

fn pairs_held(status: &Option<BlobStatus>) -> Vec<u16> {
    status
        .as_ref()
        .map(|s| s.pairs_held.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_are_rejected_with_4xx_and_change_nothing() -> Result<()> {
    let devnet = start_devnet(4).await?;
    let client = devnet.client().await?;
    let chain = client.chain();
    let http = reqwest::Client::builder().no_proxy().build()?;
    let base = format!("http://{}", devnet.node_address(0));
    let cfg = EncodingConfig::new(100)?;

    // A blob registered on-chain (nothing uploaded yet), and one never registered.
    let blob = cfg.encode(&test_bytes(50_000, 31))?;
    let size = 50_000u64;
    let cost = chain
        .storage_cost(chain.encoded_size(size).await?, 2)
        .await?;
    chain.ensure_registry_allowance(cost.total()).await?;
    let reg = chain
        .register_blob_with_new_storage(blob.metadata.root(), size, ENCODING_RED_STUFF, false, 2)
        .await?;
    assert_eq!(reg.blob_id, blob.blob_id);
    let id = blob.blob_id;
    let unregistered = cfg.encode(&test_bytes(50_000, 32))?;

    // Metadata of an unregistered blob: 404, and the node knows nothing of it afterwards.
    let code = put(
        &http,
        format!("{base}/v1/blobs/{}/metadata", unregistered.blob_id),
        unregistered.metadata.to_wire(),
    )
    .await?;
    assert_eq!(code, 404, "metadata for an unregistered blob");
    let code = get_status(
        &http,
        format!("{base}/v1/blobs/{}/metadata", unregistered.blob_id),
    )
    .await?;
    assert_eq!(code, 404);

    // Metadata that does not hash to the (registered) blob id: 4xx, nothing stored.
    let code = put(
        &http,
        format!("{base}/v1/blobs/{id}/metadata"),
        unregistered.metadata.to_wire(),
    )
    .await?;
    assert!(
        (400..500).contains(&code),
        "foreign metadata answered {code}"
    );
    assert_eq!(
        get_status(&http, format!("{base}/v1/blobs/{id}/metadata")).await?,
        404
    );

    // Oversize body (metadata limit 1 MiB): 413, nothing stored.
    let code = put(
        &http,
        format!("{base}/v1/blobs/{id}/metadata"),
        vec![0u8; (1 << 20) + 1],
    )
    .await?;
    assert_eq!(code, 413, "oversize metadata");
    assert_eq!(
        get_status(&http, format!("{base}/v1/blobs/{id}/metadata")).await?,
        404
    );

    // The right metadata is accepted.
    assert_eq!(
        put(
            &http,
            format!("{base}/v1/blobs/{id}/metadata"),
            blob.metadata.to_wire()
        )
        .await?,
        200
    );

    // A pair node 0 holds, and one it does not.
    let committee = chain.committee(chain.current_epoch().await?).await?;
    let node0 = devnet.node(0).operator;
    let mine = committee.pairs_of(node0, &id);
    let pair = *mine.first().context("node 0 holds no shard")?;
    let other = (0..100u16)
        .find(|p| !mine.contains(p))
        .context("node 0 holds every shard")?;
    let before = node_blob_status(&devnet, 0, &id).await;
    assert!(pairs_held(&before).is_empty());

    // A corrupted sliver: one flipped bit. Rejected, not stored.
    let mut bad = blob.pairs[usize::from(pair)].primary.clone();
    bad.data[0] ^= 1;
    let url = format!("{base}/v1/blobs/{id}/slivers/{pair}/primary");
    let code = put(&http, url.clone(), bad.to_wire()).await?;
    assert!(
        (400..500).contains(&code),
        "corrupted sliver answered {code}"
    );
    assert_eq!(
        get_status(&http, url.clone()).await?,
        404,
        "the corrupted sliver was stored"
    );

    // Garbage instead of a sliver.
    let code = put(&http, url.clone(), vec![0xff; 100]).await?;
    assert!((400..500).contains(&code), "garbage sliver answered {code}");

    // A sliver of a shard node 0 does not hold.
    let foreign = &blob.pairs[usize::from(other)].primary;
    let code = put(
        &http,
        format!("{base}/v1/blobs/{id}/slivers/{other}/primary"),
        foreign.to_wire(),
    )
    .await?;
    assert!(
        (400..500).contains(&code),
        "sliver of another node's shard answered {code}"
    );

    // Nothing changed.
    let after = node_blob_status(&devnet, 0, &id).await;
    assert_eq!(pairs_held(&after), pairs_held(&before));
    assert_eq!(after.as_ref().map(|s| s.complete), Some(false));

    // The genuine sliver pair is accepted (so the rejections above were about the bodies).
    let genuine = &blob.pairs[usize::from(pair)];
    assert_eq!(
        put(&http, url.clone(), genuine.primary.to_wire()).await?,
        200
    );
    let code = put(
        &http,
        format!("{base}/v1/blobs/{id}/slivers/{pair}/secondary"),
        genuine.secondary.to_wire(),
    )
    .await?;
    assert_eq!(code, 200);
    assert!(pairs_held(&node_blob_status(&devnet, 0, &id).await).contains(&pair));
    let served = floe_tests::node_client(&devnet, 0)?
        .get_sliver(
            &id,
            pair,
            SliverKind::Primary,
            genuine.primary.to_wire().len() as u64,
        )
        .await?;
    assert_eq!(Sliver::from_wire(&served)?, genuine.primary);
    Ok(())
}
