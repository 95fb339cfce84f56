"""(Over 600 lines: one on-disk format, written and read back in one module - its metadata, arrays file,
market tape and data order - so that the writer and the two readers, as written and rebuilt from any
catalog, cannot drift apart; the loaders that produce the markets live in their own modules.)

Recorded markets in Nautilus `ParquetDataCatalog`s.

- `write_catalog(market, path)`: the Nautilus side (instruments, `OrderBookDelta`s, `QuoteTick`s,
  `TradeTick`s, `Bar`s) into a catalog, plus `nautilus_sor.json` (source, notes, fees, latency,
  normalisation parameters, window, the VWAP volume curve), the arrays (`arrays-<hash>.npz`, keyed by a
  hash of the catalog's files), the market-wide tape (`market_trades.npz`) and the order of the data
  (`data_order.npy`: which stream each object came from, so equal-time objects come back in the loader's
  order), so that loading back does not redo the normalisation and gives the market that was written.
- `load_catalog(path, venues=...)`: a `RecordedMarket` from ANY catalog. With our metadata and a matching
  arrays file, the arrays are read as they were written; otherwise they are rebuilt from the Nautilus data:
  L2 books replayed from the deltas (top `levels` after each F_LAST batch), a 1-level book from quotes
  for a venue without deltas, the tape from trades (or, for a bar market, one print per LAST bar at its
  close); inverse instruments' sizes converted to the base asset (contracts * multiplier / price); the
  basis to a `reference` venue removed when one is given. Rebuilt arrays are cached next to the catalog
  (`derived_cache.py`), keyed by the catalog's files and the arguments.
- `cached_market(cache_dir, key, params, build)`: the first call builds the market (e.g. from raw files)
  and writes the catalog; later calls with the same parameters read the catalog.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from nautilus_sor.backtest.data import derived_cache
from nautilus_sor.backtest.data.recorded import BookSeries, RecordedMarket, RecordedVenue, TradeTape, rolling_basis, shift_prices
from nautilus_sor.exceptions import ConfigError, MarketDataError

METADATA_FILE = "nautilus_sor.json"
# 2: + volume_profile, market_trades, data_order (bars round-trip). Format 1 is still read; a cache of
# format 1 is rebuilt by `cached_market` (it lacks what format 2 keeps).
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
MARKET_TRADES_FILE = "market_trades.npz"
DATA_ORDER_FILE = "data_order.npy"
_TAPE_FIELDS = ("ts", "price", "size", "aggressor")
# One venue's arrays: its book (None for a bar market), its tape, its basis offset (grid ts, offset) or None.
VenueArrays = tuple[BookSeries | None, TradeTape, tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]] | None]
DEFAULT_LEVELS = 20
DEFAULT_LATENCY_MS = 5.0


# -- writing -------------------------------------------------------------------------------------------


def write_catalog(market: RecordedMarket, path: str | Path, *, source: dict[str, Any] | None = None,
                  params: dict[str, Any] | None = None) -> Path:
    """Writes `market` into a fresh catalog at `path` (replacing what was there); returns the path.

    `source`: where the data came from (shown in the metadata); `params`: the parameters the market was
    built with (a later `cached_market` call must match them to reuse the catalog). Written in a sibling
    directory first and swapped in, so a reader never sees half a catalog."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.parent / f".{path.name}.{os.getpid()}.writing"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    try:
        _write_into(market, staging, source=source, params=params)
        _swap_in(staging, path)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return path


def _swap_in(staging: Path, path: Path) -> None:
    old = path.parent / f".{path.name}.{os.getpid()}.old"
    if path.exists():
        os.replace(path, old)
    os.replace(staging, path)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def write_nautilus_data(catalog: Any, instruments: Sequence[Any], data: Sequence[Any]) -> None:
    """Writes `instruments` and `data` into `catalog` (a `ParquetDataCatalog`). The catalog stores single
    deltas: `OrderBookDeltas` are written as their deltas, whose F_LAST flags keep the batch boundaries
    (`read_streams` regroups them)."""
    from nautilus_trader.model.data import OrderBookDeltas

    catalog.write_data(list(instruments))
    by_kind: dict[str, list[Any]] = {"deltas": [], "other": []}
    for obj in data:
        if isinstance(obj, OrderBookDeltas):
            by_kind["deltas"].extend(obj.deltas)
        else:
            by_kind["other"].append(obj)
    for objs in by_kind.values():
        if objs:
            catalog.write_data(objs)


def _write_into(market: RecordedMarket, path: Path, *, source: dict[str, Any] | None, params: dict[str, Any] | None) -> None:
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    write_nautilus_data(ParquetDataCatalog(str(path)), market.instruments, market.data)
    content = _content_hash(path)
    arrays_file = f"arrays-{content[:16]}.npz"
    _save_arrays(market, path / arrays_file)
    meta = {
        "format": FORMAT_VERSION,
        "name": market.name,
        "asset": market.asset,
        "source": source or {},
        "params": params or {},
        "start_ns": market.start_ns,
        "end_ns": market.end_ns,
        "notes": market.notes,
        "venues": [
            {"name": v.name, "instrument_id": v.instrument.id.value, "maker_fee": v.maker_fee, "taker_fee": v.taker_fee,
             "latency_ms": v.latency_ms, "lot_size": v.lot_size, "size_to_instrument": v.size_to_instrument,
             "basis_removed": v.price_offset is not None, "book": v.book is not None}
            for v in market.venues
        ],
        "content_hash": content,
        "arrays": arrays_file,
        "volume_profile": _curve_to_dict(market.volume_profile),
        "market_trades": None,
        "data_order": _save_data_order(market.data, path / DATA_ORDER_FILE),
    }
    if market.market_trades is not None:
        np.savez(path / MARKET_TRADES_FILE, **{f: getattr(market.market_trades, f) for f in _TAPE_FIELDS})
        meta["market_trades"] = MARKET_TRADES_FILE
    (path / METADATA_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")


def _curve_to_dict(curve: Any) -> dict[str, Any] | None:
    if curve is None:
        return None
    if not callable(getattr(curve, "to_dict", None)):
        raise MarketDataError(f"cannot write volume_profile of type {type(curve).__name__} (a lean_bars.VolumeCurve has to_dict)",
                              field="volume_profile", value=type(curve).__name__)
    return cast("dict[str, Any]", curve.to_dict())


def _stream_key(obj: Any) -> tuple[str, str] | None:
    """The stream an object is read back in: (kind, instrument id or bar type)."""
    from nautilus_trader.model.data import Bar, OrderBookDeltas, QuoteTick, TradeTick

    if isinstance(obj, OrderBookDeltas):
        return "deltas", obj.instrument_id.value
    if isinstance(obj, QuoteTick):
        return "quotes", obj.instrument_id.value
    if isinstance(obj, TradeTick):
        return "trades", obj.instrument_id.value
    if isinstance(obj, Bar):
        return "bars", str(obj.bar_type)
    return None


def _save_data_order(data: list[Any], file: Path) -> dict[str, Any] | None:
    """Which stream each object of `data` belongs to, in order (None if an object has no stream: then
    reading merges the streams by time)."""
    keys: dict[tuple[str, str], int] = {}
    codes = np.empty(len(data), dtype=np.int32)
    for k, obj in enumerate(data):
        key = _stream_key(obj)
        if key is None:
            return None
        codes[k] = keys.setdefault(key, len(keys))
    np.save(file, codes)
    return {"file": file.name, "streams": [list(k) for k in keys]}


def _content_hash(path: Path) -> str:
    """A hash of the catalog's data files (relative names and bytes): a copy hashes the same."""
    h = hashlib.sha256()
    for file in sorted(path.rglob("*.parquet")):
        h.update(str(file.relative_to(path)).encode())
        h.update(hashlib.sha256(file.read_bytes()).digest())
    return h.hexdigest()


def _save_arrays(market: RecordedMarket, file: Path) -> None:
    # numpy's stub lets `**kwds` collide with `allow_pickle: bool`, so mypy rejects any **dict of arrays
    np.savez(file, **_venue_arrays([(v.book, v.trades, v.price_offset) for v in market.venues]))  # type: ignore[arg-type]


def _venue_arrays(parts: list[VenueArrays]) -> dict[str, npt.NDArray[Any]]:
    """Each venue's arrays under `<index>.<book|trades|offset>.<field>` (`_arrays_of` reads them)."""
    arrays: dict[str, npt.NDArray[Any]] = {}
    for i, (book, tape, offset) in enumerate(parts):
        if book is not None:
            for f in ("ts", "bid_px", "bid_sz", "ask_px", "ask_sz"):
                arrays[f"{i}.book.{f}"] = getattr(book, f)
        for f in _TAPE_FIELDS:
            arrays[f"{i}.trades.{f}"] = getattr(tape, f)
        if offset is not None:
            arrays[f"{i}.offset.ts"], arrays[f"{i}.offset.value"] = offset
    return arrays


# -- reading -------------------------------------------------------------------------------------------


def read_metadata(path: str | Path) -> dict[str, Any] | None:
    """Our metadata next to a catalog, or None for a catalog we did not write."""
    file = Path(path) / METADATA_FILE
    if not file.is_file():
        return None
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MarketDataError(f"{file}: unreadable metadata ({exc})", field="path", value=str(file)) from None
    if not isinstance(meta, dict) or meta.get("format") not in READABLE_FORMATS:
        raise MarketDataError(f"{file}: metadata format {meta.get('format') if isinstance(meta, dict) else meta!r}, expected one of "
                              f"{READABLE_FORMATS}", field="path", value=str(file))
    return meta


def load_catalog(
    path: str | Path,
    *,
    venues: Sequence[str] | None = None,
    levels: int = DEFAULT_LEVELS,
    reference: str | None = None,
    basis_window_s: float = 60.0,
    latency_ms: dict[str, float] | float | None = None,
    start: int | None = None,
    end: int | None = None,
    name: str | None = None,
    cache_derived: bool = True,
) -> RecordedMarket:
    """A `RecordedMarket` from the catalog at `path` (ours or any Nautilus catalog).

    `venues`: the venue names to keep (default: every instrument's venue; one instrument per venue).
    `reference`: remove each other venue's rolling basis to this venue (trailing `basis_window_s` median;
    catalogs we wrote already say what they did). `latency_ms`: per-venue order latency for the
    router's terms (default: ours from the metadata, else 5 ms). `start`/`end`: ns bounds on ts_init
    (inclusive, as the catalog's queries). `cache_derived`: keep rebuilt arrays next to the catalog."""
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    path = Path(path)
    if not path.is_dir():
        raise MarketDataError(f"missing catalog directory {path}", field="path", value=str(path))
    meta = read_metadata(path)
    catalog = ParquetDataCatalog(str(path))
    instruments = {i.id.venue.value: i for i in _instruments(catalog, path)}
    chosen = list(venues) if venues is not None else list(meta_venue_names(meta) or sorted(instruments))
    for i, v in enumerate(chosen):
        if v not in instruments:
            raise ConfigError(f"invalid venues[{i}]: {v!r} (the catalog at {path} has {', '.join(sorted(instruments))})",
                              field=f"venues[{i}]", value=repr(v))
    windowed = start is not None or end is not None
    streams = read_streams(catalog, [instruments[v] for v in chosen], start, end)
    data = _in_written_order(streams, meta, path) if meta and not windowed else None
    if data is None:
        data = _merge(list(streams.values()))
    if not data:
        raise MarketDataError(f"the catalog at {path} has no book, quote, trade or bar data for {[instruments[v].id.value for v in chosen]}",
                              field="path", value=str(path))
    start_ns = start if start is not None else (meta["start_ns"] if meta else data[0].ts_init)
    end_ns = end if end is not None else (meta["end_ns"] if meta else data[-1].ts_init)

    by_meta = {v["name"]: v for v in meta["venues"]} if meta else {}
    arrays = _cached_arrays(path, meta) if meta and not windowed and venues is None else None
    latency = _latencies(latency_ms, chosen, by_meta)
    notes = list(meta["notes"]) if meta else [f"catalog {path}: arrays rebuilt from the Nautilus data (top {levels} book levels)"]
    if arrays is not None:
        parts = [_arrays_of(arrays, i) for i in range(len(chosen))]
    else:
        args = {"venues": chosen, "levels": levels, "reference": reference, "basis_window_s": basis_window_s,
                "start_ns": int(start_ns), "end_ns": int(end_ns)}
        parts, rebuilt_notes = _derived_arrays(path, instruments, streams, meta, args, cache_derived)
        notes += rebuilt_notes
    out = []
    for v, (book, tape, offset) in zip(chosen, parts):
        instrument = instruments[v]
        terms = by_meta.get(v, {})
        first_price = _first_mid(book) or _first_bar_close(instrument, streams)
        out.append(RecordedVenue(
            name=v, instrument=instrument, maker_fee=terms.get("maker_fee", float(instrument.maker_fee)),
            taker_fee=terms.get("taker_fee", float(instrument.taker_fee)), latency_ms=latency[v], book=book, trades=tape,
            lot_size=terms.get("lot_size") or _lot_size(instrument, first_price),
            size_to_instrument=terms.get("size_to_instrument") or _size_to_instrument(instrument, first_price), price_offset=offset))
    if latency_ms is not None and meta:
        notes.append("latency (overridden): " + ", ".join(f"{v.name} {v.latency_ms:g} ms" for v in out))
    volume_profile, market_trades = _market_extras(path, meta, start, end)
    return RecordedMarket(name=name or (meta["name"] if meta else path.name), asset=meta["asset"] if meta else _asset(out),
                          venues=tuple(out), data=data, start_ns=int(start_ns), end_ns=int(end_ns), notes=notes,
                          volume_profile=volume_profile, market_trades=market_trades)


def _derived_arrays(path: Path, instruments: dict[str, Any], streams: dict[tuple[str, str], list[Any]], meta: dict[str, Any] | None,
                    args: dict[str, Any], cache: bool) -> tuple[list[VenueArrays], list[str]]:
    """`_rebuild_arrays`, through the cache next to the catalog (`derived_cache.py`)."""
    if not cache:
        return _rebuild_arrays(instruments, streams, meta, **args)
    entry = derived_cache.entry_path(path, derived_cache.fingerprint(path, METADATA_FILE), args)
    hit = derived_cache.load_entry(entry)
    if hit is not None and hit[1].get("venues") == args["venues"]:
        arrays, saved = hit
        return [_arrays_of(arrays, i) for i in range(len(args["venues"]))], list(saved["notes"])
    parts, notes = _rebuild_arrays(instruments, streams, meta, **args)
    arrays = _venue_arrays(parts)
    failed = derived_cache.save_entry(entry, arrays, {"venues": args["venues"], "notes": notes})
    if failed:
        notes = [*notes, f"rebuilt arrays not cached next to the catalog ({failed})"]
    return parts, notes


def _rebuild_arrays(instruments: dict[str, Any], streams: dict[tuple[str, str], list[Any]], meta: dict[str, Any] | None, *,
                    venues: list[str], levels: int, reference: str | None, basis_window_s: float, start_ns: int,
                    end_ns: int) -> tuple[list[VenueArrays], list[str]]:
    """Each venue's arrays from the Nautilus data, normalised as our metadata states (or as asked); the
    notes this adds."""
    notes: list[str] = []
    out = []
    for name in venues:
        book, tape, from_bars = _rebuild(instruments[name], streams, levels)
        # Terms do not matter here (only the arrays are kept): a RecordedVenue is what `_remove_basis` takes.
        out.append(RecordedVenue(name=name, instrument=instruments[name], maker_fee=0.0, taker_fee=0.0, latency_ms=0.0, book=book,
                                 trades=tape, lot_size=1.0))
        if from_bars and not meta:
            notes.append(f"bar market: {name} has no order book; its tape is one print per LAST bar at its close (close price, the "
                         "bar's volume, aggressor unknown)")
    if meta:
        # Rebuilt (a sub-window or a subset of venues): the same normalisation the metadata states.
        reference = reference or next((v["name"] for v in meta["venues"] if v["book"] and not v["basis_removed"]), None)
        if any(v.get("basis_removed") for v in meta["venues"]) and reference in venues:
            out = _remove_basis(out, reference, float(meta["params"].get("basis_window_s", basis_window_s)), start_ns, end_ns, [])
    else:
        for v in out:
            if getattr(v.instrument, "is_inverse", False):
                notes.append(f"contracts: {v.name} sizes converted from contracts of {float(v.instrument.multiplier):g} "
                             f"{v.instrument.quote_currency.code} to {v.instrument.base_currency.code} (contracts * multiplier / price)")
        if reference is not None:
            out = _remove_basis(out, reference, basis_window_s, start_ns, end_ns, notes)
    return [(v.book, v.trades, v.price_offset) for v in out], notes


def _market_extras(path: Path, meta: dict[str, Any] | None, start: int | None, end: int | None) -> tuple[Any, TradeTape | None]:
    """The volume curve and the market-wide tape as written (the tape cut to [start, end] like the data)."""
    if not meta:
        return None, None
    curve = None
    if meta.get("volume_profile") is not None:
        from nautilus_sor.backtest.data.lean_bars import VolumeCurve

        curve = VolumeCurve.from_dict(meta["volume_profile"])
    tape = None
    if meta.get("market_trades"):
        file = path / meta["market_trades"]
        if not file.is_file():
            raise MarketDataError(f"{file}: missing (the metadata names it as the market's tape)", field="market_trades", value=str(file))
        with np.load(file) as npz:
            tape = TradeTape(**{f: npz[f] for f in _TAPE_FIELDS})
        if start is not None or end is not None:
            lo = start if start is not None else np.iinfo(np.int64).min
            hi = end if end is not None else np.iinfo(np.int64).max
            keep = (tape.ts >= lo) & (tape.ts <= hi)
            tape = TradeTape(**{f: getattr(tape, f)[keep] for f in _TAPE_FIELDS})
    return curve, tape


def meta_venue_names(meta: dict[str, Any] | None) -> list[str]:
    return [v["name"] for v in meta["venues"]] if meta else []


def batch_deltas(deltas: list[Any]) -> list[Any]:
    """Time-sorted `OrderBookDelta`s of one instrument as `OrderBookDeltas`, each ending at a delta flagged
    F_LAST (a trailing batch without one is kept). Nautilus's own `batched=True` ran a snapshot into the
    next diff in our tests, so the grouping is done here (also for the BacktestNode, `backtest/node.py`)."""
    from nautilus_trader.model.data import OrderBookDeltas
    from nautilus_trader.model.enums import RecordFlag

    f_last = int(RecordFlag.F_LAST)
    out, batch = [], []
    for d in deltas:
        batch.append(d)
        if d.flags & f_last:
            out.append(OrderBookDeltas(d.instrument_id, batch))
            batch = []
    if batch:
        out.append(OrderBookDeltas(batch[0].instrument_id, batch))
    return out


def _instruments(catalog: Any, path: Path) -> list[Any]:
    instruments = catalog.instruments()
    if not instruments:
        raise MarketDataError(f"the catalog at {path} has no instruments", field="path", value=str(path))
    seen: dict[str, Any] = {}
    for i in instruments:
        if i.id.venue.value in seen:
            raise MarketDataError(f"the catalog at {path} has two instruments on venue {i.id.venue.value} "
                                  f"({seen[i.id.venue.value].id} and {i.id}): a recorded market is one asset per venue",
                                  field="venues", value=i.id.venue.value)
        seen[i.id.venue.value] = i
    return list(seen.values())


def _latencies(latency_ms: dict[str, float] | float | None, venues: list[str], by_meta: dict[str, Any]) -> dict[str, float]:
    out = {}
    for v in venues:
        ms = latency_ms.get(v) if isinstance(latency_ms, dict) else latency_ms
        if ms is None:
            ms = by_meta.get(v, {}).get("latency_ms", DEFAULT_LATENCY_MS)
        if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not 0 <= ms < 60_000:
            raise ConfigError(f"invalid latency_ms.{v}: {ms!r} (milliseconds in [0, 60000))", field=f"latency_ms.{v}", value=repr(ms))
        out[v] = float(ms)
    if isinstance(latency_ms, dict):
        for k in latency_ms:
            if k not in venues:
                raise ConfigError(f"invalid latency_ms.{k}: unknown venue (one of {', '.join(venues)})", field=f"latency_ms.{k}", value=repr(k))
    return out


def _cached_arrays(path: Path, meta: dict[str, Any]) -> Any:
    """The arrays file written with the catalog, if the catalog's files are still the ones it was built from."""
    file = path / meta.get("arrays", "")
    if not meta.get("arrays") or not file.is_file() or _content_hash(path) != meta.get("content_hash"):
        return None
    return np.load(file)


def _arrays_of(arrays: Any, i: int) -> VenueArrays:
    book = None
    if f"{i}.book.ts" in arrays:
        book = BookSeries(**{f: arrays[f"{i}.book.{f}"] for f in ("ts", "bid_px", "bid_sz", "ask_px", "ask_sz")})
    tape = TradeTape(**{f: arrays[f"{i}.trades.{f}"] for f in _TAPE_FIELDS})
    offset = (arrays[f"{i}.offset.ts"], arrays[f"{i}.offset.value"]) if f"{i}.offset.ts" in arrays else None
    return book, tape, offset


def read_streams(catalog: Any, instruments: list[Any], start: int | None = None, end: int | None = None) -> dict[tuple[str, str], list[Any]]:
    """The catalog's data of `instruments` as streams `(kind, instrument id or bar type) -> objects`, kind
    by kind, each stream in the catalog's (time) order. Deltas are read per instrument (batching up to each
    F_LAST over several interleaved instruments would mix them) and grouped into `OrderBookDeltas`."""
    window = {k: v for k, v in (("start", start), ("end", end)) if v is not None}
    kinds = set(catalog.list_data_types())
    streams: dict[tuple[str, str], list[Any]] = {}
    readers = (("deltas", "order_book_delta", lambda iid: batch_deltas(catalog.order_book_deltas(instrument_ids=[iid], **window))),
               ("quotes", "quote_tick", lambda iid: catalog.quote_ticks(instrument_ids=[iid], **window)),
               ("trades", "trade_tick", lambda iid: catalog.trade_ticks(instrument_ids=[iid], **window)))
    for kind, stem, read in readers:
        if stem in kinds:
            for instrument in instruments:
                streams[(kind, instrument.id.value)] = read(instrument.id.value)
    if "bar" in kinds:
        for instrument in instruments:
            # The catalog matches bar types by a part of the instrument id: keep this instrument's own.
            for bar in catalog.bars(instrument_ids=[instrument.id.value], **window):
                if bar.bar_type.instrument_id == instrument.id:
                    streams.setdefault(("bars", str(bar.bar_type)), []).append(bar)
    return {k: v for k, v in streams.items() if v}


def _in_written_order(streams: dict[tuple[str, str], list[Any]], meta: dict[str, Any], path: Path) -> list[Any] | None:
    """The streams interleaved as the market's data was when written (`data_order.npy`); None when there is
    no order file or it does not describe these streams (then `_merge` orders by time)."""
    order = meta.get("data_order")
    if not order or not (path / order["file"]).is_file():
        return None
    file = path / order["file"]
    keys = [tuple(k) for k in order["streams"]]
    if not set(streams) <= set(keys):
        return None
    codes = np.load(file)
    counts = np.bincount(codes, minlength=len(keys))
    if any(key in streams and len(streams[key]) != counts[c] for c, key in enumerate(keys)):
        return None
    wanted = [key in streams for key in keys]  # a venue left out: its streams were not read
    sources = [iter(streams.get(key, ())) for key in keys]
    return [next(sources[c]) for c in codes.tolist() if wanted[c]]


def _merge(streams: list[list[Any]]) -> list[Any]:
    flat = [o for objs in streams for o in objs]
    if not flat:
        return []
    ts = np.fromiter((o.ts_init for o in flat), dtype=np.int64, count=len(flat))
    return [flat[k] for k in np.argsort(ts, kind="stable").tolist()]


def _contract_factor(instrument: Any) -> float | None:
    """For an inverse instrument: its multiplier (the base size of a contract is multiplier / price)."""
    return float(instrument.multiplier) if getattr(instrument, "is_inverse", False) else None


def _rebuild(instrument: Any, streams: dict[tuple[str, str], list[Any]], levels: int) -> tuple[BookSeries | None, TradeTape, bool]:
    """Arrays from the Nautilus data of one instrument (see the module docstring); True when the tape
    comes from LAST bars (a bar market: no trade ticks)."""
    iid = instrument.id.value
    contract = _contract_factor(instrument)
    book = None
    if streams.get(("deltas", iid)):
        book = _replay(streams[("deltas", iid)], levels)
    elif streams.get(("quotes", iid)):
        qs = streams[("quotes", iid)]
        col: Callable[[Callable[[Any], float]], npt.NDArray[np.float64]] = lambda f: np.array([f(q) for q in qs], dtype=np.float64)[:, None]  # noqa: E731
        book = BookSeries(ts=np.array([q.ts_init for q in qs], dtype=np.int64), bid_px=col(lambda q: q.bid_price.as_double()),
                          bid_sz=col(lambda q: q.bid_size.as_double()), ask_px=col(lambda q: q.ask_price.as_double()),
                          ask_sz=col(lambda q: q.ask_size.as_double()))
    ticks = streams.get(("trades", iid), [])
    bars = _last_bars(instrument, streams) if not ticks else []
    side: npt.NDArray[np.int8]  # the branches build it with different static shapes
    if bars:
        # As the bar loader: one print per traded bar at its close (ts_init), the close price, the bar's volume.
        close = np.array([b.close.as_double() for b in bars], dtype=np.float64)
        volume = np.array([b.volume.as_double() for b in bars], dtype=np.float64)
        traded = volume > 0
        ts = np.array([b.ts_init for b in bars], dtype=np.int64)[traded]
        px, sz, side = close[traded], volume[traded], np.zeros(int(traded.sum()), dtype=np.int8)
    else:
        ts = np.array([t.ts_init for t in ticks], dtype=np.int64)
        px = np.array([t.price.as_double() for t in ticks], dtype=np.float64)
        sz = np.array([t.size.as_double() for t in ticks], dtype=np.float64)
        side = np.array([1 if t.aggressor_side.name == "BUYER" else -1 if t.aggressor_side.name == "SELLER" else 0 for t in ticks], dtype=np.int8)
    if contract:
        sz = sz * contract / px
        if book is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                book.bid_sz = np.where(book.bid_sz > 0, book.bid_sz * contract / book.bid_px, 0.0)
                book.ask_sz = np.where(book.ask_sz > 0, book.ask_sz * contract / book.ask_px, 0.0)
    return book, TradeTape(ts=ts, price=px, size=sz, aggressor=side), bool(bars)


def _last_bars(instrument: Any, streams: dict[tuple[str, str], list[Any]]) -> list[Any]:
    """The instrument's LAST-price bars (one bar type; several would be several tapes of one venue)."""
    from nautilus_trader.model.enums import PriceType

    found = [(key[1], objs) for key, objs in streams.items()
             if key[0] == "bars" and objs[0].bar_type.instrument_id == instrument.id and objs[0].bar_type.spec.price_type == PriceType.LAST]
    if len(found) > 1:
        raise MarketDataError(f"{instrument.id} has {len(found)} LAST bar types ({', '.join(k for k, _ in found)}): which one is the tape is "
                              "ambiguous (keep one bar type per instrument in the catalog)", field="bars", value=found[0][0])
    return found[0][1] if found else []


def _first_bar_close(instrument: Any, streams: dict[tuple[str, str], list[Any]]) -> float | None:
    bars = _last_bars(instrument, streams)
    return bars[0].close.as_double() if bars else None


def _replay(batches: list[Any], levels: int) -> BookSeries:
    """Applies the deltas to an L2 book (price -> size) and keeps the top `levels` after each batch."""
    from itertools import islice

    from sortedcontainers import SortedDict

    bids: SortedDict = SortedDict()  # -price -> size
    asks: SortedDict = SortedDict()
    ts, rows = [], []
    for batch in batches:
        for d in batch.deltas:
            action = d.action.name
            if action == "CLEAR":
                bids.clear()
                asks.clear()
                continue
            order = d.order
            price, size = order.price.as_double(), order.size.as_double()
            book, key = (bids, -price) if order.side.name == "BUY" else (asks, price)
            if action == "DELETE" or size == 0:
                book.pop(key, None)
            else:
                book[key] = size
        b = list(islice(bids.items(), levels))
        a = list(islice(asks.items(), levels))
        ts.append(batch.ts_init)
        rows.append(([-k for k, _ in b], [s for _, s in b], [k for k, _ in a], [s for _, s in a]))
    n = len(rows)
    bid_px, ask_px = np.full((n, levels), np.nan), np.full((n, levels), np.nan)
    bid_sz, ask_sz = np.zeros((n, levels)), np.zeros((n, levels))
    for j, (bp, bs, ap, as_) in enumerate(rows):
        bid_px[j, : len(bp)], bid_sz[j, : len(bs)], ask_px[j, : len(ap)], ask_sz[j, : len(as_)] = bp, bs, ap, as_
    return BookSeries(ts=np.asarray(ts, dtype=np.int64), bid_px=bid_px, bid_sz=bid_sz, ask_px=ask_px, ask_sz=ask_sz)


def _first_mid(book: BookSeries | None) -> float | None:
    if book is None or book.ts.size == 0:
        return None
    mid = (book.bid_px[:, 0] + book.ask_px[:, 0]) / 2
    finite = mid[np.isfinite(mid)]
    return float(finite[0]) if finite.size else None


def _lot_size(instrument: Any, first_price: float | None) -> float:
    """The instrument's size step in the base asset (an inverse contract at the first price: its mid, or
    for a bar market the first close, as the loaders do)."""
    step = float(instrument.size_increment)
    contract = _contract_factor(instrument)
    return step * contract / first_price if contract and first_price else step


def _size_to_instrument(instrument: Any, first_price: float | None) -> float:
    contract = _contract_factor(instrument)
    return first_price / contract if contract and first_price else 1.0


def _asset(venues: list[RecordedVenue]) -> str:
    codes: set[Any] = {getattr(v.instrument, "base_currency", None) for v in venues}
    codes.discard(None)
    return cast(str, next(iter(codes)).code if len(codes) == 1 else venues[0].instrument.id.symbol.value)  # Nautilus objects: untyped


def _remove_basis(venues: list[RecordedVenue], reference: str, window_s: float, start: int, end: int, notes: list[str]) -> list[RecordedVenue]:
    ref = next((v for v in venues if v.name == reference), None)
    if ref is None or ref.book is None:
        raise ConfigError(f"invalid reference: {reference!r} (must be one of the venues with a book: "
                          f"{', '.join(v.name for v in venues if v.book is not None)})", field="reference", value=repr(reference))
    out = []
    for v in venues:
        if v is ref or v.book is None:
            out.append(v)
            continue
        grid, offset = rolling_basis(ref.book, v.book, start, end, window_s=window_s)
        out.append(shift_prices(v, grid, offset))
        notes.append(f"basis: {v.name} array prices minus its rolling offset to {reference} (trailing {window_s:g} s median of mid - "
                     f"{reference} mid, sampled every 1 s; offset {offset.min():+.4g} .. {offset.max():+.4g}, mean {offset.mean():+.4g})")
    return out


# -- the cache -----------------------------------------------------------------------------------------


def cached_market(cache_dir: str | Path | None, key: str, params: dict[str, Any], build: Callable[[], RecordedMarket], *,
                  source: dict[str, Any] | None = None, source_path: str | Path | None = None) -> RecordedMarket:
    """`build()`'s market, written to `<cache_dir>/<key>/` the first time and read from there after, as
    long as `params` (JSON-able: what the market was built from) match and, when `source_path` (the raw
    files) exists, so does its content (`source_fingerprint`: a source truncated or rewritten in place is
    rebuilt). Without the raw files the cached market is used as it is. `cache_dir` None: no cache."""
    if cache_dir is None:
        return build()
    fingerprint = source_fingerprint(Path(source_path)) if source_path is not None and Path(source_path).exists() else None
    params = {**params, "sources": fingerprint}
    path = Path(cache_dir) / key
    meta = read_metadata(path) if path.is_dir() else None
    current = meta is not None and meta.get("format") == FORMAT_VERSION
    # `current` implies `meta is not None`; mypy does not narrow through the bool
    if current and meta.get("content_hash") == _content_hash(path):  # type: ignore[union-attr]
        saved = dict(meta.get("params") or {})  # type: ignore[union-attr]
        if fingerprint is None:
            saved["sources"] = None  # no raw files to compare with: the cache is what there is
        if saved == _jsonable(params):
            return load_catalog(path)
    market = build()
    write_catalog(market, path, source=source, params=_jsonable(params))
    return market


def source_fingerprint(path: Path) -> list[list[Any]]:
    """The raw files a market is built from (`path`, or every file under it): per file its relative name,
    size, mtime (ns) and the SHA-256 of its bytes, sorted by name."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    out = []
    for file in files:
        stat = file.stat()
        digest = hashlib.sha256()
        with open(file, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        out.append([str(file.relative_to(path)) if file != path else file.name, stat.st_size, stat.st_mtime_ns, digest.hexdigest()])
    return out


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


__all__ = ["batch_deltas", "cached_market", "load_catalog", "read_metadata", "read_streams", "write_catalog", "write_nautilus_data"]
