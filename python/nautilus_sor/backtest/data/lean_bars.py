"""Lean minute bars: the bar columns, and intraday volume curves for VWAP (equities).

    curve = volume_profile_from_minute_bars("../shared/data/lean_equity_bars/minute/ibm", for_date="2013-10-08")
    VWAPExecAlgorithmConfig(**curve.vwap_params())          # or volume_profile=curve.hourly()

A volume curve is built from the trade bars of *other* days than the one it is for (no look-ahead with
`before_only=True`, which the Lean equity loader passes), in the traded day's UTC clock, which is what the
VWAP algorithm's bucket curve repeats daily. The crypto bar market (spot, perpetuals) is `lean_crypto_bars`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nautilus_sor._core import volume_curve_from_bars
from nautilus_sor.backtest.data.lean_files import (
    MS_PER_DAY,
    NEW_YORK,
    day_tag,
    days_in_dir,
    local_ms_to_utc_ns,
    parse_clock,
    parse_day,
    read_lean_csv,
)
from nautilus_sor.exceptions import ValidationError

TRADE_BAR_COLUMNS = ("ms", "open", "high", "low", "close", "volume")
TRADE_BAR_TYPES = {c: (np.int64 if c == "ms" else np.float64) for c in TRADE_BAR_COLUMNS}
QUOTE_BAR_COLUMNS = ("ms", "bid_open", "bid_high", "bid_low", "bid_close", "bid_size",
                      "ask_open", "ask_high", "ask_low", "ask_close", "ask_size")
QUOTE_BAR_TYPES = {c: (np.int64 if c == "ms" else np.float64) for c in QUOTE_BAR_COLUMNS}
# Checked on read (`read_lean_csv`): trade bars' prices > 0, volumes >= 0; quote bars' prices and sizes >= 0
# (0: an absent side), never crossed at the close.
TRADE_BAR_VALUES = {"open": "positive", "high": "positive", "low": "positive", "close": "positive", "volume": "non_negative"}
QUOTE_BAR_VALUES = {c: "non_negative" for c in QUOTE_BAR_COLUMNS if c != "ms"}
TRADE_PRICES = ("open", "high", "low", "close")
QUOTE_PRICES = tuple(c for c in QUOTE_BAR_COLUMNS if c != "ms" and not c.endswith("_size"))
BAR_MS = 60_000


# -- volume curves -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VolumeCurve:
    """A day's volume curve: `weights[k]` is the share of the day's volume traded in the k-th bucket of
    `bucket_seconds` from midnight UTC (summing to 1), built from the minute bars of `days`."""

    weights: npt.NDArray[np.float64]  # float64, 86400 / bucket_seconds buckets, UTC
    bucket_seconds: float
    days: tuple[str, ...]  # the days of history used, 'YYYYMMDD'
    for_date: str | None  # the day it is for (excluded from `days`), whose UTC offset places the buckets

    def vwap_params(self) -> dict[str, Any]:
        """The VWAP algorithm's bucket curve (`VWAPExecAlgorithmConfig(bucket_weights=..., bucket_seconds=...)`)."""
        return {"bucket_weights": self.weights.tolist(), "bucket_seconds": self.bucket_seconds}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (for a catalog's metadata); `from_dict` reads it back."""
        return {"weights": self.weights.tolist(), "bucket_seconds": self.bucket_seconds, "days": list(self.days), "for_date": self.for_date}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VolumeCurve:
        try:
            weights = np.asarray(data["weights"], dtype=np.float64)
            curve = cls(weights=weights, bucket_seconds=float(data["bucket_seconds"]), days=tuple(str(d) for d in data["days"]),
                        for_date=None if data.get("for_date") is None else str(data["for_date"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"invalid volume curve: {exc!r}", field="volume_profile", value=repr(data)[:200]) from None
        if weights.ndim != 1 or weights.size * curve.bucket_seconds != 86_400 or not np.all(weights >= 0) or not weights.sum() > 0:
            raise ValidationError("invalid volume curve: weights must cover one day, be >= 0 and not all zero", field="volume_profile",
                                  value=f"{weights.size} x {curve.bucket_seconds} s")
        return curve

    def hourly(self) -> dict[int, float]:
        """The reference's `{hour_of_day (UTC): fraction}` profile, the hours with volume only."""
        per_hour = self.weights.reshape(24, -1).sum(axis=1) if self.weights.size % 24 == 0 else self._hourly_uneven()
        return {hour: float(w) for hour, w in enumerate(per_hour) if w > 0}

    def _hourly_uneven(self) -> npt.NDArray[np.float64]:
        starts = np.arange(self.weights.size) * self.bucket_seconds
        # float64 with `weights`; numpy's stub types every bincount as intp
        return np.bincount((starts // 3600).astype(np.int64), weights=self.weights, minlength=24)[:24]  # type: ignore[return-value]


def volume_profile_from_minute_bars(
    path_or_dir: str | Path,
    days: Iterable[object] | None = None,
    *,
    bucket_minutes: float = 1.0,
    for_date: object = None,
    before_only: bool = False,
    hours: tuple[str, str] | None = ("09:30", "16:00"),
    tz: str = NEW_YORK,
) -> VolumeCurve:
    """The intraday volume curve of Lean minute trade bars (`<YYYYMMDD>_trade.zip`, a folder or one file).

    `for_date`: the day the curve is for: never used as history (no look-ahead; an explicit `days` that
    holds it is an error), and its UTC offset places the local bars on the UTC clock (DST-correct for that
    day). `days`: the history days (default: every day in the folder but `for_date`; with `before_only`,
    only the days before it). `hours`: local session kept ('09:30'-'16:00' by default; None = all bars,
    pre and post market included). `bucket_minutes` must divide a day."""
    path = Path(path_or_dir)
    target = parse_day(for_date, "for_date") if for_date is not None else None
    bucket_seconds = float(bucket_minutes) * 60.0
    if not bucket_seconds > 0 or (86_400 / bucket_seconds) != int(86_400 / bucket_seconds):
        raise ValidationError(f"invalid bucket_minutes: {bucket_minutes!r} (must divide a day)", field="bucket_minutes", value=repr(bucket_minutes))
    files = _history_files(path, days, target, before_only)
    start_ms, end_ms = (parse_clock(hours[0], "hours[0]"), parse_clock(hours[1], "hours[1]")) if hours else (0, MS_PER_DAY)
    stamps, volumes = [], []
    for day, file in files:
        bars = read_lean_csv(file, TRADE_BAR_COLUMNS, TRADE_BAR_TYPES, values=TRADE_BAR_VALUES)
        ms = bars["ms"].to_numpy()
        keep = (ms >= start_ms) & (ms < end_ms)
        # Each bar at its local time of day on the target day (or its own day): the target day's UTC clock.
        stamps.append(local_ms_to_utc_ns(target or day, ms[keep], tz))
        volumes.append(bars["volume"].to_numpy()[keep])
    ts, vol = np.concatenate(stamps), np.concatenate(volumes)
    if ts.size == 0 or not vol.sum() > 0:
        raise ValidationError(f"no volume in the minute bars of {path} within {hours}", field="path_or_dir", value=str(path))
    if np.any(vol < 0):
        raise ValidationError(f"negative bar volume in {path}", field="volume", value=str(float(vol.min())))
    weights = np.asarray(volume_curve_from_bars(ts.astype(np.int64), vol.astype(np.float64), bucket_seconds), dtype=np.float64)
    return VolumeCurve(weights=weights, bucket_seconds=bucket_seconds, days=tuple(day_tag(d) for d, _ in files),
                       for_date=day_tag(target) if target else None)


def _history_files(path: Path, days: Iterable[object] | None, target: dt.date | None, before_only: bool) -> list[tuple[dt.date, Path]]:
    if path.is_file():
        match = days_in_name(path)
        if match == target:
            raise ValidationError(f"invalid path_or_dir: {path.name} is the day the curve is for (look-ahead)", field="path_or_dir", value=str(path))
        return [(match, path)]
    available = days_in_dir(path, "_trade.zip")
    if days is None:
        chosen = [d for d in available if d != target and not (before_only and target and d >= target)]
    else:
        chosen = sorted({parse_day(d, "days") for d in days})
        if target in chosen:
            raise ValidationError(f"invalid days: {day_tag(target)} is the day the curve is for (look-ahead)", field="days", value=day_tag(target))
        if before_only and target and any(d > target for d in chosen):
            raise ValidationError(f"invalid days: days after {day_tag(target)} with before_only", field="days", value=repr([day_tag(d) for d in chosen]))
        missing = [day_tag(d) for d in chosen if d not in available]
        if missing:
            raise ValidationError(f"invalid days: no trade bars for {missing} in {path}", field="days", value=repr(missing))
    if not chosen:
        raise ValidationError(f"no history days in {path} for {day_tag(target) if target else 'the curve'}", field="days", value=repr(days))
    return [(d, path / f"{day_tag(d)}_trade.zip") for d in chosen]


def days_in_name(path: Path) -> dt.date:
    return parse_day(path.name[:8], field="path_or_dir")
