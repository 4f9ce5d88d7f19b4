//! The inbox's Prometheus metrics: submissions accepted and rejected by reason, spool
//! depth by state, deliveries, failures, request latency and webhooks by outcome.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use super::spool::{Spool, State};

type Labels = Vec<(&'static str, &'static str)>;

/// Counters shared by the handlers and the delivery worker.
pub struct Metrics {
    registry: Registry,
    pub accepted: Counter,
    pub rejected: Family<Labels, Counter>,
    pub delivered: Counter,
    pub delivery_failures: Counter,
    pub parked: Counter,
    pub latency: Histogram,
    spool: Family<Labels, Gauge>,
    webhooks: Family<Labels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("cairn_inbox");
        let accepted = Counter::default();
        let rejected = Family::<Labels, Counter>::default();
        let delivered = Counter::default();
        let delivery_failures = Counter::default();
        let parked = Counter::default();
        let latency = Histogram::new(exponential_buckets(0.000_25, 2.0, 16));
        let spool = Family::<Labels, Gauge>::default();
        registry.register(
            "accepted",
            "Comments accepted into the spool",
            accepted.clone(),
        );
        registry.register(
            "rejected",
            "Submissions rejected, by reason",
            rejected.clone(),
        );
        registry.register("deliveries", "Comments delivered", delivered.clone());
        registry.register(
            "delivery_failures",
            "Failed delivery attempts (each is retried)",
            delivery_failures.clone(),
        );
        registry.register(
            "parked",
            "Comments parked as failed after the last attempt",
            parked.clone(),
        );
        registry.register(
            "post_latency_seconds",
            "Time to answer POST /v1/comments",
            latency.clone(),
        );
        registry.register(
            "spool_items",
            "Comments in the spool, by state",
            spool.clone(),
        );
        let webhooks = Family::<Labels, Counter>::default();
        registry.register(
            "webhooks",
            "Forge webhook deliveries, by outcome",
            webhooks.clone(),
        );
        Metrics {
            registry,
            webhooks,
            accepted,
            rejected,
            delivered,
            delivery_failures,
            parked,
            latency,
            spool,
        }
    }
}

impl Metrics {
    /// Counts a rejection under its reason label.
    pub fn reject(&self, reason: &'static str) {
        self.rejected.get_or_create(&vec![("reason", reason)]).inc();
    }

    /// Counts a webhook delivery under its outcome label.
    pub fn webhook(&self, outcome: &'static str) {
        self.webhooks
            .get_or_create(&vec![("outcome", outcome)])
            .inc();
    }

    /// The text exposition, with the spool's depth read now.
    pub fn encode(&self, spool: &Spool) -> String {
        let depth = spool.depth();
        for state in State::ALL {
            let n = depth.get(&state).copied().unwrap_or(0);
            self.spool
                .get_or_create(&vec![("state", state.name())])
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}
