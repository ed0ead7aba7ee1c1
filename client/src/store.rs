//! The upload half of a store: metadata and sliver pairs to every shard's node, in parallel
//! with retries, then confirmations until nodes holding a quorum of shards signed.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use floe_core::{
    bls::{CertificateBuilder, Quorum, Signature},
    encoding::{EncodedBlob, SliverKind},
    ids::BlobId,
    messages::certify_message,
    wire::Wire,
};
use futures::{StreamExt, stream::FuturesUnordered};
use indicatif::ProgressBar;
use tokio::{sync::Semaphore, time::Instant};

use crate::{
    client::Placement,
    node_api::{NodeClient, NodeError, retry},
};

/// What the upload needs to know besides the blob.
#[derive(Debug, Clone)]
pub(crate) struct UploadParams {
    /// The chain id (bound into confirmations).
    pub chain_id: u64,
    /// The blob registry (bound into confirmations).
    pub registry: [u8; 20],
    /// The registration's deletable flag (bound into confirmations).
    pub deletable: bool,
    /// When to give up retrying.
    pub deadline: Instant,
    /// How long to keep collecting confirmations after a quorum.
    pub extra: Duration,
}

/// The confirmations collected for one blob.
#[derive(Debug)]
pub(crate) struct Confirmations {
    /// Members that confirmed, with their signature, keyed by committee index.
    pub signatures: BTreeMap<usize, Signature>,
    /// Shards held by the members that confirmed.
    pub weight: u64,
    /// One line per node that failed.
    pub failures: Vec<String>,
}

impl Confirmations {
    /// Aggregates the signatures into a certificate.
    pub(crate) fn certificate(
        &self,
        epoch: u32,
        committee_size: usize,
    ) -> Result<floe_core::bls::Certificate, String> {
        let mut builder = CertificateBuilder::new(epoch, committee_size);
        for (index, sig) in &self.signatures {
            builder.add(*index, *sig).map_err(|e| e.to_string())?;
        }
        builder.finish().map_err(|e| e.to_string())
    }
}

/// Uploads `blob` to the nodes of `placement` and collects their confirmations.
pub(crate) async fn upload_and_confirm(
    http: &reqwest::Client,
    limit: Arc<Semaphore>,
    placement: &Placement,
    blob: Arc<EncodedBlob>,
    params: &UploadParams,
    bar: &ProgressBar,
) -> Confirmations {
    let n = placement.n_shards;
    let blob_id = blob.blob_id;
    let metadata_wire: Arc<Vec<u8>> = Arc::new(blob.metadata.to_wire());
    let message = certify_message(
        params.chain_id,
        params.registry,
        placement.epoch,
        &[(blob_id.0, params.deletable)],
    );

    let mut tasks = FuturesUnordered::new();
    for (index, member) in placement.members.iter().enumerate() {
        if member.shards.is_empty() {
            continue;
        }
        let pairs: Vec<u16> = member
            .shards
            .iter()
            .map(|s| blob_id.pair_for_shard(*s, n))
            .collect();
        let node = NodeClient::new(http.clone(), &member.network_address);
        let blob = blob.clone();
        let metadata_wire = metadata_wire.clone();
        let limit = limit.clone();
        let public_key = member.public_key;
        let deadline = params.deadline;
        let bar = bar.clone();
        let weight = member.shards.len() as u64;
        let epoch = placement.epoch;
        tasks.push(async move {
            let result = async {
                store_on_node(
                    &node,
                    &limit,
                    &blob_id,
                    &metadata_wire,
                    &blob,
                    &pairs,
                    deadline,
                    &bar,
                )
                .await?;
                let conf = retry(deadline, || async {
                    let c = node.confirmation(&blob_id).await?;
                    if c.epoch != epoch {
                        return Err(NodeError::Status {
                            node: node.address().to_owned(),
                            status: 409,
                            message: format!(
                                "confirmation for epoch {} instead of the current one",
                                c.epoch
                            ),
                        });
                    }
                    Ok(c)
                })
                .await?;
                let sig =
                    Signature::from_hex(&conf.signature).map_err(|e| NodeError::BadResponse {
                        node: node.address().to_owned(),
                        message: format!("bad confirmation signature: {e}"),
                    })?;
                sig.verify(&public_key, &message)
                    .map_err(|e| NodeError::BadResponse {
                        node: node.address().to_owned(),
                        message: format!("confirmation signature does not verify: {e}"),
                    })?;
                Ok::<_, NodeError>(sig)
            }
            .await;
            (index, weight, result)
        });
    }

    let mut out = Confirmations {
        signatures: BTreeMap::new(),
        weight: 0,
        failures: Vec::new(),
    };
    let mut quorum_at: Option<Instant> = None;
    loop {
        let next = match quorum_at {
            None => tasks.next().await,
            Some(at) => match tokio::time::timeout_at(at + params.extra, tasks.next()).await {
                Ok(next) => next,
                Err(_) => {
                    tracing::debug!(
                        pending = tasks.len(),
                        "quorum reached; not waiting for the slowest nodes"
                    );
                    break;
                }
            },
        };
        let Some((index, weight, result)) = next else {
            break;
        };
        match result {
            Ok(sig) => {
                out.signatures.insert(index, sig);
                out.weight += weight;
                if quorum_at.is_none() && Quorum::Certify.is_met(out.weight, n) {
                    quorum_at = Some(Instant::now());
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "storing on a node failed");
                out.failures.push(e.to_string());
            }
        }
    }
    out
}

/// Metadata, then every pair's two slivers, to one node.
#[allow(clippy::too_many_arguments)]
async fn store_on_node(
    node: &NodeClient,
    limit: &Semaphore,
    blob_id: &BlobId,
    metadata_wire: &[u8],
    blob: &EncodedBlob,
    pairs: &[u16],
    deadline: Instant,
    bar: &ProgressBar,
) -> Result<(), NodeError> {
    {
        let _permit = limit.acquire().await;
        retry(deadline, || {
            node.put_metadata(blob_id, metadata_wire.to_vec())
        })
        .await?;
    }
    let mut uploads = FuturesUnordered::new();
    for &pair in pairs {
        for kind in [SliverKind::Primary, SliverKind::Secondary] {
            uploads.push(async move {
                let _permit = limit.acquire().await;
                let Some(pair_slivers) = blob.pairs.get(usize::from(pair)) else {
                    return Ok(());
                };
                let sliver = match kind {
                    SliverKind::Primary => &pair_slivers.primary,
                    SliverKind::Secondary => &pair_slivers.secondary,
                };
                let wire = sliver.to_wire();
                let len = sliver.data.len() as u64;
                retry(deadline, || {
                    node.put_sliver(blob_id, pair, kind, wire.clone())
                })
                .await?;
                bar.inc(len);
                Ok::<_, NodeError>(())
            });
        }
    }
    while let Some(r) = uploads.next().await {
        r?;
    }
    Ok(())
}
