"""HotHistogram is exposed exactly as prometheus_client's Histogram (bar its _created)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from siarkan.metrics import HotHistogram, Metrics


def _lines(registry: CollectorRegistry) -> list[str]:
    text = generate_latest(registry).decode()
    return [line for line in text.splitlines() if "_created" not in line]


def test_hot_histogram_exposition_matches_prometheus_client() -> None:
    hot_registry, reference_registry = CollectorRegistry(), CollectorRegistry()
    hot = HotHistogram("t_seconds", "Time", "kind", registry=hot_registry)
    reference = Histogram("t_seconds", "Time", ["kind"], registry=reference_registry)
    samples = [0.0, 0.001, 0.005, 0.0051, 0.1, 0.3, 2.5, 10.0, 11.0, 1e9]
    for kind in ("a", "b"):
        for value in samples if kind == "a" else samples[:3]:
            hot.labels(kind).observe(value)
            reference.labels(kind).observe(value)
    assert _lines(hot_registry) == _lines(reference_registry)


def test_delivery_seconds_is_a_hot_histogram() -> None:
    """Observed once per delivery: a fan-out must not take two locks for each."""
    assert isinstance(Metrics().delivery_seconds, HotHistogram)
