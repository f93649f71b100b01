"""Prometheus metrics, one registry per app so tests can run several apps in one process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.deliveries = Counter("bot_deliveries_total", "Webhook deliveries by event and outcome",
                                  ["event", "outcome"], registry=r)
        self.rejected = Counter("bot_webhook_rejected_total", "Webhooks refused, by reason",
                                ["reason"], registry=r)
        self.queue_depth = Gauge("bot_queue_depth", "Deliveries waiting in the queue",
                                 registry=r)
        self.delivery_seconds = Histogram(
            "bot_delivery_seconds", "From receipt to processed",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60), registry=r)
        self.github_calls = Counter("bot_github_calls_total", "GitHub API calls by method and "
                                    "status", ["method", "status"], registry=r)
        self.github_retries = Counter("bot_github_retries_total", "GitHub calls retried",
                                      registry=r)
        self.rate_limit_wait_seconds = Counter("bot_rate_limit_wait_seconds_total",
                                               "Seconds spent waiting on rate limits", registry=r)
        self.reconcile = Counter("bot_reconcile_total", "Requests seen by reconciliation, by "
                                 "result", ["result"], registry=r)
        self.reminders = Counter("bot_reminders_total", "Reminders and follow-ups posted",
                                 ["kind"], registry=r)
        self.dispatches = Counter("bot_dispatches_total", "Workflow dispatches by kind and "
                                  "outcome", ["kind", "outcome"], registry=r)
        self.commands = Counter("bot_commands_total", "Slash commands by name and outcome",
                                ["command", "outcome"], registry=r)
        self.pending_work = Gauge("bot_pending_work", "Requests whose last sync failed and wait "
                                  "for reconciliation", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
