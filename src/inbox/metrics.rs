//! The inbox's Prometheus metrics: submissions accepted and rejected by reason, spool
//! depth by state, deliveries, failures, request latency, and webhooks, spam checks
//! and config reloads by outcome. Every sample carries a `site` label; when one inbox serves several
//! sites, they share one registry.

use std::sync::Arc;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use super::spool::{Spool, State};

type Labels = Vec<(&'static str, String)>;

type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

/// The metric families of one process.
pub struct Registered {
    registry: Registry,
    accepted: Family<Labels, Counter>,
    rejected: Family<Labels, Counter>,
    delivered: Family<Labels, Counter>,
    delivery_failures: Family<Labels, Counter>,
    parked: Family<Labels, Counter>,
    latency: Histograms,
    spool: Family<Labels, Gauge>,
    webhooks: Family<Labels, Counter>,
    spam_checks: Family<Labels, Counter>,
    reloads: Family<Labels, Counter>,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl Default for Registered {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("cairn_inbox");
        let counter = |registry: &mut Registry, name: &str, help: &str| {
            let family = Family::<Labels, Counter>::default();
            registry.register(name, help, family.clone());
            family
        };
        let accepted = counter(
            &mut registry,
            "accepted",
            "Comments accepted into the spool",
        );
        let rejected = counter(&mut registry, "rejected", "Submissions rejected, by reason");
        let delivered = counter(&mut registry, "deliveries", "Comments delivered");
        let delivery_failures = counter(
            &mut registry,
            "delivery_failures",
            "Failed delivery attempts (each is retried)",
        );
        let parked = counter(
            &mut registry,
            "parked",
            "Comments parked as failed after the last attempt",
        );
        let latency: Histograms = Family::new_with_constructor(latency_histogram);
        registry.register(
            "post_latency_seconds",
            "Time to answer POST /v1/comments",
            latency.clone(),
        );
        let spool = Family::<Labels, Gauge>::default();
        registry.register(
            "spool_items",
            "Comments in the spool, by state",
            spool.clone(),
        );
        let webhooks = counter(
            &mut registry,
            "webhooks",
            "Forge webhook deliveries, by outcome",
        );
        let spam_checks = counter(
            &mut registry,
            "spam_checks",
            "External spam checks, by outcome (ham, spam, error)",
        );
        let reloads = counter(
            &mut registry,
            "config_reloads",
            "Reloads of the config on SIGHUP, by outcome (ok, error: the rules in force stay)",
        );
        Registered {
            registry,
            accepted,
            rejected,
            delivered,
            delivery_failures,
            parked,
            latency,
            spool,
            webhooks,
            spam_checks,
            reloads,
        }
    }
}

impl Registered {
    /// The text exposition of every site's metrics.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

/// One site's handle on the metrics: what it counts carries its `site` label (its
/// name, or when the inbox serves one site, its host name).
pub struct Metrics {
    all: Arc<Registered>,
    site: String,
}

impl Metrics {
    pub fn for_site(all: Arc<Registered>, site: String) -> Metrics {
        Metrics { all, site }
    }

    fn labels(&self, extra: Option<(&'static str, &str)>) -> Labels {
        let mut labels: Labels = vec![("site", self.site.clone())];
        labels.extend(extra.map(|(k, v)| (k, v.to_string())));
        labels
    }

    pub fn accepted(&self) {
        self.all.accepted.get_or_create(&self.labels(None)).inc();
    }

    /// Counts a rejection under its reason label.
    pub fn reject(&self, reason: &'static str) {
        self.all
            .rejected
            .get_or_create(&self.labels(Some(("reason", reason))))
            .inc();
    }

    pub fn delivered(&self) {
        self.all.delivered.get_or_create(&self.labels(None)).inc();
    }

    pub fn delivery_failed(&self) {
        self.all
            .delivery_failures
            .get_or_create(&self.labels(None))
            .inc();
    }

    pub fn parked(&self) {
        self.all.parked.get_or_create(&self.labels(None)).inc();
    }

    pub fn latency(&self, seconds: f64) {
        self.all
            .latency
            .get_or_create(&self.labels(None))
            .observe(seconds);
    }

    /// Counts a webhook delivery under its outcome label.
    pub fn webhook(&self, outcome: &'static str) {
        self.all
            .webhooks
            .get_or_create(&self.labels(Some(("outcome", outcome))))
            .inc();
    }

    /// Counts an external spam check under its outcome label.
    pub fn spam_check(&self, outcome: &'static str) {
        self.all
            .spam_checks
            .get_or_create(&self.labels(Some(("outcome", outcome))))
            .inc();
    }

    /// Counts a reload of the config under its outcome label.
    pub fn reload(&self, outcome: &'static str) {
        self.all
            .reloads
            .get_or_create(&self.labels(Some(("outcome", outcome))))
            .inc();
    }

    /// Sets this site's spool gauges to the spool's depth now.
    pub fn read_spool(&self, spool: &Spool) {
        let depth = spool.depth();
        for state in State::ALL {
            let n = depth.get(&state).copied().unwrap_or(0);
            self.all
                .spool
                .get_or_create(&self.labels(Some(("state", state.name()))))
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }

    /// The text exposition, with this site's spool depth read now.
    pub fn encode(&self, spool: &Spool) -> String {
        self.read_spool(spool);
        self.all.encode()
    }
}
