//! `floe store FILE…` (several files at once, `--dry-run`), `floe blob-id` and `floe ls`.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use anyhow::{Result, bail};
use floe_client::{
    Client, FileOptions, FilePlan, Listing, PlannedAction, StoreOptions, units::format_wal,
};
use futures::StreamExt;
use serde_json::json;

use super::{print_json, print_stored};

/// Stores `files`, `parallel` at once, printing each result in the order given. A file that
/// fails does not stop the others; the command fails at the end if any did.
pub(crate) async fn run_store_files(
    client: &Client,
    files: &[PathBuf],
    opts: &StoreOptions,
    file_opts: &FileOptions,
    parallel: usize,
    json: bool,
) -> Result<()> {
    if let [file] = files {
        let stored = client.store_file_with(file, opts, file_opts).await?;
        if json {
            // A file stored as one blob prints what a blob store always printed.
            return if stored.is_manifest() {
                print_json(&stored)
            } else {
                print_json(&stored.stored)
            };
        }
        return print_stored(client, file, &stored);
    }
    let total = files.len();
    let mut results = futures::stream::iter(files)
        .map(|file| async move { (file, client.store_file_with(file, opts, file_opts).await) })
        .buffered(parallel);
    let mut failed = Vec::new();
    let mut out = Vec::with_capacity(total);
    let mut done = 0;
    while let Some((file, result)) = results.next().await {
        done += 1;
        match result {
            Ok(stored) => {
                if json {
                    let value = if stored.is_manifest() {
                        serde_json::to_value(&stored)?
                    } else {
                        serde_json::to_value(&stored.stored)?
                    };
                    out.push(json!({ "file": file, "result": value }));
                } else {
                    eprintln!("[{done}/{total}] {}", file.display());
                    print_stored(client, file, &stored)?;
                }
            }
            Err(e) => {
                if json {
                    out.push(json!({ "file": file, "error": e.to_string() }));
                } else {
                    eprintln!("[{done}/{total}] error: {}: {e}", file.display());
                }
                failed.push(file.display().to_string());
            }
        }
    }
    if json {
        print_json(&out)?;
    }
    if !failed.is_empty() {
        bail!(
            "{} of {total} files were not stored: {}; run the same command again to retry them (what was stored is not paid again)",
            failed.len(),
            failed.join(", ")
        );
    }
    Ok(())
}

/// Prints each file's id as `floe store` would give it.
pub(crate) async fn run_blob_id(
    client: &Client,
    files: &[PathBuf],
    file_opts: &FileOptions,
    json: bool,
) -> Result<()> {
    let mut out = Vec::with_capacity(files.len());
    for file in files {
        let id = client.file_id(file, file_opts).await?;
        if json {
            out.push(json!({ "file": file, "id": id }));
        } else {
            say!("{}  {}", id.blob_id, file.display());
        }
    }
    if json {
        return if let [one] = out.as_slice() {
            print_json(&one["id"])
        } else {
            print_json(&out)
        };
    }
    Ok(())
}

/// Prints what storing `files` would do and cost, without storing anything.
pub(crate) async fn run_dry_run(
    client: &Client,
    files: &[PathBuf],
    opts: &StoreOptions,
    file_opts: &FileOptions,
    json: bool,
) -> Result<()> {
    let mut plans = Vec::with_capacity(files.len());
    for file in files {
        plans.push((file, client.plan_file(file, opts, file_opts).await?));
    }
    if json {
        let out: Vec<_> = plans
            .iter()
            .map(|(file, plan)| json!({ "file": file, "plan": plan }))
            .collect();
        return if let [(_, plan)] = plans.as_slice() {
            print_json(plan)
        } else {
            print_json(&out)
        };
    }
    say!("Dry run: nothing was stored or paid.");
    for (file, plan) in &plans {
        print_plan(file, plan);
    }
    if plans.len() > 1 {
        let cost = plans.iter().map(|(_, p)| p.cost).sum();
        let size: u64 = plans.iter().map(|(_, p)| p.size).sum();
        let encoded: u64 = plans.iter().map(|(_, p)| p.encoded_size).sum();
        say!(
            "Total: {size} bytes, {encoded} bytes encoded, {} for {} epoch(s)",
            format_wal(cost),
            opts.epochs
        );
    }
    Ok(())
}

fn print_plan(file: &Path, plan: &FilePlan) {
    say!("{}", file.display());
    say!("  id:           {}", plan.blob_id);
    match plan.chunk_size {
        Some(chunk) => say!(
            "  size:         {} bytes: {} chunks of {chunk} bytes and a manifest",
            plan.size,
            plan.blobs.len() - 1
        ),
        None => say!("  size:         {} bytes (one blob)", plan.size),
    }
    let ratio = plan.encoded_size as f64 / plan.size.max(1) as f64;
    say!(
        "  encoded size: {} bytes ({ratio:.2}× the file)",
        plan.encoded_size
    );
    let count = |a: PlannedAction| plan.blobs.iter().filter(|b| b.action == a).count();
    let (new, reuse, certified) = (
        count(PlannedAction::Register),
        count(PlannedAction::Reuse),
        count(PlannedAction::AlreadyCertified),
    );
    let mut parts = vec![format!("{new} to register")];
    if reuse > 0 {
        parts.push(format!("{reuse} registered by you already"));
    }
    if certified > 0 {
        parts.push(format!("{certified} already certified"));
    }
    say!(
        "  cost:         {} for {} epoch(s) ({} of {} blobs: {})",
        format_wal(plan.cost),
        plan.epochs,
        new,
        plan.blobs.len(),
        parts.join(", ")
    );
}

/// Prints the caller's registrations as a table.
pub(crate) fn run_ls(listing: &Listing, json: bool) -> Result<()> {
    if json {
        return print_json(listing);
    }
    if listing.registrations.is_empty() {
        say!(
            "No registrations of yours (epoch {}).",
            listing.current_epoch
        );
        return Ok(());
    }
    say!(
        "{:>6}  {:<66}  {:>12}  {:<10}  {:>9}  KIND",
        "REG",
        "BLOB ID",
        "SIZE",
        "STATE",
        "END EPOCH"
    );
    for l in &listing.registrations {
        let r = &l.registration;
        let kind = if r.deletable {
            "deletable"
        } else {
            "permanent"
        };
        say!(
            "{:>6}  {:<66}  {:>12}  {:<10}  {:>9}  {kind}",
            r.registration_id,
            l.blob_id.to_string(),
            l.size,
            r.state,
            r.end_epoch
        );
    }
    say!(
        "{} registration(s), epoch {}",
        listing.registrations.len(),
        listing.current_epoch
    );
    if listing.truncated {
        say!("(the limit was reached: older registrations may exist; raise --limit)");
    }
    Ok(())
}
