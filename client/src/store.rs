//! The upload half of a store: metadata and sliver pairs to every shard's node, in parallel
//! with retries, then confirmations until nodes holding a quorum of shards signed.
//!
//! Uploads follow the committee (placement) of one epoch. When the epoch changes under an
//! upload, a node of the new epoch answers 421 for a pair it no longer holds, or signs its
//! confirmation for the later epoch: the node's task ends with [`NodeError::EpochChanged`],
//! the committee is read again and, if the chain did move on, the blob is uploaded to the new
//! committee (nodes accept uploads of a registered blob again, so this is safe), at most
//! [`MAX_REPLACEMENTS`] times. If the chain did not move on, the node lags behind it and is
//! asked again after a pause. The epoch is also read when a round ends, since a certificate
//! must be signed for the current epoch: a round that ended in an older one starts over.

use std::{collections::BTreeMap, future::Future, sync::Arc, time::Duration};

use floe_chain::Committee;
use floe_core::{
    bls::{CertificateBuilder, PublicKey, Signature},
    encoding::{EncodedBlob, SliverKind},
    messages::{CertifyEntry, certify_message},
    protocol::{ErrorCode, Quorum},
    wire::Wire,
};
use futures::{StreamExt, stream::FuturesUnordered};
use indicatif::ProgressBar;
use tokio::{sync::Semaphore, time::Instant};

use crate::{
    config::RequestTimeout,
    error::ClientError,
    node_api::{NodeClient, NodeError, retry},
    observe::{self, StoreEvent, StoreObserver},
};

/// How many times a store moves to a newer committee before giving up.
pub(crate) const MAX_REPLACEMENTS: usize = 3;

/// What the upload needs to know besides the blob.
#[derive(Debug, Clone)]
pub(crate) struct UploadParams {
    /// The chain id (bound into confirmations).
    pub chain_id: u64,
    /// The blob registry (bound into confirmations).
    pub registry: [u8; 20],
    /// The registration confirmations are for (bound into them).
    pub registration_id: u64,
    /// The registration's deletable flag (bound into confirmations).
    pub deletable: bool,
    /// The registration's end epoch (exclusive): uploads stop once the chain reaches it.
    pub end_epoch: u32,
    /// How many epochs the registration paid for (for the advice when it ran out).
    pub bought_epochs: u32,
    /// How long to keep retrying on one committee.
    pub timeout: Duration,
    /// How long to keep collecting confirmations after a quorum.
    pub extra: Duration,
    /// The pause before asking again a node that lags behind the chain's epoch.
    pub lag_retry: Duration,
    /// The timeout of each request, growing with its payload.
    pub request_timeout: RequestTimeout,
    /// Told of the confirmations as they come ([`StoreEvent::Uploading`]).
    pub observer: Option<StoreObserver>,
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

/// Uploads `blob` to the nodes of `committee` and collects their confirmations, moving to a
/// newer committee when the epoch changes under the upload. `refresh(epoch)` reads the chain:
/// `Some(committee)` of a later epoch if the chain moved past `epoch`, `None` if not.
///
/// Returns the committee the confirmations were collected on (certify with its epoch).
pub(crate) async fn upload_and_confirm<R, Fut>(
    http: &reqwest::Client,
    limit: Arc<Semaphore>,
    committee: Committee,
    blob: Arc<EncodedBlob>,
    params: &UploadParams,
    bar: &ProgressBar,
    refresh: R,
) -> Result<(Committee, Confirmations), ClientError>
where
    R: Fn(u32) -> Fut,
    Fut: Future<Output = Result<Option<Committee>, String>>,
{
    let mut committee = committee;
    let mut replacements = 0;
    loop {
        if committee.epoch >= params.end_epoch {
            return Err(storage_ran_out(&blob, params, committee.epoch));
        }
        let round = upload_round(
            http,
            limit.clone(),
            &committee,
            blob.clone(),
            params,
            bar,
            &refresh,
        )
        .await;
        match round {
            Round::Done(confirmations) => return Ok((committee, confirmations)),
            Round::Replaced(next) => {
                if next.epoch >= params.end_epoch {
                    return Err(storage_ran_out(&blob, params, next.epoch));
                }
                if replacements == MAX_REPLACEMENTS {
                    return Err(ClientError::CommitteeKeptChanging {
                        blob_id: blob.blob_id,
                        replacements,
                        epoch: next.epoch,
                        end_epoch: params.end_epoch,
                    });
                }
                replacements += 1;
                tracing::info!(
                    blob_id = %blob.blob_id,
                    from = committee.epoch,
                    to = next.epoch,
                    "the epoch changed while uploading: uploading to the new committee"
                );
                bar.set_position(0);
                committee = next;
            }
        }
    }
}

/// The error of a store whose registration ended (the chain reached `epoch`) during the upload.
fn storage_ran_out(blob: &EncodedBlob, params: &UploadParams, epoch: u32) -> ClientError {
    ClientError::StorageRanOut {
        blob_id: blob.blob_id,
        end_epoch: params.end_epoch,
        epoch,
        bought: params.bought_epochs,
        epochs: params.bought_epochs.saturating_add(1).max(2),
    }
}

/// How an upload to one committee ended.
enum Round {
    /// Every node answered (or the quorum's grace period ran out).
    Done(Confirmations),
    /// The chain moved to a later epoch: this is its committee.
    Replaced(Committee),
}

/// What is shared by the tasks of one round.
struct RoundCtx {
    limit: Arc<Semaphore>,
    blob: Arc<EncodedBlob>,
    metadata_wire: bytes::Bytes,
    message: Vec<u8>,
    registration_id: u64,
    deletable: bool,
    epoch: u32,
    deadline: Instant,
    bar: ProgressBar,
}

/// One member's part of a round.
struct MemberPlan {
    index: usize,
    node: NodeClient,
    public_key: PublicKey,
    pairs: Vec<u16>,
    weight: u64,
}

async fn upload_round<R, Fut>(
    http: &reqwest::Client,
    limit: Arc<Semaphore>,
    committee: &Committee,
    blob: Arc<EncodedBlob>,
    params: &UploadParams,
    bar: &ProgressBar,
    refresh: &R,
) -> Round
where
    R: Fn(u32) -> Fut,
    Fut: Future<Output = Result<Option<Committee>, String>>,
{
    let n = committee.n_shards;
    let blob_id = blob.blob_id;
    let ctx = Arc::new(RoundCtx {
        limit,
        metadata_wire: blob.metadata.to_wire().into(),
        message: certify_message(
            params.chain_id,
            params.registry,
            committee.epoch,
            &[CertifyEntry {
                blob_id: blob_id.0,
                registration_id: params.registration_id,
                deletable: params.deletable,
            }],
        )
        .to_vec(),
        registration_id: params.registration_id,
        deletable: params.deletable,
        blob,
        epoch: committee.epoch,
        deadline: after(params.timeout),
        bar: bar.clone(),
    });

    let mut tasks = FuturesUnordered::new();
    for (index, member) in committee.members.iter().enumerate() {
        if member.shards.is_empty() {
            continue;
        }
        let plan = Arc::new(MemberPlan {
            index,
            node: NodeClient::new(http.clone(), &member.network_address)
                .with_timeout(params.request_timeout),
            public_key: member.public_key,
            pairs: committee.pairs_of(member.node, &blob_id),
            weight: member.shards.len() as u64,
        });
        tasks.push(member_task(ctx.clone(), plan, Duration::ZERO));
    }

    let mut out = Confirmations {
        signatures: BTreeMap::new(),
        weight: 0,
        failures: Vec::new(),
    };
    let mut quorum_at: Option<Instant> = None;
    let uploading = |confirmed_shards: u64| {
        observe::notify(params.observer.as_ref(), || StoreEvent::Uploading {
            epoch: committee.epoch,
            confirmed_shards,
            needed_shards: Quorum::Certify.required(n),
            n_shards: n,
        });
    };
    uploading(0);
    loop {
        let next = match quorum_at {
            None => tasks.next().await,
            Some(at) => {
                match tokio::time::timeout_at(saturating_after(at, params.extra), tasks.next())
                    .await
                {
                    Ok(next) => next,
                    Err(_) => {
                        tracing::debug!(
                            pending = tasks.len(),
                            "quorum reached; not waiting for the slowest nodes"
                        );
                        break;
                    }
                }
            }
        };
        let Some((plan, result)) = next else {
            break;
        };
        match result {
            Ok(sig) => {
                out.signatures.insert(plan.index, sig);
                out.weight += plan.weight;
                uploading(out.weight);
                if quorum_at.is_none() && Quorum::Certify.is_met(out.weight, n) {
                    quorum_at = Some(Instant::now());
                }
            }
            Err(e @ NodeError::EpochChanged { .. }) => match refresh(committee.epoch).await {
                Ok(Some(next)) if next.epoch > committee.epoch => return Round::Replaced(next),
                Ok(_) if after(params.lag_retry) < ctx.deadline => {
                    // The chain is still at the placement's epoch: the node lags behind it.
                    tracing::debug!(error = %e, "node lags behind the chain's epoch; asking again");
                    tasks.push(member_task(ctx.clone(), plan, params.lag_retry));
                }
                Ok(_) => out.failures.push(e.to_string()),
                Err(chain) => out
                    .failures
                    .push(format!("{e} (but reading the epoch failed: {chain})")),
            },
            Err(e) if e.status() == Some(410) => {
                // Gone: the registration may have expired because the epoch moved on.
                match refresh(committee.epoch).await {
                    Ok(Some(next)) if next.epoch > committee.epoch => return Round::Replaced(next),
                    _ => {
                        tracing::warn!(error = %e, "a node refused the blob as gone");
                        out.failures.push(e.to_string());
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "storing on a node failed");
                out.failures.push(e.to_string());
            }
        }
    }
    // Certificates must be signed for the chain's current epoch: if it moved on during the
    // round (even with no node telling), these confirmations are of no use.
    match refresh(committee.epoch).await {
        Ok(Some(next)) if next.epoch > committee.epoch => Round::Replaced(next),
        Ok(_) => Round::Done(out),
        Err(chain) => {
            out.failures.push(format!(
                "reading the chain's epoch after the upload failed: {chain}"
            ));
            Round::Done(out)
        }
    }
}

/// Uploads to one member (after `delay`) and fetches and verifies its confirmation.
async fn member_task(
    ctx: Arc<RoundCtx>,
    plan: Arc<MemberPlan>,
    delay: Duration,
) -> (Arc<MemberPlan>, Result<Signature, NodeError>) {
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let result = async {
        let node = &plan.node;
        store_on_node(&ctx, node, &plan.pairs).await?;
        let conf = retry(ctx.deadline, || async {
            let c = node
                .confirmation(&ctx.blob.blob_id, ctx.registration_id)
                .await?;
            // A node that says what it signed must have signed this registration.
            if c.registration_id.is_some_and(|r| r != ctx.registration_id)
                || c.deletable.is_some_and(|d| d != ctx.deletable)
            {
                return Err(NodeError::BadResponse {
                    node: node.address().to_owned(),
                    message: format!(
                        "confirmation for registration {:?} (deletable {:?}) instead of {} (deletable {})",
                        c.registration_id, c.deletable, ctx.registration_id, ctx.deletable
                    ),
                });
            }
            if c.epoch > ctx.epoch {
                return Err(NodeError::EpochChanged {
                    node: node.address().to_owned(),
                    placement_epoch: ctx.epoch,
                    seen: format!("signed its confirmation for epoch {}", c.epoch),
                });
            }
            if c.epoch < ctx.epoch {
                // The node still follows an earlier epoch: it catches up by itself.
                return Err(NodeError::Status {
                    node: node.address().to_owned(),
                    status: 409,
                    code: Some(ErrorCode::Incomplete),
                    message: format!(
                        "confirmation for epoch {} instead of {}; the node lags behind the chain",
                        c.epoch, ctx.epoch
                    ),
                });
            }
            Ok(c)
        })
        .await?;
        let sig = Signature::from_hex(&conf.signature).map_err(|e| NodeError::BadResponse {
            node: node.address().to_owned(),
            message: format!("bad confirmation signature: {e}"),
        })?;
        sig.verify(&plan.public_key, &ctx.message)
            .map_err(|e| NodeError::BadResponse {
                node: node.address().to_owned(),
                message: format!("confirmation signature does not verify: {e}"),
            })?;
        Ok(sig)
    }
    .await;
    (plan, result)
}

/// `d` after now, saturating instead of overflowing on absurd configured durations.
fn after(d: Duration) -> Instant {
    saturating_after(Instant::now(), d)
}

/// `d` after `at`, saturating at a year later.
fn saturating_after(at: Instant, d: Duration) -> Instant {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    at + d.min(YEAR)
}

/// A 421 ("not my shard") means the node follows another epoch's placement.
fn misdirected(e: NodeError, placement_epoch: u32) -> NodeError {
    match e {
        NodeError::Status {
            node,
            status: 421,
            message,
            ..
        } => NodeError::EpochChanged {
            node,
            placement_epoch,
            seen: format!("answered 421: {message}"),
        },
        other => other,
    }
}

/// Metadata, then every pair's two slivers, to one node.
async fn store_on_node(ctx: &RoundCtx, node: &NodeClient, pairs: &[u16]) -> Result<(), NodeError> {
    let blob_id = &ctx.blob.blob_id;
    {
        let _permit = ctx.limit.acquire().await;
        retry(ctx.deadline, || async {
            node.put_metadata(blob_id, ctx.metadata_wire.clone())
                .await
                .map_err(|e| misdirected(e, ctx.epoch))
        })
        .await?;
    }
    let mut uploads = FuturesUnordered::new();
    for &pair in pairs {
        for kind in [SliverKind::Primary, SliverKind::Secondary] {
            uploads.push(async move {
                let _permit = ctx.limit.acquire().await;
                let pair_slivers =
                    ctx.blob
                        .pairs
                        .get(usize::from(pair))
                        .ok_or_else(|| NodeError::BadResponse {
                            node: node.address().to_owned(),
                            message: format!(
                                "pair {pair} is outside the blob's {} pairs (the committee and the encoding disagree on n)",
                                ctx.blob.pairs.len()
                            ),
                        })?;
                let sliver = match kind {
                    SliverKind::Primary => &pair_slivers.primary,
                    SliverKind::Secondary => &pair_slivers.secondary,
                };
                // One copy into the wire format per sliver in flight; retries share it.
                let wire = bytes::Bytes::from(sliver.to_wire());
                let len = sliver.data.len() as u64;
                retry(ctx.deadline, || async {
                    node.put_sliver(blob_id, pair, kind, wire.clone())
                        .await
                        .map_err(|e| misdirected(e, ctx.epoch))
                })
                .await?;
                ctx.bar.inc(len);
                Ok::<_, NodeError>(())
            });
        }
    }
    while let Some(r) = uploads.next().await {
        r?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::{
        Mutex,
        atomic::{AtomicU32, Ordering},
    };

    use floe_core::encoding::EncodingConfig;

    use super::*;
    use crate::fake_node::{CHAIN_ID, FakeNode, REGISTRY, committee};

    fn params() -> UploadParams {
        UploadParams {
            chain_id: CHAIN_ID,
            registry: REGISTRY,
            registration_id: 7,
            deletable: false,
            end_epoch: 50,
            bought_epochs: 49,
            timeout: Duration::from_secs(20),
            extra: Duration::from_secs(5),
            lag_retry: Duration::from_millis(10),
            request_timeout: RequestTimeout::default(),
            observer: None,
        }
    }

    fn blob() -> Arc<EncodedBlob> {
        let cfg = EncodingConfig::new(4).expect("n = 4");
        let data: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
        Arc::new(cfg.encode(&data).expect("encode"))
    }

    async fn nodes(chain_epoch: &Arc<AtomicU32>) -> Vec<FakeNode> {
        let mut out = Vec::new();
        for seed in 1..=4u8 {
            out.push(FakeNode::start(seed, chain_epoch.clone()).await);
        }
        out
    }

    async fn upload<R, Fut>(
        committee: Committee,
        refresh: R,
    ) -> Result<(Committee, Confirmations), ClientError>
    where
        R: Fn(u32) -> Fut,
        Fut: Future<Output = Result<Option<Committee>, String>>,
    {
        upload_with(&params(), committee, refresh).await
    }

    async fn upload_with<R, Fut>(
        params: &UploadParams,
        committee: Committee,
        refresh: R,
    ) -> Result<(Committee, Confirmations), ClientError>
    where
        R: Fn(u32) -> Fut,
        Fut: Future<Output = Result<Option<Committee>, String>>,
    {
        upload_and_confirm(
            &reqwest::Client::new(),
            Arc::new(Semaphore::new(16)),
            committee,
            blob(),
            params,
            &ProgressBar::hidden(),
            refresh,
        )
        .await
    }

    /// `--epochs 1` bought in epoch 1: the registration ends when epoch 2 begins.
    fn one_epoch_params() -> UploadParams {
        UploadParams {
            end_epoch: 2,
            bought_epochs: 1,
            ..params()
        }
    }

    fn assert_storage_ran_out(result: Result<(Committee, Confirmations), ClientError>) {
        match result {
            Err(
                e @ ClientError::StorageRanOut {
                    end_epoch: 2,
                    epoch: 2,
                    bought: 1,
                    epochs: 2,
                    ..
                },
            ) => assert_eq!(
                e.to_string(),
                format!(
                    "store of {} failed: its storage ran out during the upload: it was paid until epoch 2 and the network \
                     is now in epoch 2, so the nodes no longer accept the blob. Buy more: run `floe store --epochs 2` \
                     (one epoch more than the 1 bought, so that the storage outlasts an upload that crosses an epoch \
                     boundary); the expired registration cannot be reused",
                    blob().blob_id
                )
            ),
            other => panic!("expected StorageRanOut, got {:?}", other.map(|_| ())),
        }
    }

    #[tokio::test]
    async fn nodes_answering_gone_after_the_storage_ended_end_the_store_with_how_much_to_buy() {
        // The chain moved to epoch 2 after the client read epoch 1's committee; the blob's
        // storage ended there, so every node answers 410 to the upload.
        let chain = Arc::new(AtomicU32::new(2));
        let nodes = nodes(&chain).await;
        for node in &nodes {
            node.state.expired_from.store(2, Ordering::SeqCst);
        }
        let refreshes = AtomicU32::new(0);
        let result = upload_with(
            &one_epoch_params(),
            committee(1, &nodes, vec![0, 1, 2, 3]),
            |epoch| {
                refreshes.fetch_add(1, Ordering::SeqCst);
                let next = committee(2, &nodes, vec![0, 1, 2, 3]);
                async move { Ok((epoch < 2).then_some(next)) }
            },
        )
        .await;
        assert_storage_ran_out(result);
        // The first 410 ends it: no other committee is tried, no sliver was sent.
        assert_eq!(refreshes.load(Ordering::SeqCst), 1);
        for node in &nodes {
            assert_eq!(node.state.sliver_puts.load(Ordering::SeqCst), 0);
        }
    }

    #[tokio::test]
    async fn an_epoch_change_past_the_storage_end_during_the_round_ends_the_store() {
        // Every node confirms for epoch 1, then the chain reaches the registration's end.
        let chain = Arc::new(AtomicU32::new(1));
        let nodes = nodes(&chain).await;
        let result = upload_with(
            &one_epoch_params(),
            committee(1, &nodes, vec![0, 1, 2, 3]),
            |epoch| {
                chain.store(2, Ordering::SeqCst);
                let next = committee(2, &nodes, vec![0, 1, 2, 3]);
                async move { Ok((epoch < 2).then_some(next)) }
            },
        )
        .await;
        assert_storage_ran_out(result);
    }

    #[tokio::test]
    async fn a_gone_answer_while_the_chain_stays_in_the_epoch_is_a_node_failure() {
        // A node answers 410 although the registration lives (it is faulty, or behind): the
        // store goes on with the others.
        let chain = Arc::new(AtomicU32::new(1));
        let nodes = nodes(&chain).await;
        nodes[3].state.expired_from.store(0, Ordering::SeqCst);
        let (placed, confirmations) = upload_with(
            &one_epoch_params(),
            committee(1, &nodes, vec![0, 1, 2, 3]),
            |_| async { Ok(None) },
        )
        .await
        .expect("a quorum without node 3");
        assert_eq!(placed.epoch, 1);
        assert_eq!(confirmations.weight, 3);
        assert_eq!(confirmations.failures.len(), 1);
        assert!(
            confirmations.failures[0].contains("410"),
            "{:?}",
            confirmations.failures
        );
    }

    #[tokio::test]
    async fn confirmations_name_the_registration_and_one_for_another_registration_is_refused() {
        let chain = Arc::new(AtomicU32::new(1));
        let nodes = nodes(&chain).await;
        // Node 3 confirms registration 99 (signed correctly for it) when asked for 7.
        *nodes[3].state.confirms_registration.lock().expect("lock") = Some(99);
        let (placed, confirmations) = upload(committee(1, &nodes, vec![0, 1, 2, 3]), |_| async {
            Ok(None)
        })
        .await
        .expect("a quorum without node 3");
        assert_eq!(placed.epoch, 1);
        assert_eq!(confirmations.weight, 3);
        assert_eq!(
            confirmations.signatures.keys().copied().collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        assert_eq!(confirmations.failures.len(), 1);
        assert!(
            confirmations.failures[0].contains(
                "confirmation for registration Some(99) (deletable Some(false)) instead of 7"
            ),
            "{:?}",
            confirmations.failures
        );
        for node in &nodes {
            assert_eq!(
                *node.state.confirmations_asked.lock().expect("lock"),
                vec![7]
            );
        }
        // The aggregate verifies over (blob, registration 7, permanent).
        let cert = confirmations
            .certificate(placed.epoch, placed.members.len())
            .expect("aggregate");
        let message = certify_message(
            CHAIN_ID,
            REGISTRY,
            1,
            &[CertifyEntry {
                blob_id: blob().blob_id.0,
                registration_id: 7,
                deletable: false,
            }],
        );
        let keys: Vec<_> = [0, 1, 2]
            .iter()
            .map(|&i| placed.members[i].public_key)
            .collect();
        let aggregate = floe_core::bls::PublicKey::aggregate(&keys).expect("aggregate keys");
        assert!(cert.signature.verify(&aggregate, &message).is_ok());
    }

    #[tokio::test]
    async fn a_confirmation_of_the_other_deletable_flag_is_refused() {
        let chain = Arc::new(AtomicU32::new(1));
        let nodes = nodes(&chain).await;
        // Every node signs (and says it signed) deletable = true for a permanent registration.
        for node in &nodes {
            node.state.deletable.store(true, Ordering::SeqCst);
        }
        let (_, confirmations) = upload(committee(1, &nodes, vec![0, 1, 2, 3]), |_| async {
            Ok(None)
        })
        .await
        .expect("the round ends");
        assert_eq!(confirmations.weight, 0);
        assert_eq!(
            confirmations.failures.len(),
            4,
            "{:?}",
            confirmations.failures
        );
    }

    #[tokio::test]
    async fn confirmations_for_a_later_epoch_move_the_upload_to_the_new_committee() {
        // The chain moved to epoch 2 after the client read the committee of epoch 1.
        let chain = Arc::new(AtomicU32::new(2));
        let nodes = nodes(&chain).await;
        let next = committee(2, &nodes, vec![0, 1, 2, 3]);
        let refreshes = AtomicU32::new(0);
        let (placed, confirmations) = upload(committee(1, &nodes, vec![0, 1, 2, 3]), |epoch| {
            refreshes.fetch_add(1, Ordering::SeqCst);
            let next = next.clone();
            async move { Ok((epoch < 2).then_some(next)) }
        })
        .await
        .expect("stored on the new committee");
        assert_eq!(placed.epoch, 2);
        assert_eq!(confirmations.weight, 4);
        assert_eq!(
            confirmations.signatures.keys().copied().collect::<Vec<_>>(),
            vec![0, 1, 2, 3]
        );
        // Once on the first confirmation for epoch 2, once after the round on epoch 2.
        assert_eq!(refreshes.load(Ordering::SeqCst), 2);
        let cert = confirmations
            .certificate(placed.epoch, placed.members.len())
            .expect("aggregate");
        assert_eq!(cert.epoch, 2);
    }

    #[tokio::test]
    async fn confirmations_of_an_epoch_that_ended_during_the_round_are_collected_again() {
        // Every node confirms for epoch 1, then the chain moves to epoch 2 before certifying.
        let chain = Arc::new(AtomicU32::new(1));
        let nodes = nodes(&chain).await;
        let next = committee(2, &nodes, vec![0, 1, 2, 3]);
        let (placed, confirmations) = upload(committee(1, &nodes, vec![0, 1, 2, 3]), |epoch| {
            let moved = epoch < 2;
            if moved {
                chain.store(2, Ordering::SeqCst);
            }
            let next = next.clone();
            async move { Ok(moved.then_some(next)) }
        })
        .await
        .expect("stored on the new committee");
        assert_eq!(placed.epoch, 2);
        assert_eq!(confirmations.weight, 4);
        // The signatures are epoch 2's: they aggregate into a certificate for it.
        let message = certify_message(
            CHAIN_ID,
            REGISTRY,
            2,
            &[CertifyEntry {
                blob_id: blob().blob_id.0,
                registration_id: 7,
                deletable: false,
            }],
        );
        for (index, sig) in &confirmations.signatures {
            assert!(
                sig.verify(&placed.members[*index].public_key, &message)
                    .is_ok()
            );
        }
    }

    #[tokio::test]
    async fn pairs_a_node_refuses_with_421_go_to_their_holder_in_the_new_epoch() {
        let chain = Arc::new(AtomicU32::new(2));
        let nodes = nodes(&chain).await;
        // Node 0 left the committee in epoch 2: it refuses every pair; node 1 took its shard.
        nodes[0].state.misdirect.store(u32::MAX, Ordering::SeqCst);
        let next = committee(2, &nodes, vec![1, 1, 2, 3]);
        let (placed, confirmations) = upload(committee(1, &nodes, vec![0, 1, 2, 3]), |epoch| {
            let next = next.clone();
            async move { Ok((epoch < 2).then_some(next)) }
        })
        .await
        .expect("stored on the new committee");
        assert_eq!(placed.epoch, 2);
        assert_eq!(confirmations.weight, 4);
        assert_eq!(
            confirmations.signatures.keys().copied().collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(nodes[0].state.sliver_puts.load(Ordering::SeqCst), 0);
        // Node 1 got both its pairs in epoch 2 (two slivers each), besides what it got before.
        assert!(nodes[1].state.sliver_puts.load(Ordering::SeqCst) >= 4);
    }

    #[tokio::test]
    async fn a_node_lagging_behind_the_chain_is_asked_again_on_the_same_committee() {
        // The chain is at the placement's epoch; node 2 still follows the previous one and
        // refuses its first three slivers with 421, then catches up.
        let chain = Arc::new(AtomicU32::new(1));
        let nodes = nodes(&chain).await;
        nodes[2].state.misdirect.store(3, Ordering::SeqCst);
        let refreshes = AtomicU32::new(0);
        let (placed, confirmations) = upload(committee(1, &nodes, vec![0, 1, 2, 3]), |_| {
            refreshes.fetch_add(1, Ordering::SeqCst);
            async { Ok(None) }
        })
        .await
        .expect("stored");
        assert_eq!(placed.epoch, 1);
        assert_eq!(confirmations.weight, 4);
        assert!(
            confirmations.failures.is_empty(),
            "{:?}",
            confirmations.failures
        );
        assert_eq!(nodes[2].state.misdirect.load(Ordering::SeqCst), 0);
        assert!(refreshes.load(Ordering::SeqCst) >= 1);
    }

    #[tokio::test]
    async fn a_committee_that_keeps_changing_ends_the_store_after_bounded_replacements() {
        // The nodes always sign for a later epoch than any committee the client gets.
        let chain = Arc::new(AtomicU32::new(100));
        let nodes = nodes(&chain).await;
        let seen = Mutex::new(Vec::new());
        let result = upload(committee(1, &nodes, vec![0, 1, 2, 3]), |epoch| {
            seen.lock().expect("lock").push(epoch);
            let next = committee(epoch + 1, &nodes, vec![0, 1, 2, 3]);
            async move { Ok(Some(next)) }
        })
        .await;
        match result {
            Err(ClientError::CommitteeKeptChanging {
                replacements,
                epoch,
                end_epoch,
                ..
            }) => {
                assert_eq!(replacements, MAX_REPLACEMENTS);
                assert_eq!(epoch, 5);
                assert_eq!(end_epoch, 50);
            }
            other => panic!(
                "expected CommitteeKeptChanging, got {:?}",
                other.map(|_| ())
            ),
        }
        assert_eq!(*seen.lock().expect("lock"), vec![1, 2, 3, 4]);
    }

    /// `(epoch, confirmed_shards)` of each upload event an observer saw.
    type Seen = Arc<Mutex<Vec<(u32, u64)>>>;

    /// An observer of upload events and what it saw.
    fn observed() -> (StoreObserver, Seen) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let observer = StoreObserver::new(move |e| match e {
            StoreEvent::Uploading {
                epoch,
                confirmed_shards,
                needed_shards,
                n_shards,
            } => {
                assert_eq!((needed_shards, n_shards), (3, 4));
                sink.lock().expect("lock").push((epoch, confirmed_shards));
            }
            other => panic!("the upload reports only its progress, not {other:?}"),
        });
        (observer, seen)
    }

    #[tokio::test]
    async fn the_observer_sees_each_confirmation_and_a_restart_on_a_new_committee() {
        let chain = Arc::new(AtomicU32::new(1));
        let nodes = nodes(&chain).await;
        let (observer, seen) = observed();
        let with_observer = UploadParams {
            observer: Some(observer),
            ..params()
        };
        let (_, confirmations) = upload_with(
            &with_observer,
            committee(1, &nodes, vec![0, 1, 2, 3]),
            |_| async { Ok(None) },
        )
        .await
        .expect("stored");
        assert_eq!(confirmations.weight, 4);
        assert_eq!(
            *seen.lock().expect("lock"),
            vec![(1, 0), (1, 1), (1, 2), (1, 3), (1, 4)]
        );

        // The nodes sign for epoch 2: the upload moves there and its count starts again.
        chain.store(2, Ordering::SeqCst);
        let (observer, seen) = observed();
        let with_observer = UploadParams {
            observer: Some(observer),
            ..params()
        };
        let next = committee(2, &nodes, vec![0, 1, 2, 3]);
        let (placed, _) = upload_with(
            &with_observer,
            committee(1, &nodes, vec![0, 1, 2, 3]),
            |epoch| {
                let next = next.clone();
                async move { Ok((epoch < 2).then_some(next)) }
            },
        )
        .await
        .expect("stored on the new committee");
        assert_eq!(placed.epoch, 2);
        assert_eq!(
            *seen.lock().expect("lock"),
            vec![(1, 0), (2, 0), (2, 1), (2, 2), (2, 3), (2, 4)]
        );
    }
}
