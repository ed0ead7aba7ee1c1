//! The download half of a read: metadata from any node (verified against the blob id), then
//! primary slivers until `n-2f` of them verify.

use std::sync::Arc;

use floe_chain::Committee;
use floe_core::{
    encoding::{EncodingConfig, Sliver, SliverKind},
    ids::BlobId,
    metadata::BlobMetadata,
    protocol::limits::sliver_wire_len,
    wire::Wire,
};
use futures::{StreamExt, stream::FuturesUnordered};
use indicatif::ProgressBar;
use tokio::sync::Semaphore;

use crate::{error::ClientError, node_api::NodeHttp};

/// Fetches metadata from the nodes in turn until one serves metadata matching `blob_id`; a
/// node that fails, or sends more than metadata for `n` shards can be, is skipped.
pub(crate) async fn fetch_metadata(
    nodes: &NodeHttp,
    committee: &Committee,
    cfg: &EncodingConfig,
    blob_id: &BlobId,
) -> Result<BlobMetadata, ClientError> {
    let mut failures = Vec::new();
    // Start at a node picked by the blob id, so readers spread over the committee.
    let members: Vec<_> = committee
        .members
        .iter()
        .filter(|m| !m.shards.is_empty())
        .collect();
    let start = usize::from(blob_id.0[31]) % members.len().max(1);
    for member in members.iter().cycle().skip(start).take(members.len()) {
        let node = nodes.node(&member.network_address);
        let bytes = match node.get_metadata(blob_id, cfg.n_shards()).await {
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

/// Fetches primary slivers (systematic ones first) until `n-2f` verify against `metadata`; a
/// sliver that fails, or is larger than the metadata's symbol size allows, is replaced by
/// another pair's (from another node).
pub(crate) async fn fetch_primaries(
    nodes: &NodeHttp,
    limit: Arc<Semaphore>,
    committee: &Committee,
    cfg: &EncodingConfig,
    metadata: &BlobMetadata,
    blob_id: &BlobId,
    bar: &ProgressBar,
) -> Result<Vec<Sliver>, ClientError> {
    let n = committee.n_shards;
    let needed = usize::from(cfg.secondary_len());
    let symbol_size = metadata.symbol_size(cfg).map_err(|e| ClientError::Decode {
        blob_id: *blob_id,
        message: e.to_string(),
    })?;
    let max_bytes = sliver_wire_len(symbol_size, cfg.primary_len());
    // Systematic pairs (0..n-2f) decode without Reed-Solomon; the others are the fallback.
    let mut order = (0..n).map(|pair| {
        (
            pair,
            committee
                .holder_of_pair(blob_id, pair)
                .map(|m| m.network_address.clone()),
        )
    });
    let mut got: Vec<Sliver> = Vec::with_capacity(needed);
    let mut failures: Vec<String> = Vec::new();
    let mut in_flight = FuturesUnordered::new();
    let parallel = needed.min(limit.available_permits().max(1));

    let shared = Arc::new((metadata.clone(), *cfg));
    let fetch = |pair: u16, address: Option<String>| {
        let limit = limit.clone();
        let shared = shared.clone();
        async move {
            let Some(address) = address else {
                return Err(format!("pair {pair}: no node holds its shard"));
            };
            let bytes = {
                let _permit = limit.acquire().await;
                nodes
                    .node(&address)
                    .get_sliver(blob_id, pair, SliverKind::Primary, max_bytes)
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use floe_core::encoding::EncodedBlob;

    use super::*;
    use crate::config::RequestTimeout;

    fn nodes_http() -> NodeHttp {
        NodeHttp {
            http: reqwest::Client::new(),
            timeout: RequestTimeout::default(),
        }
    }
    use crate::fake_node::{FakeNode, Serve, committee, seed};

    fn encoded(cfg: &EncodingConfig) -> EncodedBlob {
        let data: Vec<u8> = (0..4000u32).map(|i| (i * 13 % 256) as u8).collect();
        cfg.encode(&data).expect("encode")
    }

    async fn nodes(count: u8) -> Vec<FakeNode> {
        let epoch = Arc::new(AtomicU32::new(1));
        let mut out = Vec::new();
        for s in 1..=count {
            out.push(FakeNode::start(s, epoch.clone()).await);
        }
        out
    }

    #[tokio::test]
    async fn metadata_reads_skip_a_node_sending_too_much() {
        let cfg = EncodingConfig::new(4).expect("n = 4");
        let blob = encoded(&cfg);
        let nodes = nodes(2).await;
        let c = committee(1, &nodes, vec![0, 1, 0, 1]);
        seed(&c, &blob).await;
        // The node asked first sends an endless body.
        let first = usize::from(blob.blob_id.0[31]) % 2;
        *nodes[first].state.serve.lock().expect("lock") = Serve::Endless;
        let http = nodes_http();
        let m = fetch_metadata(&http, &c, &cfg, &blob.blob_id)
            .await
            .expect("metadata from the other node");
        assert_eq!(m, blob.metadata);
        assert_eq!(nodes[first].state.gets.load(Ordering::SeqCst), 1);

        // With both hostile, the error names them.
        *nodes[1 - first].state.serve.lock().expect("lock") = Serve::Announced(1 << 20);
        match fetch_metadata(&http, &c, &cfg, &blob.blob_id).await {
            Err(ClientError::NoMetadata { failures, .. }) => {
                for node in &nodes {
                    assert!(
                        failures.contains(&format!("node {} sent a metadata larger", node.address)),
                        "{failures}"
                    );
                }
            }
            other => panic!("expected NoMetadata, got {:?}", other.map(|_| ())),
        }
    }

    #[tokio::test]
    async fn sliver_reads_replace_an_oversized_sliver_with_another_nodes() {
        let cfg = EncodingConfig::new(4).expect("n = 4");
        let blob = encoded(&cfg);
        let nodes = nodes(4).await;
        let c = committee(1, &nodes, vec![0, 1, 2, 3]);
        seed(&c, &blob).await;
        // The holder of pair 0 (asked first) sends one byte more than a primary sliver has.
        let exact = sliver_wire_len(blob.pairs[0].primary.symbol_size, cfg.primary_len());
        let hostile = usize::from(blob.blob_id.shard_for_pair(0, 4));
        *nodes[hostile].state.serve.lock().expect("lock") =
            Serve::Announced(usize::try_from(exact + 1).expect("small"));
        let slivers = fetch_primaries(
            &nodes_http(),
            Arc::new(Semaphore::new(8)),
            &c,
            &cfg,
            &blob.metadata,
            &blob.blob_id,
            &ProgressBar::hidden(),
        )
        .await
        .expect("enough primaries from the others");
        assert_eq!(slivers.len(), usize::from(cfg.secondary_len()));
        assert!(slivers.iter().all(|s| s.pair != 0));
        assert_eq!(nodes[hostile].state.gets.load(Ordering::SeqCst), 1);
        let data = cfg
            .decode_and_verify(&blob.metadata, slivers)
            .expect("decodes");
        assert_eq!(
            data,
            (0..4000u32)
                .map(|i| (i * 13 % 256) as u8)
                .collect::<Vec<_>>()
        );
    }
}
