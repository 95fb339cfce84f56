"""A small pure-Python model of the core's child-order schedules, for parity tests.

It follows the rules documented in `rust/sor-core/src/schedule.rs`, written the plain way and sharing
no code with the core:

- `twap` mirrors the core step by step (same SplitMix64 draws, same float operations), so it is
  compared for exact equality, randomised schedules included.
- `exact_quotas` / `exact_vwap_quotas` compute ideal (rational) quotas with `fractions.Fraction`;
  a largest-remainder allocation must give each slice the floor or the ceiling of its quota.
- `shortfall_quotas` is the Almgren-Chriss trajectory with `math.sinh`, for moderate kappa * T.
- `RefPov` and `RefIceberg` are the stateful rules, compared event by event.
"""

from __future__ import annotations

import math
from fractions import Fraction

MASK64 = (1 << 64) - 1
NS_PER_SECOND = 1_000_000_000
NS_PER_HOUR = 3600 * NS_PER_SECOND
NS_PER_DAY = 24 * NS_PER_HOUR
SIZE_STREAM = 0x5EED_0000_0000_0001
TIME_STREAM = 0x5EED_0000_0000_0002


class SplitMix64:
    def __init__(self, seed: int) -> None:
        self.state = seed & MASK64

    def next_u64(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def unit_open(self) -> float:
        return ((self.next_u64() >> 11) + 0.5) * (1.0 / 9007199254740992.0)

    def symmetric(self) -> float:
        return 2.0 * self.unit_open() - 1.0


def round_half_away(x: float) -> int:
    """Rust's `f64::round` for x >= 0."""
    f = math.floor(x)
    return f + 1 if x - f >= 0.5 else f


def seconds_to_ns(seconds: float) -> int:
    return round_half_away(seconds * 1e9)


def floor_tolerant(x: float) -> float:
    r = float(round_half_away(x))
    return r if abs(x - r) <= 1e-9 * max(abs(r), 1.0) else float(math.floor(x))


def grid(duration_seconds: float, interval_seconds: float) -> tuple[int, int, int]:
    d = seconds_to_ns(duration_seconds)
    i = seconds_to_ns(interval_seconds)
    assert 0 < i <= d
    return d, i, -(-d // i)


def hamilton(total: int, weights: list[float]) -> list[int]:
    """Largest remainder as the core does it (normal case: no float overshoot beyond the slices)."""
    s = 0.0
    for w in weights:
        s += w
    t = float(total)
    parts, keys = [], []
    for w in weights:
        q = t * (w / s) if w > 0.0 else 0.0
        f = math.floor(q)
        parts.append(int(f))
        keys.append(math.floor((q - f) * 1e9 + 0.5))
    left = total - sum(parts)
    positive = [i for i, w in enumerate(weights) if w > 0.0]
    assert 0 <= left, "float overshoot: not modelled"
    each, left = divmod(left, len(positive))
    for i in positive:
        parts[i] += each
    for i in sorted(positive, key=lambda i: (-keys[i], i))[:left]:
        parts[i] += 1
    return parts


def twap(
    quantity: int,
    duration_seconds: float,
    interval_seconds: float,
    lot_size: int = 1,
    size_jitter_pct: float = 0.0,
    time_jitter_pct: float = 0.0,
    seed: int = 0,
) -> tuple[list[int], list[int]]:
    lots = quantity // lot_size
    d, step, n = grid(duration_seconds, interval_seconds)
    if size_jitter_pct > 0.0:
        rng = SplitMix64(seed ^ SIZE_STREAM)
        weights = [1.0 + size_jitter_pct * rng.symmetric() for _ in range(n)]
        parts = hamilton(lots, weights)
    else:
        base, extra = divmod(lots, n)
        parts = [base + (1 if i < extra else 0) for i in range(n)]
    time_rng = SplitMix64(seed ^ TIME_STREAM)
    offsets, qtys = [], []
    for i, p in enumerate(parts):
        start = i * step
        offset = start
        if time_jitter_pct > 0.0:
            length = min((i + 1) * step, d) - start
            shift = math.floor(time_rng.unit_open() * time_jitter_pct * float(length))
            offset = start + min(shift, length - 1)
        if p > 0:
            offsets.append(offset)
            qtys.append(p * lot_size)
    return offsets, qtys


def exact_quotas(total: int, weights: list[Fraction]) -> list[Fraction]:
    s = sum(weights)
    if s == 0:
        return [Fraction(0)] * len(weights)  # no volume in the window: the core raises
    return [total * w / s for w in weights]


def exact_vwap_quotas(
    lots: int, profile: dict[int, float], start_ns: int, duration_seconds: float, interval_seconds: float
) -> list[Fraction]:
    """Ideal quotas per slice: the profile's weight over each slice, exactly (hours wrap each day)."""
    d, step, n = grid(duration_seconds, interval_seconds)
    per_hour = [Fraction(profile.get(h, 0.0)) for h in range(24)]
    start = start_ns % NS_PER_DAY

    def cumulative(t: int) -> Fraction:
        days, r = divmod(t, NS_PER_DAY)
        h, within = divmod(r, NS_PER_HOUR)
        return days * sum(per_hour) + sum(per_hour[:h]) + per_hour[h] * Fraction(within, NS_PER_HOUR)

    weights = [cumulative(start + min((i + 1) * step, d)) - cumulative(start + i * step) for i in range(n)]
    return exact_quotas(lots, weights)


def shortfall_quotas(
    lots: int,
    duration_seconds: float,
    interval_seconds: float,
    risk_aversion: float,
    volatility: float,
    temporary_impact: float,
    permanent_impact: float = 0.0,
) -> list[float]:
    """Almgren-Chriss trades on N = ceil(T / tau) periods of length tau, with plain sinh."""
    _, step, n = grid(duration_seconds, interval_seconds)
    tau = step / 1e9
    eta_tilde = temporary_impact - permanent_impact * tau / 2.0
    kappa_tilde2 = risk_aversion * volatility**2 / eta_tilde
    kappa = math.acosh(1.0 + kappa_tilde2 * tau**2 / 2.0) / tau
    if kappa == 0.0:
        return [lots / n] * n
    big_t = n * tau

    def x(j: int) -> float:
        return lots * math.sinh(kappa * (big_t - j * tau)) / math.sinh(kappa * big_t)

    return [x(j) - x(j + 1) for j in range(n)]


class RefPov:
    def __init__(
        self, quantity: int, rate: float, min_child: int = 0, max_child: int | None = None, lot_size: int = 1
    ) -> None:
        self.quantity, self.rate, self.min_child, self.lot = quantity, rate, min_child, lot_size
        self.max_child = None if max_child is None else max_child - max_child % lot_size
        self.sent = 0
        self.observed = 0

    def target(self) -> int:
        return min(int(floor_tolerant(self.rate * float(self.observed))), self.quantity)

    def on_market_volume(self, volume: int) -> int:
        self.observed = min(self.observed + volume, MASK64)
        remaining = self.quantity - self.sent
        if remaining == 0:
            return 0
        child = min(self.target() - self.sent, remaining)
        child = max(child, 0)
        if self.max_child is not None:
            child = min(child, self.max_child)
        child -= child % self.lot
        if child == 0 or (child < self.min_child and child != remaining):
            return 0
        self.sent += child
        return child


class RefIceberg:
    def __init__(
        self, quantity: int, visible_pct: float, lot_size: int = 1, jitter: float = 0.0, seed: int = 0
    ) -> None:
        lots = quantity // lot_size
        self.quantity, self.lot, self.jitter = quantity, lot_size, jitter
        self.display_lots = min(max(int(floor_tolerant(visible_pct * float(lots))), 1), lots)
        self.rng = SplitMix64(seed ^ SIZE_STREAM)
        self.filled = 0
        self.working = 0

    @property
    def hidden(self) -> int:
        return self.quantity - self.filled - self.working

    def next_chunk(self) -> int:
        if self.working > 0 or self.hidden == 0:
            return 0
        lots = self.display_lots
        if self.jitter > 0.0:
            lots = max(round_half_away(self.display_lots * (1.0 + self.jitter * self.rng.symmetric())), 1)
        self.working = min(lots * self.lot, self.hidden)
        return self.working

    def on_fill(self, qty: int) -> int:
        if qty <= 0 or qty > self.working or qty % self.lot:
            raise ValueError(qty)
        self.filled += qty
        self.working -= qty
        return self.next_chunk() if self.working == 0 else 0

    def on_cancel(self) -> int:
        w, self.working = self.working, 0
        return w
