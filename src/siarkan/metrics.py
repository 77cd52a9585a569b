"""Prometheus metrics, one registry per app (no module-level globals; tests build many apps)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate
from typing import Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

Child = TypeVar("Child")


class _HotChild:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def inc(self, amount: int = 1) -> None:
        self.value += amount


class _HotLabelled(Collector, Generic[Child]):
    """A metric with one label whose children are plain Python objects, read when scraped:
    for paths that run thousands of times a second, where prometheus_client's locks cost
    more than the work measured. Changed from the event loop's thread only."""

    def __init__(
        self, name: str, documentation: str, label: str, registry: CollectorRegistry
    ) -> None:
        self.name, self.documentation, self.label = name, documentation, label
        self._children: dict[str, Child] = {}
        registry.register(self)

    def _new_child(self) -> Child:
        raise NotImplementedError

    def labels(self, *values: str, **by_name: str) -> Child:
        (value,) = values or tuple(by_name.values())
        child = self._children.get(value)
        if child is None:
            child = self._children[value] = self._new_child()
        return child


class HotCounter(_HotLabelled[_HotChild]):
    """A labelled counter (a cached feed's lookups): prometheus_client's Counter takes a lock
    on every inc(), which costs more than serving a 304 from the cache does."""

    def _new_child(self) -> _HotChild:
        return _HotChild()

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(self.name, self.documentation, labels=[self.label])
        for value, child in self._children.items():
            family.add_metric([value], child.value)
        yield family


def _le(bound: float) -> str:
    """A bucket bound as prometheus_client writes it ("0.005", "1.0", "+Inf")."""
    return "+Inf" if bound == float("inf") else repr(bound)


_BOUNDS = tuple(float(b) for b in Histogram.DEFAULT_BUCKETS)


class HotHistogramChild:
    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * len(_BOUNDS)  # per bucket, not cumulative; the last bound is +Inf
        self.sum = 0.0

    def observe(self, amount: float) -> None:
        self.counts[bisect_left(_BOUNDS, amount)] += 1  # buckets are `le`: amount <= bound
        self.sum += amount


class HotHistogram(_HotLabelled[HotHistogramChild]):
    """A labelled histogram (a fan-out's delivery times) with prometheus_client's default
    buckets: its Histogram.observe() takes two locks, ~1.5-2.5 µs a delivery. Exposed the same
    way (`_bucket`, `_count`, `_sum`)."""

    def _new_child(self) -> HotHistogramChild:
        return HotHistogramChild()

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=[self.label])
        names = [_le(bound) for bound in _BOUNDS]
        for value, child in list(self._children.items()):
            buckets = list(zip(names, accumulate(child.counts), strict=True))
            family.add_metric([value], buckets, child.sum)
        yield family


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.deliveries = Counter(
            "siarkan_deliveries_total",
            "Delivery attempts by kind and outcome",
            ["kind", "outcome"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "siarkan_delivery_queue_depth", "Deliveries waiting, by state", ["state"], registry=r
        )
        self.oldest_pending_age = Gauge(
            "siarkan_delivery_oldest_pending_seconds", "Age of the oldest due delivery", registry=r
        )
        self.host_failures = Counter(
            "siarkan_delivery_host_failures_total",
            "Failed deliveries per host",
            ["host"],
            registry=r,
        )
        self.delivery_seconds = HotHistogram(
            "siarkan_delivery_seconds", "Time to send one delivery", "kind", registry=r
        )
        self.feed_cache = HotCounter(
            "siarkan_feed_cache", "Feed cache lookups", "result", registry=r
        )
        self.feed_render_seconds = Histogram(
            "siarkan_feed_render_seconds", "Time to render one feed page", ["format"], registry=r
        )
        self.inbox_verifications = HotCounter(
            "siarkan_inbox_verifications", "Inbox signature checks by result", "result", r
        )
        self.inbox_activities = HotCounter(
            "siarkan_inbox_activities", "Accepted inbox activities by type", "type", r
        )
        self.articles_imported = Counter(
            "siarkan_articles_imported_total",
            "Articles stored by outcome",
            ["outcome"],
            registry=r,
        )
        self.source_polls = Counter(
            "siarkan_source_polls_total",
            "Polls of configured sources: fetched, not_modified (304) or error",
            ["outcome"],
            registry=r,
        )
        self.scheduled_published = Counter(
            "siarkan_scheduled_published_total", "Scheduled articles published", registry=r
        )
