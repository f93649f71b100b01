"""Prometheus metrics, one registry per app so tests can run several apps in one process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from ..github.client import GitHubStats


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
        # GitHub calls, retries and rate-limit waits: read from the client's counters when
        # scraped (``track_github``), so every call is counted however the client was built.
        self._github = _GitHubCollector()
        r.register(self._github)
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

    def track_github(self, stats: Callable[[], GitHubStats | None]) -> None:
        """Export the GitHub client's counters (``GitHubStats``) with every scrape."""
        self._github.source = stats

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _GitHubCollector(Collector):
    """``bot_github_*`` and ``bot_rate_limit_*`` from the client's ``GitHubStats``."""

    def __init__(self) -> None:
        self.source: Callable[[], GitHubStats | None] = lambda: None

    def collect(self) -> Iterator[Metric]:
        stats = self.source()
        calls = CounterMetricFamily("bot_github_calls", "GitHub API calls by method and status "
                                    "(timeout and error: no answer)", labels=["method", "status"])
        retries = CounterMetricFamily("bot_github_retries", "GitHub calls sent again, by reason",
                                      labels=["reason"])
        failures = CounterMetricFamily("bot_github_failures", "GitHub calls given up after "
                                       "their retries (the work waits for reconciliation)")
        tokens = CounterMetricFamily("bot_github_token_fetches", "Installation tokens fetched")
        waits = CounterMetricFamily("bot_rate_limit_waits", "Rate-limit windows GitHub opened")
        waited = CounterMetricFamily("bot_rate_limit_wait_seconds", "Seconds of rate-limit "
                                     "windows obeyed")
        paced = CounterMetricFamily("bot_github_pacing_wait_seconds", "Seconds writes waited "
                                    "for the client-side pace")
        if stats is not None:
            for (method, status), count in sorted(stats.calls.items()):
                calls.add_metric([method, status], count)
            for reason, count in sorted(stats.retries.items()):
                retries.add_metric([reason], count)
            failures.add_metric([], stats.failures)
            tokens.add_metric([], stats.token_fetches)
            waits.add_metric([], stats.rate_limit_waits)
            waited.add_metric([], stats.rate_limit_wait_seconds)
            paced.add_metric([], stats.pacing_wait_seconds)
        yield from (calls, retries, failures, tokens, waits, waited, paced)
