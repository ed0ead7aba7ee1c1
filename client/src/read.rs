//! The download half of a read: metadata from any node (verified against the blob id), then
//! primary slivers until `n-2f` of them verify.

use std::sync::Arc;

use floe_core::{
    encoding::{EncodingConfig, Sliver, SliverKind},
    ids::BlobId,
    metadata::BlobMetadata,
    wire::Wire,
};
use futures::{StreamExt, stream::FuturesUnordered};
use indicatif::ProgressBar;
use tokio::sync::Semaphore;

use crate::{client::Placement, error::ClientError, node_api::NodeClient};

/// Fetches metadata from the nodes in turn until one serves metadata matching `blob_id`.
pub(crate) async fn fetch_metadata(
    http: &reqwest::Client,
    placement: &Placement,
    cfg: &EncodingConfig,
    blob_id: &BlobId,
) -> Result<BlobMetadata, ClientError> {
    let mut failures = Vec::new();
    // Start at a node picked by the blob id, so readers spread over the committee.
    let members: Vec<_> = placement
        .members
        .iter()
        .filter(|m| !m.shards.is_empty())
        .collect();
    let start = usize::from(blob_id.0[31]) % members.len().max(1);
    for member in members.iter().cycle().skip(start).take(members.len()) {
        let node = NodeClient::new(http.clone(), &member.network_address);
        let bytes = match node.get_metadata(blob_id).await {
            Ok(b) => b,
            Err(e) => {
                failures.push(e.to_string());
                continue;
            }
        };
        match BlobMetadata::from_wire(&bytes) {
            Ok(m) => match m.verify(blob_id, cfg) {
                Ok(()) => return Ok(m),
                Err(e) => failures.push(format!(
                    "node {} sent wrong metadata: {e}",
                    member.network_address
                )),
            },
            Err(e) => failures.push(format!(
                "node {} sent undecodable metadata: {e}",
                member.network_address
            )),
        }
    }
    Err(ClientError::NoMetadata {
        blob_id: *blob_id,
        failures: failures.join("; "),
    })
}

/// Fetches primary slivers (systematic ones first) until `n-2f` verify against `metadata`.
pub(crate) async fn fetch_primaries(
    http: &reqwest::Client,
    limit: Arc<Semaphore>,
    placement: &Placement,
    cfg: &EncodingConfig,
    metadata: &BlobMetadata,
    blob_id: &BlobId,
    bar: &ProgressBar,
) -> Result<Vec<Sliver>, ClientError> {
    let n = placement.n_shards;
    let needed = usize::from(cfg.secondary_len());
    // Systematic pairs (0..n-2f) decode without Reed-Solomon; the others are the fallback.
    let mut order = (0..n).map(|pair| {
        (
            pair,
            placement.node_of_shard(blob_id.shard_for_pair(pair, n)),
        )
    });
    let mut got: Vec<Sliver> = Vec::with_capacity(needed);
    let mut failures: Vec<String> = Vec::new();
    let mut in_flight = FuturesUnordered::new();
    let parallel = needed.min(limit.available_permits().max(1));

    let shared = Arc::new((metadata.clone(), *cfg));
    let fetch = |pair: u16, address: Option<String>| {
        let http = http.clone();
        let limit = limit.clone();
        let shared = shared.clone();
        async move {
            let Some(address) = address else {
                return Err(format!("pair {pair}: no node holds its shard"));
            };
            let bytes = {
                let _permit = limit.acquire().await;
                NodeClient::new(http, &address)
                    .get_sliver(blob_id, pair, SliverKind::Primary)
                    .await
                    .map_err(|e| format!("pair {pair}: {e}"))?
            };
            // Decoding and verifying (expansion + Merkle tree) is CPU work: off the runtime.
            let check = move || {
                let sliver = Sliver::from_wire(&bytes)
                    .map_err(|e| format!("pair {pair} from {address}: undecodable: {e}"))?;
                if sliver.pair != pair || sliver.kind != SliverKind::Primary {
                    return Err(format!("pair {pair} from {address}: got another sliver"));
                }
                let (metadata, cfg) = &*shared;
                sliver
                    .verify(metadata, cfg)
                    .map_err(|e| format!("pair {pair} from {address}: does not verify: {e}"))?;
                Ok(sliver)
            };
            tokio::task::spawn_blocking(check)
                .await
                .map_err(|e| format!("pair {pair}: verification task failed: {e}"))?
        }
    };

    for _ in 0..parallel {
        if let Some((pair, address)) = order.next() {
            in_flight.push(fetch(pair, address));
        }
    }
    while let Some(result) = in_flight.next().await {
        match result {
            Ok(sliver) => {
                bar.inc(sliver.data.len() as u64);
                got.push(sliver);
                if got.len() >= needed {
                    break;
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "primary sliver fetch failed");
                failures.push(e);
            }
        }
        // Keep enough requests in flight to reach `needed`, never more than `parallel`.
        while in_flight.len() < parallel && got.len() + in_flight.len() < needed {
            match order.next() {
                Some((pair, address)) => in_flight.push(fetch(pair, address)),
                None => break,
            }
        }
    }
    if got.len() < needed {
        failures.truncate(8);
        return Err(ClientError::NotEnoughSlivers {
            blob_id: *blob_id,
            got: got.len(),
            needed,
            failures: failures.join("; "),
        });
    }
    Ok(got)
}
