"""Prometheus metrics, in a registry of the app's own (so several apps in one process never clash)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class Metrics:
    def __init__(self):
        self.registry = CollectorRegistry()
        self.requests = Counter("supportops_http_requests_total", "HTTP requests",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("supportops_http_request_duration_seconds",
                                 "HTTP request latency", ["route", "method"],
                                 registry=self.registry)
        self.resolves = Counter("supportops_resolves_total", "Resolved customer requests",
                                ["intent", "action", "outcome"], registry=self.registry)
        self.refunds = Counter("supportops_refunds_issued_total", "Refunds issued by the agent",
                               registry=self.registry)
        self.refund_amount = Counter("supportops_refunded_dollars_total",
                                     "Dollars refunded by the agent", registry=self.registry)
        self.unavailable = Counter("supportops_unavailable_total",
                                   "503 answers because a dependency was unavailable or busy",
                                   ["dependency"], registry=self.registry)
        self.limiter_unavailable = Counter(
            "supportops_rate_limiter_unavailable_total",
            "Rate-limit checks skipped (open) or refused (closed) with the store unreachable",
            ["mode"], registry=self.registry)
        self.idempotency = Counter("supportops_idempotency_total",
                                   "Idempotency-Key outcomes (claimed, replayed, taken_over, "
                                   "in_progress)", ["outcome"], registry=self.registry)
        self.escalations = Counter("supportops_escalations_total", "Cases escalated to a human",
                                   ["source"], registry=self.registry)

    def record_resolve(self, response: dict) -> None:
        result = response["action_result"]
        self.resolves.labels(response["intent"], response["action"], result["status"]).inc()
        if response["action"] == "issue_refund" and result["status"] == "success":
            self.refunds.inc()
            self.refund_amount.inc(float(result.get("amount") or 0))
        if response["escalated"]:
            self.escalations.labels("resolve").inc()
