//! Collecting peers' signatures into a certificate (confirmations to certify a blob,
//! attestations to invalidate one).

use floe_chain::{Committee, Member};
use floe_core::{
    bls::{BlsError, Certificate, CertificateBuilder, Signature},
    ids::BlobId,
};

use super::Ctx;
use crate::{peers::PeerError, state::EpochView};

/// Building the certificate failed.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// A signature or the aggregate is unusable.
    #[error(transparent)]
    Bls(#[from] BlsError),
}

/// Signs `msg` as this node (member `my_index` of `view`'s committee), asks every other
/// member with `ask`, and keeps the signatures made for `view`'s epoch. Returns the
/// certificate if their shards pass `enough` (quorum or validity), else the weight reached.
pub(crate) async fn collect_sigs<'a, F, Fut>(
    ctx: &Ctx,
    view: &'a EpochView,
    my_index: usize,
    id: &BlobId,
    msg: &[u8],
    enough: fn(&Committee, u64) -> bool,
    ask: F,
) -> Result<Result<Certificate, u64>, SignatureError>
where
    F: Fn(&'a Member) -> Fut,
    Fut: std::future::Future<Output = Result<(u32, Signature), PeerError>>,
{
    let committee = &view.committee;
    let mut builder = CertificateBuilder::new(view.epoch(), committee.members.len());
    builder.add(my_index, ctx.state.key.sign(msg))?;
    let others = committee
        .members
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != my_index);
    let answers = futures::future::join_all(others.map(|(i, member)| {
        let asked = ask(member);
        async move { (i, asked.await) }
    }))
    .await;
    for (i, r) in answers {
        match r {
            Ok((epoch, sig)) if epoch == view.epoch() => builder.add(i, sig)?,
            Ok((epoch, _)) => {
                tracing::debug!(blob = %id, epoch, "signature for another epoch ignored")
            }
            Err(e) => tracing::debug!(blob = %id, error = %e, "no signature"),
        }
    }
    let weight = builder.weight(&committee.shard_counts());
    if !enough(committee, weight) {
        return Ok(Err(weight));
    }
    Ok(Ok(builder.finish()?))
}
