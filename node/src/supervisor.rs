//! Runs the background services under supervision: a service that fails is logged, counted,
//! shown in `/v1/health` (status `degraded`, the service named) and `/metrics`, and restarted
//! after a backoff doubling from `first_backoff` to `max_backoff`. A service that fails
//! `max_failures` times in a row stops the node with [`SupervisorError::Persistent`].

use std::{
    collections::BTreeMap,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use floe_core::protocol::ServiceHealth;
use tokio::sync::watch;

/// A service gave up.
#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    /// A service failed too many times in a row.
    #[error(
        "service {service} failed {failures} times in a row, last: {last}; the node stops (check the chain RPC and the node's disk, then restart it)"
    )]
    Persistent {
        /// The service.
        service: &'static str,
        /// Failures in a row.
        failures: u32,
        /// The last error.
        last: String,
    },
}

/// How failing services are restarted.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// First restart delay.
    pub first_backoff: Duration,
    /// Longest restart delay.
    pub max_backoff: Duration,
    /// Failures in a row that stop the node.
    pub max_failures: u32,
}

#[derive(Debug, Clone, Default)]
struct Entry {
    state: &'static str,
    failures: u32,
    restarts: u64,
    last_error: Option<String>,
}

/// The services' states, shared with the HTTP handlers.
#[derive(Debug, Default)]
pub struct Services {
    inner: Mutex<BTreeMap<&'static str, Entry>>,
}

impl Services {
    fn with<T>(&self, f: impl FnOnce(&mut BTreeMap<&'static str, Entry>) -> T) -> T {
        match self.inner.lock() {
            Ok(mut g) => f(&mut g),
            Err(p) => f(&mut p.into_inner()),
        }
    }

    /// Marks `name` running and healthy.
    pub fn ok(&self, name: &'static str) {
        self.with(|m| {
            let e = m.entry(name).or_default();
            e.state = "ok";
            e.failures = 0;
            e.last_error = None;
        });
    }

    /// Records a failure of `name`; returns the failures in a row.
    pub fn failed(&self, name: &'static str, error: &str) -> u32 {
        self.with(|m| {
            let e = m.entry(name).or_default();
            e.state = "restarting";
            e.failures += 1;
            e.restarts += 1;
            e.last_error = Some(error.chars().take(512).collect());
            e.failures
        })
    }

    /// Marks `name` stopped for good.
    pub fn stopped(&self, name: &'static str) {
        self.with(|m| m.entry(name).or_default().state = "stopped");
    }

    /// The states, by name.
    pub fn snapshot(&self) -> Vec<ServiceHealth> {
        self.with(|m| {
            m.iter()
                .map(|(name, e)| ServiceHealth {
                    name: (*name).to_owned(),
                    state: e.state.to_owned(),
                    failures: e.failures,
                    last_error: e.last_error.clone(),
                })
                .collect()
        })
    }

    /// Prometheus lines: `floe_node_service_up` and `floe_node_service_restarts_total`.
    pub fn render_metrics(&self) -> String {
        self.with(|m| {
            let mut out = String::from(
                "# HELP floe_node_service_up Whether the background service is healthy.\n# TYPE floe_node_service_up gauge\n",
            );
            for (name, e) in m.iter() {
                out.push_str(&format!(
                    "floe_node_service_up{{service=\"{name}\"}} {}\n",
                    u8::from(e.state == "ok")
                ));
            }
            out.push_str("# HELP floe_node_service_restarts_total Restarts after a failure.\n# TYPE floe_node_service_restarts_total counter\n");
            for (name, e) in m.iter() {
                out.push_str(&format!(
                    "floe_node_service_restarts_total{{service=\"{name}\"}} {}\n",
                    e.restarts
                ));
            }
            out
        })
    }
}

/// What one run of a service reports: it returns `Ok` when asked to stop, `Err` on failure.
pub type ServiceResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Runs service `name` (a fresh `run()` per attempt) until `shutdown`, restarting it after
/// failures. A run that returns `Ok` while not shutting down counts as healthy and is started
/// again at once. A service is marked healthy again when `healthy` reports progress (the
/// service calls [`Services::ok`] itself after a successful round).
pub async fn supervise<F, Fut>(
    name: &'static str,
    services: Arc<Services>,
    policy: Policy,
    mut shutdown: watch::Receiver<bool>,
    mut run: F,
) -> Result<(), SupervisorError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ServiceResult>,
{
    services.ok(name);
    let mut backoff = policy.first_backoff;
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let outcome = tokio::select! {
            r = run() => r,
            _ = shutdown.changed() => return Ok(()),
        };
        match outcome {
            Ok(()) => {
                if *shutdown.borrow() {
                    return Ok(());
                }
                backoff = policy.first_backoff;
            }
            Err(e) => {
                let failures = services.failed(name, &e.to_string());
                tracing::warn!(service = name, failures, error = %e, ?backoff, "service failed; restarting");
                if failures >= policy.max_failures {
                    services.stopped(name);
                    tracing::error!(
                        service = name,
                        failures,
                        "service keeps failing; stopping the node"
                    );
                    return Err(SupervisorError::Persistent {
                        service: name,
                        failures,
                        last: e.to_string(),
                    });
                }
                tokio::select! {
                    _ = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => return Ok(()),
                }
                backoff = (backoff * 2).min(policy.max_backoff);
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn policy(max_failures: u32) -> Policy {
        Policy {
            first_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(40),
            max_failures,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_failing_service_is_restarted_and_shown_degraded_until_it_recovers() {
        let services = Arc::new(Services::default());
        let (stop, rx) = watch::channel(false);
        let runs = Arc::new(AtomicU32::new(0));
        let seen: Arc<Mutex<Vec<ServiceHealth>>> = Arc::default();
        let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel();
        let (s, r, w) = (services.clone(), runs.clone(), seen.clone());
        let task = tokio::spawn(supervise(
            "follower",
            services.clone(),
            policy(10),
            rx,
            move || {
                let (s, r, w, t) = (s.clone(), r.clone(), w.clone(), started_tx.clone());
                async move {
                    let n = r.fetch_add(1, Ordering::SeqCst);
                    // What health showed when this run started.
                    w.lock().unwrap().push(s.snapshot()[0].clone());
                    let _ = t.send(());
                    if n < 2 {
                        return Err(format!("rpc down ({n})").into());
                    }
                    s.ok("follower");
                    std::future::pending::<()>().await;
                    Ok(())
                }
            },
        ));
        // Fails twice, then runs: wait for the third run to start.
        for _ in 0..3 {
            started.recv().await.expect("the service runs");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen[0].state, "ok");
        assert_eq!(seen[1].state, "restarting");
        assert_eq!(seen[2].failures, 2);
        assert_eq!(seen[2].last_error.as_deref(), Some("rpc down (1)"));
        let snap = services.snapshot();
        assert_eq!(snap[0].name, "follower");
        assert_eq!((snap[0].state.as_str(), snap[0].failures), ("ok", 0));
        assert!(
            services
                .render_metrics()
                .contains("floe_node_service_restarts_total{service=\"follower\"} 2")
        );
        stop.send(true).unwrap();
        assert!(task.await.unwrap().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_persistent_failure_stops_with_the_service_named() {
        let services = Arc::new(Services::default());
        let (_stop, rx) = watch::channel(false);
        let err = supervise("gc", services.clone(), policy(3), rx, || async {
            Err("disk full".into())
        })
        .await
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("service gc failed 3 times in a row, last: disk full"),
            "{msg}"
        );
        let snap = services.snapshot();
        assert_eq!((snap[0].state.as_str(), snap[0].failures), ("stopped", 3));
        assert!(
            services
                .render_metrics()
                .contains("floe_node_service_up{service=\"gc\"} 0")
        );
    }
}
