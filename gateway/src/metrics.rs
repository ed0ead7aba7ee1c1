//! Prometheus metrics, counted in memory and rendered in the text exposition format:
//! requests by method, route template and status; bytes served and received; uploads in
//! flight; error answers by code.

use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::{
        Mutex,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
};

/// The gateway's counters.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    errors: Mutex<BTreeMap<&'static str, u64>>,
    bytes_served: AtomicU64,
    bytes_received: AtomicU64,
    uploads_in_flight: AtomicI64,
}

/// Counts an upload in flight while it lives.
#[derive(Debug)]
pub(crate) struct InFlight(std::sync::Arc<Metrics>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.uploads_in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    pub(crate) fn request(&self, method: &str, route: &str, status: u16) {
        let mut m = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
    }

    pub(crate) fn error(&self, code: &'static str) {
        let mut m = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry(code).or_default() += 1;
    }

    pub(crate) fn served(&self, bytes: u64) {
        self.bytes_served.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn received(&self, bytes: u64) {
        self.bytes_received.fetch_add(bytes, Ordering::Relaxed);
    }

    pub(crate) fn upload_started(self: &std::sync::Arc<Self>) -> InFlight {
        self.uploads_in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(std::sync::Arc::clone(self))
    }

    /// The text exposition format.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP floe_gateway_requests_total HTTP requests answered, by method, route and status.\n");
        out.push_str("# TYPE floe_gateway_requests_total counter\n");
        for ((method, route, status), n) in self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "floe_gateway_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(method),
                escape(route)
            );
        }
        out.push_str("# HELP floe_gateway_errors_total Error answers, by code.\n");
        out.push_str("# TYPE floe_gateway_errors_total counter\n");
        for (code, n) in self.errors.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(out, "floe_gateway_errors_total{{code=\"{code}\"}} {n}");
        }
        let scalars = [
            (
                "floe_gateway_bytes_served_total",
                "counter",
                "Blob bytes sent to clients.",
                self.bytes_served.load(Ordering::Relaxed) as i64,
            ),
            (
                "floe_gateway_bytes_received_total",
                "counter",
                "Upload body bytes received.",
                self.bytes_received.load(Ordering::Relaxed) as i64,
            ),
            (
                "floe_gateway_uploads_in_flight",
                "gauge",
                "Uploads holding a slot now.",
                self.uploads_in_flight.load(Ordering::Relaxed),
            ),
        ];
        for (name, kind, help, v) in scalars {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        }
        out
    }
}
