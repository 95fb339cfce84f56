"""Reading QuantConnect Lean data files: one header-less CSV per `.zip`, times in ms after midnight.

Equity files: times are wall-clock ms after midnight America/New_York, prices x10,000. Crypto files: ms
after midnight UTC, plain prices. This module only reads and converts; the loaders build markets.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from nautilus_sor.exceptions import DataFileError, ValidationError

NS_PER_MS = 1_000_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000
EQUITY_PRICE_SCALE = 10_000  # Lean equity prices are integers of 1/10,000 USD
NEW_YORK = "America/New_York"

_DAY_FORMATS = ("%Y%m%d", "%Y-%m-%d")
_DAY_IN_NAME = re.compile(r"(\d{8})")


def parse_day(value: object, field: str = "date") -> dt.date:
    """A trading day from `date`, `datetime`, 'YYYYMMDD' or 'YYYY-MM-DD'."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        for fmt in _DAY_FORMATS:
            try:
                return dt.datetime.strptime(value, fmt).date()
            except ValueError:
                continue
    raise ValidationError(f"invalid {field}: {value!r} (expected a date, 'YYYYMMDD' or 'YYYY-MM-DD')", field=field, value=repr(value))


def parse_instant(value: object, field: str) -> int:
    """A point in time as ns since the epoch: an int (ns), or an ISO time (naive = UTC)."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise ValidationError(f"invalid {field}: {value!r} (ns since the epoch must be > 0)", field=field, value=repr(value))
        return value
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    if isinstance(value, str):
        try:
            ts = pd.Timestamp(value)
        except ValueError:
            ts = None
        if ts is not None and ts is not pd.NaT:
            ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
            return int(ts.value)
    raise ValidationError(f"invalid {field}: {value!r} (an ISO time, naive = UTC, or ns since the epoch)", field=field, value=repr(value))


def latency_value(name: str, value: object) -> float:
    """Venue `name`'s order latency (`latency_ms[name]`): a finite number of ms >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) < float("inf"):
        raise ValidationError(f"invalid latency_ms[{name}]: {value!r} (must be a finite number >= 0)", field=f"latency_ms[{name}]", value=repr(value))
    return float(value)


def latency_table(latency_ms: float | Mapping[str, float] | None, names: Sequence[str], default: float,
                  venue_of: Callable[[str], str]) -> dict[str, float]:
    """Each of the venues `names`' order latency in ms: `default` for all when `latency_ms` is None, else one
    value for all, or a mapping whose keys `venue_of` reads as venue names (raising for a key it does not
    know); a venue the mapping leaves out is an error."""
    if latency_ms is None:
        return {name: default for name in names}
    if isinstance(latency_ms, Mapping):
        given = {venue_of(key): value for key, value in latency_ms.items()}
        missing = [name for name in names if name not in given]
        if missing:
            raise ValidationError(f"invalid latency_ms: no latency for {missing}", field="latency_ms", value=repr(dict(latency_ms)))
    else:
        given = {name: latency_ms for name in names}
    return {name: latency_value(name, given[name]) for name in names}


def known_venue(name: str, names: Sequence[str], field: str) -> str:
    """`name` if it is one of the venues `names`, else a ValidationError on `field` listing them."""
    if name not in names:
        raise ValidationError(f"invalid {field}: unknown venue {name!r} (known: {sorted(names)})", field=field, value=repr(name))
    return name


def fee_pair(name: str, pair: Any, unit: str) -> tuple[float, float]:
    """Venue `name`'s (maker, taker) fees (`fees[name]`) as two floats, in `unit` (named in the error);
    the loader checks their range."""
    try:
        maker, taker = (float(x) for x in pair)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"invalid fees[{name}]: {pair!r} (expected (maker, taker) {unit})", field=f"fees[{name}]", value=repr(pair)) from exc
    return maker, taker


def requested_window(date: object, start: object, end: object, tz: str) -> tuple[object, int | None, int | None]:
    """A loader's (date, start, end) as asked for: `start` and `end` as ns since the epoch (see
    `parse_instant`; None when not given), and `date` defaulting to the `tz` day of `start`."""
    start_at = parse_instant(start, "start") if start is not None else None
    end_at = parse_instant(end, "end") if end is not None else None
    if date is None and start_at is not None:
        date = local_day_of(start_at, tz)
    return date, start_at, end_at


def local_day_of(ns: int, tz: str) -> dt.date:
    """The local calendar day of an instant."""
    return dt.datetime.fromtimestamp(ns / 1e9, tz=ZoneInfo(tz)).date()


def day_tag(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def parse_clock(value: str, field: str) -> int:
    """'HH:MM' (or 'HH:MM:SS') -> ms after midnight."""
    try:
        parts = [int(p) for p in value.split(":")]
    except (AttributeError, ValueError):
        parts = []
    if len(parts) not in (2, 3) or not 0 <= parts[0] <= 24 or not all(0 <= p < 60 for p in parts[1:]):
        raise ValidationError(f"invalid {field}: {value!r} (expected 'HH:MM')", field=field, value=repr(value))
    seconds = parts[0] * 3600 + parts[1] * 60 + (parts[2] if len(parts) == 3 else 0)
    if seconds > 86_400:
        raise ValidationError(f"invalid {field}: {value!r} (after 24:00)", field=field, value=repr(value))
    return seconds * 1000


def local_ms_to_utc_ns(day: dt.date, ms: npt.NDArray[np.int64], tz: str = NEW_YORK) -> npt.NDArray[np.int64]:
    """Wall-clock ms after local midnight of `day` -> UTC epoch ns, DST-correct (zoneinfo).

    The UTC offset is taken per local hour of the day, so a day on which DST starts or ends converts
    each row with the offset in force at its wall-clock hour (in the repeated hour of a fall-back day,
    the first occurrence, `fold=0`)."""
    zone = ZoneInfo(tz)
    ms = np.asarray(ms, dtype=np.int64)
    midnight_utc_naive = dt.datetime(day.year, day.month, day.day)
    epoch_ms = int((midnight_utc_naive - dt.datetime(1970, 1, 1)).total_seconds()) * 1000
    # Offset (ms, local - UTC) at each wall-clock hour 0..24 of the day.
    offsets = np.empty(25, dtype=np.int64)
    for hour in range(25):
        wall = midnight_utc_naive + dt.timedelta(hours=hour)
        offset = wall.replace(tzinfo=zone).utcoffset()
        assert offset is not None  # a ZoneInfo always has one
        offsets[hour] = int(offset.total_seconds()) * 1000
    hours = np.clip(ms // MS_PER_HOUR, 0, 24)
    return (epoch_ms + ms - offsets[hours]) * NS_PER_MS


def utc_ms_to_ns(day: dt.date, ms: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """ms after UTC midnight of `day` -> UTC epoch ns."""
    epoch_ms = (day - dt.date(1970, 1, 1)).days * MS_PER_DAY
    return (epoch_ms + np.asarray(ms, dtype=np.int64)) * NS_PER_MS


#: Value rules of `read_lean_csv`'s `values`: "positive" (finite, > 0), "non_negative" (finite, >= 0; Lean
#: writes 0 for an absent quote side).
VALUE_RULES: dict[str, tuple[Callable[[npt.NDArray[np.float64]], npt.NDArray[np.bool_]], str]] = {
    "positive": (lambda x: np.isfinite(x) & (x > 0), "finite and > 0"),
    "non_negative": (lambda x: np.isfinite(x) & (x >= 0), "finite and >= 0")}
CROSSED_POLICIES = ("refuse", "drop")


def _row_error(path: Path, row: int, column: str, value: object, rule: str) -> DataFileError:
    line = row + 1  # header-less CSV: row i is line i + 1
    return DataFileError(f"invalid Lean file {path} line {line}: {column} {value!r} ({rule})", field=f"{path.name}:{line}", value=repr(value),
                         file=str(path), line=line)


def read_lean_csv(path: Path, columns: Sequence[str], dtypes: Mapping[str, object], *, values: Mapping[str, str] | None = None,
                  crossed: tuple[str, str] | None = None, crossed_books: str = "refuse") -> pd.DataFrame:
    """The one CSV inside a Lean `.zip` (or a plain `.csv`) with the given column names and types.

    Checked, each failure a `DataFileError` naming the file and line: times never go back; each column of
    `values` by its rule (`VALUE_RULES`); with `crossed=(bid, ask)`, no row with both sides quoted and
    bid >= ask (`crossed_books="drop"` drops such rows instead, their count in `frame.attrs["crossed_dropped"]`)."""
    if not path.is_file():
        raise ValidationError(f"missing Lean data file: {path}", field="path", value=str(path))
    try:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if not n.endswith("/")]
                if len(names) != 1:
                    raise ValidationError(f"invalid Lean file {path}: {len(names)} members, expected one CSV", field="path", value=str(path))
                with archive.open(names[0]) as handle:
                    frame = pd.read_csv(handle, header=None)
        else:
            frame = pd.read_csv(path, header=None)
    except (zipfile.BadZipFile, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValidationError(f"invalid Lean file {path}: {exc}", field="path", value=str(path)) from exc
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame(columns=list(columns))
    if frame.shape[1] != len(columns):
        raise ValidationError(
            f"invalid Lean file {path}: {frame.shape[1]} columns, expected {len(columns)} ({', '.join(columns)})",
            field="path",
            value=str(path),
        )
    frame.columns = list(columns)
    try:
        frame = frame.astype(dtypes)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"invalid Lean file {path}: {exc}", field="path", value=str(path)) from exc
    for name, kind in dtypes.items():
        if kind in (np.int64, np.float64, "int64", "float64") and frame[name].isna().any():
            line = int(np.argmax(frame[name].isna().to_numpy())) + 1
            raise DataFileError(f"invalid Lean file {path} line {line}: missing values in column {name}", field=f"{path.name}:{name}", value="NaN",
                                file=str(path), line=line)
    if not frame["ms"].is_monotonic_increasing:
        row = int(np.argmax(np.diff(frame["ms"].to_numpy()) < 0)) + 1
        raise DataFileError(f"invalid Lean file {path} line {row + 1}: times go backwards at row {row} ({frame['ms'].iloc[row]} ms after "
                            f"{frame['ms'].iloc[row - 1]} ms)", field=f"{path.name}:ms", value=str(frame['ms'].iloc[row]), file=str(path), line=row + 1)
    if len(frame) and frame["ms"].iloc[0] < 0:
        raise _row_error(path, 0, "ms", int(frame["ms"].iloc[0]), "a time of day in ms >= 0")
    for column, rule in (values or {}).items():
        ok, text = VALUE_RULES[rule]
        bad = ~ok(frame[column].to_numpy(dtype=np.float64))
        if bad.any():
            row = int(np.argmax(bad))
            raise _row_error(path, row, column, frame[column].iloc[row], f"must be {text}")
    frame.attrs["crossed_dropped"] = 0
    if crossed is not None:
        bid, ask = (frame[c].to_numpy(dtype=np.float64) for c in crossed)
        bad = (bid > 0) & (ask > 0) & (bid >= ask)
        if bad.any():
            if crossed_books != "drop":
                row = int(np.argmax(bad))
                raise _row_error(path, row, f"{crossed[0]}/{crossed[1]}", (frame[crossed[0]].iloc[row], frame[crossed[1]].iloc[row]),
                                 "crossed: bid >= ask; crossed_books='drop' drops such rows")
            frame = frame[~bad].reset_index(drop=True)
            frame.attrs["crossed_dropped"] = int(bad.sum())
    return frame


def days_in_dir(directory: Path, suffix: str) -> list[dt.date]:
    """The days of the `<YYYYMMDD>...<suffix>` files of a Lean folder, sorted."""
    if not directory.is_dir():
        raise ValidationError(f"missing Lean data folder: {directory}", field="data_dir", value=str(directory))
    days = set()
    for path in directory.iterdir():
        match = _DAY_IN_NAME.search(path.name)
        if match and path.name.endswith(suffix):
            days.add(parse_day(match.group(1), field=path.name))
    return sorted(days)


def pick_day(days: Sequence[dt.date], date: object, directory: Path, needs: str) -> dt.date:
    """The day to load of `days` (those the folder has every file for, sorted): `date` (see `parse_day`),
    or the first day when it is None. `needs` says what files a day needs, in the errors."""
    if date is None:
        if not days:
            raise ValidationError(f"no day with {needs} in {directory}", field="data_dir", value=str(directory))
        return days[0]
    day = parse_day(date)
    if day not in days:
        have = ", ".join(day_tag(d) for d in days) or "none"
        raise ValidationError(f"invalid date: {day_tag(day)} has no {needs} in {directory} (have: {have})", field="date", value=str(date))
    return day
