//! Registrations as on-chain objects: attributes set, read and removed (on-chain state checked),
//! a transfer (the old owner refused after it, the new one served by default), sharing (final)
//! and funding a shared registration from another account; refusals before any transaction;
//! and the same through the `floe` binary's `--json` output.

use std::{path::Path, process::Output};

use alloy::primitives::{Address, U256};
use anyhow::{Context, Result, bail, ensure};
use floe_client::{Attributes, ClientError, objects};
use floe_tests::{funded_client, start_devnet, store_opts, test_bytes, workspace_binary};
use tokio::process::Command;

fn pairs(a: &Attributes) -> Vec<(String, String)> {
    a.attributes
        .iter()
        .map(|x| (x.key.clone(), x.value.clone()))
        .collect()
}

fn owned(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The error of `result`, which must have failed.
fn failure<T: std::fmt::Debug>(what: &str, result: Result<T, ClientError>) -> Result<ClientError> {
    match result {
        Err(e) => Ok(e),
        Ok(v) => bail!("{what} succeeded: {v:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_are_tagged_transferred_shared_and_funded() -> Result<()> {
    let devnet = start_devnet(4).await?;
    let me = devnet.client().await?;
    let bob = funded_client(&devnet, devnet.node_count() + 1).await?;
    let carol = funded_client(&devnet, devnet.node_count() + 2).await?;
    let chain = me.chain();
    let (my_addr, bob_addr, carol_addr) = (me.address(), bob.address(), carol.address());

    // The limits the SDK checks before sending are the deployed registry's.
    let registry = chain.registry();
    assert_eq!(
        registry.MAX_ATTRIBUTES().call().await?,
        U256::from(objects::MAX_ATTRIBUTES)
    );
    assert_eq!(
        registry.MAX_KEY_LENGTH().call().await?,
        U256::from(objects::MAX_KEY_LENGTH)
    );
    assert_eq!(
        registry.MAX_VALUE_LENGTH().call().await?,
        U256::from(objects::MAX_VALUE_LENGTH)
    );
    assert_eq!(
        registry.MAX_EPOCHS_AHEAD().call().await?,
        objects::MAX_EPOCHS_AHEAD
    );

    let data = test_bytes(50_000, 91);
    let stored = me.store(data.clone(), &store_opts(3, false)).await?;
    let (blob, id) = (stored.blob_id, stored.registration_id);

    // Attributes: set, replaced in place, read by anyone, removed.
    let set = me
        .set_attribute(&blob, None, "content-type", "text/plain")
        .await?;
    assert_eq!(set.registration_id, id);
    ensure!(set.transaction.is_some(), "no transaction reported");
    me.set_attribute(&blob, None, "name", "a.txt").await?;
    let set = me
        .set_attribute(&blob, None, "content-type", "application/json")
        .await?;
    let expected = owned(&[("content-type", "application/json"), ("name", "a.txt")]);
    assert_eq!(pairs(&set), expected);
    assert_eq!(chain.attributes(id).await?, expected);
    // Carol has no registration of the blob: a read shows its first registration.
    let read = carol.attributes(&blob, None).await?;
    assert_eq!(
        (read.registration_id, pairs(&read), read.transaction),
        (id, expected, None)
    );
    assert_eq!(read.get("name"), Some("a.txt"));
    let removed = me.remove_attribute(&blob, None, "content-type").await?;
    assert_eq!(pairs(&removed), owned(&[("name", "a.txt")]));
    assert_eq!(chain.attributes(id).await?, owned(&[("name", "a.txt")]));

    // Fill up to the limit of 16 keys.
    for i in 0..15 {
        me.set_attribute(&blob, Some(id), &format!("k{i}"), "v")
            .await?;
    }
    assert_eq!(chain.attributes(id).await?.len(), 16);

    // Refused before any transaction: a missing key, bad lengths, a 17th key.
    let nonce = chain.latest_nonce(my_addr).await?;
    match failure(
        "removing a missing key",
        me.remove_attribute(&blob, None, "content-type").await,
    )? {
        ClientError::AttributeNotFound {
            registration_id,
            key,
            ..
        } => assert_eq!((registration_id, key.as_str()), (id, "content-type")),
        other => bail!("removing a missing key: {other:?}"),
    }
    let e = failure(
        "a 65-byte key",
        me.set_attribute(&blob, None, &"k".repeat(65), "v").await,
    )?;
    assert!(matches!(e, ClientError::InvalidAttribute(_)), "{e:?}");
    let e = failure(
        "a 1025-byte value",
        me.set_attribute(&blob, None, "big", &"v".repeat(1025))
            .await,
    )?;
    assert_eq!(
        e.to_string(),
        "invalid attribute: the value of \"big\" is 1025 bytes; a value has at most 1024 bytes"
    );
    let e = failure(
        "a 17th key",
        me.set_attribute(&blob, None, "k15", "v").await,
    )?;
    assert_eq!(
        e.to_string(),
        format!(
            "cannot change the attributes of blob {blob}: registration {id} has 16 attributes, the most a registration may have: remove one first (`floe attr rm`)"
        )
    );
    assert_eq!(
        chain.latest_nonce(my_addr).await?,
        nonce,
        "a refusal sent a tx"
    );
    // Replacing a key of a full registration is fine.
    me.set_attribute(&blob, None, "k14", "w").await?;

    // Transfer to Bob: the owner changes on-chain, the attributes move along.
    let t = me.transfer(&blob, None, bob_addr).await?;
    assert_eq!((t.registration_id, t.from, t.to), (id, my_addr, bob_addr));
    let record = chain.registration(id).await?;
    assert_eq!(record.owner, bob_addr);
    assert_eq!(chain.attributes(id).await?.len(), 16);
    // The old owner can no longer change it: named, or by default.
    let e = failure(
        "the old owner setting an attribute",
        me.set_attribute(&blob, Some(id), "k0", "x").await,
    )?;
    assert_eq!(
        e.to_string(),
        format!(
            "cannot change the attributes of blob {blob}: registration {id} belongs to {bob_addr}, not to this wallet {my_addr}"
        )
    );
    let e = failure(
        "the old owner's default",
        me.set_attribute(&blob, None, "k0", "x").await,
    )?;
    assert!(
        e.to_string().contains(&format!(
            "this wallet {my_addr} has no live registration of it"
        )),
        "{e}"
    );
    // Bob's default finds the registration transferred to him.
    let bobs = bob.remove_attribute(&blob, None, "k0").await?;
    assert_eq!(bobs.registration_id, id);
    assert_eq!(chain.attributes(id).await?.len(), 15);
    assert_eq!(bob.attributes(&blob, None).await?.registration_id, id);

    // Bob shares it: final.
    let shared = bob.share(&blob, None).await?;
    assert_eq!(
        (shared.registration_id, shared.end_epoch),
        (id, record.end_epoch)
    );
    ensure!(chain.registration(id).await?.shared, "not shared on-chain");
    let e = failure(
        "editing a shared registration",
        bob.set_attribute(&blob, Some(id), "k1", "x").await,
    )?;
    assert_eq!(
        e.to_string(),
        format!(
            "cannot change the attributes of blob {blob}: registration {id} is shared, which is final: nobody may transfer it or change its attributes"
        )
    );
    let e = failure(
        "transferring a shared registration",
        bob.transfer(&blob, Some(id), carol_addr).await,
    )?;
    assert!(matches!(e, ClientError::CannotTransfer { .. }), "{e:?}");

    // Carol funds 2 more epochs: she pays exactly their storage price, all spent at once.
    let encoded = chain.encoded_size(data.len() as u64).await?;
    let cost = chain.storage_cost(encoded, 2).await?.storage;
    let balance = carol.wal_balance().await?;
    let funded = carol.fund(&blob, None, 2).await?;
    assert_eq!(funded.registration_id, id);
    assert_eq!(funded.end_epoch, record.end_epoch + 2);
    assert_eq!(
        chain.registration(id).await?.end_epoch,
        record.end_epoch + 2
    );
    assert_eq!(
        (funded.cost, funded.deposited, funded.funds_left),
        (cost, cost, U256::ZERO)
    );
    assert_eq!(chain.shared_funds(id).await?, U256::ZERO);
    assert_eq!(carol.wal_balance().await?, balance - cost);
    let actions: Vec<_> = funded.transactions.iter().map(|t| t.action).collect();
    assert_eq!(actions, ["approve", "fund", "extend"]);

    // What the fund holds already counts: Bob deposits part of one epoch, I pay the rest.
    let one = chain.storage_cost(encoded, 1).await?.storage;
    ensure!(one > U256::from(1), "an epoch costs {one} FROST");
    let part = one / U256::from(2);
    bob.chain().fund_shared(id, part).await?;
    assert_eq!(chain.shared_funds(id).await?, part);
    let topped = me.fund(&blob, Some(id), 1).await?;
    assert_eq!(
        (topped.cost, topped.deposited, topped.funds_left),
        (one, one - part, U256::ZERO)
    );
    assert_eq!(topped.end_epoch, record.end_epoch + 3);

    // A deletable registration cannot be shared, nor funded: refused before any transaction.
    let d = me
        .store(test_bytes(20_000, 92), &store_opts(2, true))
        .await?;
    let nonce = chain.latest_nonce(my_addr).await?;
    let expected = format!(
        "cannot share blob {}: registration {} is deletable; only a permanent registration can be shared (store the blob without --deletable)",
        d.blob_id, d.registration_id
    );
    let e = failure("sharing a deletable", me.share(&d.blob_id, None).await)?;
    assert_eq!(e.to_string(), expected);
    let e = failure(
        "sharing a named deletable",
        me.share(&d.blob_id, Some(d.registration_id)).await,
    )?;
    assert_eq!(e.to_string(), expected);
    let e = failure(
        "funding an unshared blob",
        carol.fund(&d.blob_id, None, 1).await,
    )?;
    assert!(
        e.to_string()
            .contains("no live registration of it is shared; and no permanent one lives"),
        "{e}"
    );
    assert_eq!(
        chain.latest_nonce(my_addr).await?,
        nonce,
        "a refusal sent a tx"
    );
    ensure!(
        !chain.registration(d.registration_id).await?.shared,
        "the deletable registration got shared"
    );

    // Two live registrations of mine: the default asks which.
    let c = test_bytes(20_000, 93);
    let c1 = me.store(c.clone(), &store_opts(1, false)).await?;
    let c2 = me.store(c, &store_opts(3, false)).await?;
    assert_ne!(c1.registration_id, c2.registration_id);
    let e = failure(
        "transferring one of two",
        me.transfer(&c1.blob_id, None, bob_addr).await,
    )?;
    assert_eq!(
        e.to_string(),
        format!(
            "cannot transfer blob {}: this wallet has several live registrations of it ({}, {}): pass --registration with one of them",
            c1.blob_id, c2.registration_id, c1.registration_id
        )
    );
    Ok(())
}

/// Runs `floe ARGS` with the devnet's config.
async fn floe(args: &[&str], config: &Path) -> Result<Output> {
    Command::new(workspace_binary("floe")?)
        .args(args)
        .env_remove("FLOE_HOME")
        .env("FLOE_CONFIG", config)
        .env("NO_COLOR", "1")
        .output()
        .await
        .with_context(|| format!("running floe {args:?}"))
}

fn stdout_json(out: &Output) -> Result<serde_json::Value> {
    ensure!(
        out.status.success(),
        "floe failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .with_context(|| format!("not JSON: {}", String::from_utf8_lossy(&out.stdout)))
}

fn stderr_of_failure(out: &Output) -> Result<String> {
    ensure!(
        !out.status.success(),
        "floe succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    Ok(String::from_utf8_lossy(&out.stderr).into_owned())
}

fn address(v: &serde_json::Value) -> Result<Address> {
    v.as_str()
        .with_context(|| format!("not an address: {v}"))?
        .parse()
        .with_context(|| format!("not an address: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_sets_attributes_shares_funds_and_transfers() -> Result<()> {
    let devnet = start_devnet(4).await?;
    let chain = devnet.chain().await?;
    let config = devnet.dir().join("client.toml");
    let work = devnet.dir().join("objects-cli");
    std::fs::create_dir_all(&work)?;
    let file = work.join("page.html");
    std::fs::write(&file, test_bytes(40_000, 95))?;
    let file = file.to_str().context("path")?;

    let stored = stdout_json(&floe(&["store", file, "--epochs", "2", "--json"], &config).await?)?;
    let blob = stored["blob_id"].as_str().context("blob_id")?.to_owned();
    let id = stored["registration_id"]
        .as_u64()
        .context("registration_id")?;
    let end = stored["end_epoch"].as_u64().context("end_epoch")?;

    // attr set / get / rm.
    let set = stdout_json(
        &floe(
            &["attr", "set", &blob, "content-type", "text/html", "--json"],
            &config,
        )
        .await?,
    )?;
    assert_eq!(set["registration_id"], id);
    assert_eq!(
        set["attributes"],
        serde_json::json!([{"key": "content-type", "value": "text/html"}])
    );
    ensure!(set["transaction"].is_string(), "{set}");
    assert_eq!(
        chain.attributes(id).await?,
        owned(&[("content-type", "text/html")])
    );
    let got = stdout_json(&floe(&["attr", "get", &blob, "--json"], &config).await?)?;
    assert_eq!(got["attributes"], set["attributes"]);
    ensure!(
        got.get("transaction").is_none(),
        "a read reports a tx: {got}"
    );
    let listed = floe(&["attr", "get", &blob], &config).await?;
    ensure!(listed.status.success(), "attr get failed");
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout),
        format!("Registration {id} of {blob} has 1 attribute:\n  content-type  text/html\n")
    );
    let value = floe(&["attr", "get", &blob, "content-type"], &config).await?;
    ensure!(value.status.success(), "attr get KEY failed");
    assert_eq!(String::from_utf8_lossy(&value.stdout), "text/html\n");
    let one = stdout_json(
        &floe(
            &[
                "attr",
                "get",
                &blob,
                "content-type",
                "--json",
                "--registration",
                &id.to_string(),
            ],
            &config,
        )
        .await?,
    )?;
    assert_eq!(
        (&one["key"], &one["value"], &one["registration_id"]),
        (
            &serde_json::json!("content-type"),
            &serde_json::json!("text/html"),
            &serde_json::json!(id)
        )
    );
    let missing = stderr_of_failure(&floe(&["attr", "get", &blob, "colour"], &config).await?)?;
    assert!(
        missing.contains(&format!(
            "registration {id} of blob {blob} has no attribute \"colour\""
        )),
        "{missing}"
    );
    let rm = stdout_json(&floe(&["attr", "rm", &blob, "content-type", "--json"], &config).await?)?;
    assert_eq!(rm["attributes"], serde_json::json!([]));
    assert_eq!(chain.attributes(id).await?, Vec::new());

    // share, then fund (the CLI's wallet funds its own shared registration).
    let shared = stdout_json(&floe(&["share", &blob, "--json"], &config).await?)?;
    assert_eq!(shared["registration_id"], id);
    assert_eq!(shared["end_epoch"], end);
    ensure!(chain.registration(id).await?.shared, "not shared on-chain");
    let funded = stdout_json(&floe(&["fund", &blob, "--epochs", "1", "--json"], &config).await?)?;
    assert_eq!(funded["registration_id"], id);
    assert_eq!(funded["end_epoch"], end + 1);
    assert_eq!(u64::from(chain.registration(id).await?.end_epoch), end + 1);
    let actions: Vec<&str> = funded["transactions"]
        .as_array()
        .context("transactions")?
        .iter()
        .filter_map(|t| t["action"].as_str())
        .collect();
    assert_eq!(actions.last(), Some(&"extend"), "{actions:?}");

    // A deletable blob: share refused with the reason, then transferred to another account.
    let other = work.join("note.txt");
    std::fs::write(&other, test_bytes(10_000, 96))?;
    let d = stdout_json(
        &floe(
            &[
                "store",
                other.to_str().context("path")?,
                "--deletable",
                "--json",
            ],
            &config,
        )
        .await?,
    )?;
    let d_blob = d["blob_id"].as_str().context("blob_id")?.to_owned();
    let d_id = d["registration_id"].as_u64().context("registration_id")?;
    let refused = stderr_of_failure(&floe(&["share", &d_blob], &config).await?)?;
    assert!(
        refused.contains(&format!(
            "registration {d_id} is deletable; only a permanent registration can be shared"
        )),
        "{refused}"
    );
    let key = devnet
        .account_key(devnet.node_count() + 1)
        .context("a dev account")?;
    let bob = floe_chain::signer_from_hex(key)?.address();
    let bob_arg = bob.to_string();
    let t = stdout_json(&floe(&["transfer", &d_blob, &bob_arg, "--json"], &config).await?)?;
    assert_eq!(t["registration_id"], d_id);
    assert_eq!(address(&t["to"])?, bob);
    assert_eq!(address(&t["from"])?, devnet.client().await?.address());
    assert_eq!(chain.registration(d_id).await?.owner, bob);
    // Transferring it again is refused: it is no longer ours.
    let again = stderr_of_failure(
        &floe(
            &[
                "transfer",
                &d_blob,
                &bob_arg,
                "--registration",
                &d_id.to_string(),
            ],
            &config,
        )
        .await?,
    )?;
    assert!(
        again.contains(&format!("registration {d_id} belongs to {bob}")),
        "{again}"
    );
    Ok(())
}
