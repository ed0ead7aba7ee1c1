//! Advances the epoch once its time is up (the chain's clock decides; a revert because
//! another node was first is expected).

use floe_chain::ChainError;
use tokio::sync::watch;

use super::{Ctx, until_shutdown};
use crate::{state::now_secs, supervisor::ServiceResult};

/// The service's name in health and metrics.
pub const NAME: &str = "advance";

/// A failed advance round.
#[derive(Debug, thiserror::Error)]
pub enum AdvanceError {
    /// The epoch timing could not be read.
    #[error("reading the epoch timing: {0}")]
    Timing(#[from] ChainError),
}

/// Runs until shutdown.
pub async fn run(ctx: Ctx, mut shutdown: watch::Receiver<bool>) -> ServiceResult {
    loop {
        if until_shutdown(
            &mut shutdown,
            ctx.poll.max(std::time::Duration::from_secs(1)),
        )
        .await
        {
            return Ok(());
        }
        round(&ctx).await?;
        ctx.state.services.ok(NAME);
    }
}

async fn round(ctx: &Ctx) -> Result<(), AdvanceError> {
    let timing = ctx.chain.epoch_timing().await?;
    if timing.epoch == 0 {
        return Ok(()); // the deployer starts epoch 1 once nodes are staked
    }
    let chain_now = ctx.chain.block_timestamp().await?.max(now_secs());
    if chain_now < timing.next_advance_at() {
        return Ok(());
    }
    match ctx.chain.advance_epoch().await {
        Ok(tx) => tracing::info!(from = timing.epoch, %tx, "advanced the epoch"),
        Err(e) => tracing::debug!(error = %e, "epoch not advanced (another node may have)"),
    }
    Ok(())
}
