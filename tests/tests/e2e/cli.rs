//! The `floe` binary: store / read / status / info against a devnet through the config file
//! lookup, errors on unknown blobs, and `floe devnet` itself (ready, usable, stops cleanly on
//! SIGTERM).

use std::{path::Path, process::Output, time::Duration};

use anyhow::{Context, Result, bail, ensure};
use floe_tests::{start_devnet, test_bytes, wait_until, workspace_binary};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Command,
};

/// Runs `floe ARGS` with `env` and returns its output.
async fn floe(args: &[&str], env: &[(&str, &Path)]) -> Result<Output> {
    let mut cmd = Command::new(workspace_binary("floe")?);
    cmd.args(args)
        .env_remove("FLOE_CONFIG")
        .env_remove("FLOE_HOME")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output()
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_stores_reads_and_reports_through_the_config_lookup() -> Result<()> {
    let devnet = start_devnet(4).await?;
    let work = devnet.dir().join("cli-test");
    std::fs::create_dir_all(&work)?;
    let file = work.join("photo.bin");
    let data = test_bytes(123_457, 51);
    std::fs::write(&file, &data)?;
    let config = devnet.dir().join("client.toml");

    // FLOE_CONFIG names the config.
    let file_arg = file.to_str().context("path")?;
    let stored = stdout_json(
        &floe(
            &["store", file_arg, "--epochs", "2", "--json"],
            &[("FLOE_CONFIG", &config)],
        )
        .await?,
    )?;
    assert_eq!(stored["outcome"], "newly_certified");
    let blob_id = stored["blob_id"].as_str().context("blob_id")?.to_owned();
    let actions: Vec<&str> = stored["transactions"]
        .as_array()
        .context("transactions")?
        .iter()
        .filter_map(|t| t["action"].as_str())
        .collect();
    assert!(actions.ends_with(&["register", "certify"]), "{actions:?}");
    let registration_id = stored["registration_id"]
        .as_u64()
        .context("registration_id")?;
    assert_eq!(stored["deletable"], false);

    // FLOE_HOME moves ~/.floe: the default config is $FLOE_HOME/devnet/client.toml.
    let home = work.join("home");
    std::fs::create_dir_all(home.join("devnet"))?;
    std::fs::copy(&config, home.join("devnet").join("client.toml"))?;
    let out_file = work.join("copy.bin");
    let out = floe(
        &["read", &blob_id, "-o", out_file.to_str().context("path")?],
        &[("FLOE_HOME", &home)],
    )
    .await?;
    ensure!(
        out.status.success(),
        "read failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    ensure!(
        std::fs::read(&out_file)? == data,
        "floe read wrote other bytes"
    );

    // --config wins over the environment.
    let bogus = work.join("missing.toml");
    let status = stdout_json(
        &floe(
            &[
                "--config",
                config.to_str().context("path")?,
                "status",
                &blob_id,
                "--json",
            ],
            &[("FLOE_CONFIG", &bogus)],
        )
        .await?,
    )?;
    assert_eq!(status["state"], "certified");
    assert_eq!(status["size"], 123_457);
    assert_eq!(status["mine"][0]["registration_id"], registration_id);
    assert_eq!(status["mine"][0]["state"], "certified");
    let end_epoch = stored["end_epoch"].as_u64().context("end_epoch")?;
    assert_eq!(status["certified_end_epoch"], end_epoch);

    // extend: the default is our registration; the new end epoch is printed.
    let extended = stdout_json(
        &floe(
            &["extend", &blob_id, "--epochs", "1", "--json"],
            &[("FLOE_CONFIG", &config)],
        )
        .await?,
    )?;
    assert_eq!(extended["registration_id"], registration_id);
    assert_eq!(extended["end_epoch"], end_epoch + 1);
    // delete: a permanent registration is refused with what to do.
    let out = floe(&["delete", &blob_id], &[("FLOE_CONFIG", &config)]).await?;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "registrations of it ({registration_id}) are permanent"
        )) && stderr.contains("--deletable"),
        "{stderr}"
    );

    let info = stdout_json(&floe(&["info", "--json"], &[("FLOE_CONFIG", &config)]).await?)?;
    assert_eq!(info["n_shards"], 100);
    assert_eq!(info["f"], 33);
    assert_eq!(info["quorum"], 67);
    let shards: u64 = info["committee"]
        .as_array()
        .context("committee")?
        .iter()
        .filter_map(|m| m["shards"].as_u64())
        .sum();
    assert_eq!(shards, 100);

    // faucet and stake: the node's stake grows by the amount.
    let node = devnet.node(0).operator;
    let chain = devnet.chain().await?;
    let stake_before = chain.node_info(node).await?.stake;
    let faucet =
        stdout_json(&floe(&["faucet", "10", "--json"], &[("FLOE_CONFIG", &config)]).await?)?;
    assert!(faucet["transaction"].is_string(), "{faucet}");
    let node_arg = node.to_string();
    let staked = stdout_json(
        &floe(
            &["stake", &node_arg, "2.5", "--json"],
            &[("FLOE_CONFIG", &config)],
        )
        .await?,
    )?;
    assert!(staked["transactions"].is_array(), "{staked}");
    let stake_after = chain.node_info(node).await?.stake;
    assert_eq!(
        stake_after - stake_before,
        alloy::primitives::U256::from(2_500_000_000u64)
    );

    // Errors are one clear line and a failing exit code.
    let unknown = format!("0x{}", "ab".repeat(32));
    let out = floe(&["read", &unknown], &[("FLOE_CONFIG", &config)]).await?;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown") && stderr.contains("never registered"),
        "{stderr}"
    );
    let out = floe(&["info"], &[("FLOE_CONFIG", &bogus)]).await?;
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("missing.toml") && stderr.contains("floe devnet"),
        "{stderr}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floe_devnet_comes_up_serves_a_store_and_stops_on_sigterm() -> Result<()> {
    floe_tests::init_logs();
    let floe_bin = workspace_binary("floe")?;
    workspace_binary("floe-node")?;
    let dir = std::env::temp_dir().join(format!("floe-devnet-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // The chain port is chosen with --port (the default, 8545, may be taken on a test machine).
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port()
        .to_string();
    let mut child = Command::new(&floe_bin)
        .args([
            "devnet",
            "--nodes",
            "4",
            "--shards",
            "20",
            "--port",
            &port,
            "--dir",
            dir.to_str().context("path")?,
        ])
        .env("FLOE_HOME", dir.join("home"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let ready = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await? {
            if line.trim() == "ready" {
                return Ok::<bool, std::io::Error>(true);
            }
        }
        Ok(false)
    })
    .await;
    match ready {
        Ok(Ok(true)) => {}
        other => {
            let _ = child.start_kill();
            let out = child.wait_with_output().await?;
            bail!(
                "floe devnet did not print ready ({other:?}); stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    // Keep draining stdout so the devnet never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    // `floe devnet` wrote the default config ($FLOE_HOME/devnet/client.toml): no setup needed.
    let home = dir.join("home");
    let config = home.join("devnet").join("client.toml");
    ensure!(
        config.is_file(),
        "floe devnet did not write {}",
        config.display()
    );
    let file = dir.join("hello.txt");
    std::fs::write(&file, b"hello floe")?;
    let stored = stdout_json(
        &floe(
            &["store", file.to_str().context("path")?, "--json"],
            &[("FLOE_HOME", &home)],
        )
        .await?,
    )?;
    let blob_id = stored["blob_id"].as_str().context("blob_id")?.to_owned();
    let out = floe(&["read", &blob_id], &[("FLOE_HOME", &home)]).await?;
    ensure!(
        out.status.success(),
        "read: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"hello floe");

    // SIGTERM stops everything: the process exits and anvil no longer answers.
    let rpc = toml_rpc_url(&config)?;
    assert_eq!(
        rpc,
        format!("http://127.0.0.1:{port}"),
        "the chain is on --port"
    );
    let pid = child.id().context("pid")?;
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()?;
    ensure!(status.success(), "kill -TERM failed");
    let exit = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .context("floe devnet did not exit on SIGTERM")??;
    ensure!(exit.success(), "floe devnet exited with {exit}");
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()?;
    wait_until("anvil to be gone", Duration::from_secs(10), || async {
        let body =
            serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []});
        http.post(&rpc)
            .json(&body)
            .send()
            .await
            .is_err()
            .then_some(())
    })
    .await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn toml_rpc_url(config: &Path) -> Result<String> {
    let text = std::fs::read_to_string(config)?;
    let line = text
        .lines()
        .find(|l| l.starts_with("rpc_url"))
        .context("rpc_url in client.toml")?;
    Ok(line.split('"').nth(1).context("quoted rpc_url")?.to_owned())
}

#[tokio::test]
async fn floe_devnet_on_a_taken_port_says_so() -> Result<()> {
    let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = taken.local_addr()?.port().to_string();
    let dir = std::env::temp_dir().join(format!("floe-devnet-port-{}", std::process::id()));
    let out = floe(
        &[
            "devnet",
            "--port",
            &port,
            "--dir",
            dir.to_str().context("path")?,
        ],
        &[("FLOE_HOME", &dir.join("home"))],
    )
    .await?;
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!out.status.success(), "devnet started on a taken port");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("port {port} on 127.0.0.1 is not free"))
            && stderr.contains("--port 0"),
        "{stderr}"
    );
    Ok(())
}
