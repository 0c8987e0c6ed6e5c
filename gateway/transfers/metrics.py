"""Prometheus metrics of the transfer path (per receiving registry and message kind)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram


@dataclass(frozen=True)
class TransferMetrics:
    registry: CollectorRegistry
    messages: Counter
    rejections: Counter
    faults: Counter
    replays: Counter
    latency: Histogram


def _build() -> TransferMetrics:
    registry = CollectorRegistry(auto_describe=True)
    return TransferMetrics(
        registry=registry,
        messages=Counter("carbonlink_messages_total", "Messages relayed and receipted, by receiver, kind and outcome",
                         ["peer", "kind", "outcome"], registry=registry),
        rejections=Counter("carbonlink_rejections_total", "Messages refused by the gateway, by sender, kind, code",
                           ["peer", "kind", "code"], registry=registry),
        faults=Counter("carbonlink_delivery_faults_total", "Deliveries that failed, by receiver, kind and code",
                       ["peer", "kind", "code"], registry=registry),
        replays=Counter("carbonlink_replays_total", "Retries answered from the original receipt",
                        ["peer", "kind"], registry=registry),
        latency=Histogram("carbonlink_relay_seconds", "Time from request to receipt, by receiver and kind",
                          ["peer", "kind"], registry=registry,
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)),
    )


METRICS = _build()
