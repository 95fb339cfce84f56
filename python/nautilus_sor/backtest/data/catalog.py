"""Recorded markets in Nautilus `ParquetDataCatalog`s.

- `write_catalog(market, path)`: the Nautilus side (instruments, `OrderBookDelta`s, `QuoteTick`s,
  `TradeTick`s) into a catalog, plus `nautilus_sor.json` (source, notes, fees, latency, normalisation
  parameters, window) and the arrays (`arrays-<hash>.npz`, keyed by a hash of the catalog's files and
  the normalisation parameters), so that loading back does not redo the normalisation.
- `load_catalog(path, venues=...)`: a `RecordedMarket` from ANY catalog. With our metadata and a matching
  arrays file, the arrays are read as they were written; otherwise they are rebuilt from the Nautilus data:
  L2 books replayed from the deltas (top `levels` after each F_LAST batch), a 1-level book from quotes
  for a venue without deltas, the tape from trades; inverse instruments' sizes converted to the base
  asset (contracts * multiplier / price); the basis to a `reference` venue removed when one is given.
- `cached_market(cache_dir, key, params, build)`: the first call builds the market (e.g. from raw files)
  and writes the catalog; later calls with the same parameters read the catalog.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nautilus_sor.backtest.data.recorded import BookSeries, RecordedMarket, RecordedVenue, TradeTape, rolling_basis, shift_prices
from nautilus_sor.exceptions import ConfigError, MarketDataError

METADATA_FILE = "nautilus_sor.json"
FORMAT_VERSION = 1
DEFAULT_LEVELS = 20
DEFAULT_LATENCY_MS = 5.0


# -- writing -------------------------------------------------------------------------------------------


def write_catalog(market: RecordedMarket, path: str | Path, *, source: dict[str, Any] | None = None,
                  params: dict[str, Any] | None = None) -> Path:
    """Writes `market` into a fresh catalog at `path` (replacing what was there); returns the path.

    `source`: where the data came from (shown in the metadata); `params`: the parameters the market was
    built with (a later `cached_market` call must match them to reuse the catalog)."""
    from nautilus_trader.model.data import OrderBookDeltas
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    path = Path(path)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    catalog = ParquetDataCatalog(str(path))
    catalog.write_data(market.instruments)
    by_kind: dict[str, list[Any]] = {"deltas": [], "other": []}
    for obj in market.data:
        if isinstance(obj, OrderBookDeltas):
            by_kind["deltas"].extend(obj.deltas)
        else:
            by_kind["other"].append(obj)
    for objs in by_kind.values():
        if objs:
            catalog.write_data(objs)
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
    }
    (path / METADATA_FILE).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return path


def _content_hash(path: Path) -> str:
    """A hash of the catalog's data files (relative names and bytes): a copy hashes the same."""
    h = hashlib.sha256()
    for file in sorted(path.rglob("*.parquet")):
        h.update(str(file.relative_to(path)).encode())
        h.update(hashlib.sha256(file.read_bytes()).digest())
    return h.hexdigest()


def _save_arrays(market: RecordedMarket, file: Path) -> None:
    arrays: dict[str, np.ndarray] = {}
    for i, v in enumerate(market.venues):
        if v.book is not None:
            for f in ("ts", "bid_px", "bid_sz", "ask_px", "ask_sz"):
                arrays[f"{i}.book.{f}"] = getattr(v.book, f)
        for f in ("ts", "price", "size", "aggressor"):
            arrays[f"{i}.trades.{f}"] = getattr(v.trades, f)
        if v.price_offset is not None:
            arrays[f"{i}.offset.ts"], arrays[f"{i}.offset.value"] = v.price_offset
    np.savez(file, **arrays)


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
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
        raise MarketDataError(f"{file}: metadata format {meta.get('format') if isinstance(meta, dict) else meta!r}, expected {FORMAT_VERSION}",
                              field="path", value=str(file))
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
) -> RecordedMarket:
    """A `RecordedMarket` from the catalog at `path` (ours or any Nautilus catalog).

    `venues`: the venue names to keep (default: every instrument's venue; one instrument per venue).
    `reference`: remove each other venue's rolling basis to this venue (trailing `basis_window_s` median;
    catalogs we wrote already say what they did). `latency_ms`: per-venue order latency for the
    router's terms (default: ours from the metadata, else 5 ms). `start`/`end`: ns bounds on ts_init."""
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
    ids = [instruments[v].id.value for v in chosen]
    kwargs: dict[str, Any] = {"instrument_ids": ids}
    if start is not None:
        kwargs["start"] = start
    if end is not None:
        kwargs["end"] = end
    # Deltas per instrument: batching (up to each F_LAST) over several interleaved instruments would mix them.
    books = []
    if _has(catalog, "order_book_delta"):
        for iid in ids:
            books.extend(_batches(catalog.order_book_deltas(**{**kwargs, "instrument_ids": [iid]})))
    quotes = catalog.quote_ticks(**kwargs) if _has(catalog, "quote_tick") else []
    trades = catalog.trade_ticks(**kwargs) if _has(catalog, "trade_tick") else []
    data = _merge([books, quotes, trades])
    if not data:
        raise MarketDataError(f"the catalog at {path} has no book, quote or trade data for {ids}", field="path", value=str(path))
    start_ns = start if start is not None else (meta["start_ns"] if meta else data[0].ts_init)
    end_ns = end if end is not None else (meta["end_ns"] if meta else data[-1].ts_init)

    by_meta = {v["name"]: v for v in meta["venues"]} if meta else {}
    arrays = _cached_arrays(path, meta) if meta and start is None and end is None and venues is None else None
    latency = _latencies(latency_ms, chosen, by_meta)
    notes = list(meta["notes"]) if meta else [f"catalog {path}: arrays rebuilt from the Nautilus data (top {levels} book levels)"]
    out = []
    for i, v in enumerate(chosen):
        instrument = instruments[v]
        terms = by_meta.get(v, {})
        if arrays is not None:
            book, tape, offset = _arrays_of(arrays, i, meta)
        else:
            book, tape = _rebuild(instrument, books, quotes, trades, levels)
            offset = None
        maker = terms.get("maker_fee", float(instrument.maker_fee))
        taker = terms.get("taker_fee", float(instrument.taker_fee))
        lot = terms.get("lot_size") or _lot_size(instrument, book)
        to_instrument = terms.get("size_to_instrument") or _size_to_instrument(instrument, book)
        out.append(RecordedVenue(name=v, instrument=instrument, maker_fee=maker, taker_fee=taker, latency_ms=latency[v], book=book,
                                 trades=tape, lot_size=lot, size_to_instrument=to_instrument, price_offset=offset))
    if latency_ms is not None and meta:
        notes.append("latency (overridden): " + ", ".join(f"{v.name} {v.latency_ms:g} ms" for v in out))
    if arrays is None and meta:
        # Rebuilt (a sub-window or a subset of venues): the same normalisation the metadata states.
        reference = reference or next((v["name"] for v in meta["venues"] if v["book"] and not v["basis_removed"]), None)
        if any(v.get("basis_removed") for v in meta["venues"]) and reference in chosen:
            out = _remove_basis(out, reference, float(meta["params"].get("basis_window_s", basis_window_s)), start_ns, end_ns, [])
    elif arrays is None:
        for v in out:
            if getattr(v.instrument, "is_inverse", False):
                notes.append(f"contracts: {v.name} sizes converted from contracts of {float(v.instrument.multiplier):g} "
                             f"{v.instrument.quote_currency.code} to {v.instrument.base_currency.code} (contracts * multiplier / price)")
        if reference is not None:
            out = _remove_basis(out, reference, basis_window_s, start_ns, end_ns, notes)
    return RecordedMarket(name=name or (meta["name"] if meta else path.name), asset=meta["asset"] if meta else _asset(out),
                          venues=tuple(out), data=data, start_ns=int(start_ns), end_ns=int(end_ns), notes=notes)


def meta_venue_names(meta: dict[str, Any] | None) -> list[str]:
    return [v["name"] for v in meta["venues"]] if meta else []


def _batches(deltas: list[Any]) -> list[Any]:
    """`OrderBookDeltas` up to each F_LAST (a trailing batch without one is kept). Nautilus's own
    `batched=True` ran a snapshot into the next diff in our tests, so the grouping is done here."""
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


def _has(catalog: Any, kind: str) -> bool:
    return kind in catalog.list_data_types()


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


def _arrays_of(arrays: Any, i: int, meta: dict[str, Any]) -> tuple[BookSeries | None, TradeTape, tuple[np.ndarray, np.ndarray] | None]:
    book = None
    if f"{i}.book.ts" in arrays:
        book = BookSeries(**{f: arrays[f"{i}.book.{f}"] for f in ("ts", "bid_px", "bid_sz", "ask_px", "ask_sz")})
    tape = TradeTape(**{f: arrays[f"{i}.trades.{f}"] for f in ("ts", "price", "size", "aggressor")})
    offset = (arrays[f"{i}.offset.ts"], arrays[f"{i}.offset.value"]) if f"{i}.offset.ts" in arrays else None
    return book, tape, offset


def _merge(streams: list[list[Any]]) -> list[Any]:
    flat = [o for objs in streams for o in objs]
    if not flat:
        return []
    ts = np.fromiter((o.ts_init for o in flat), dtype=np.int64, count=len(flat))
    return [flat[k] for k in np.argsort(ts, kind="stable").tolist()]


def _contract_factor(instrument: Any) -> float | None:
    """For an inverse instrument: its multiplier (the base size of a contract is multiplier / price)."""
    return float(instrument.multiplier) if getattr(instrument, "is_inverse", False) else None


def _rebuild(instrument: Any, books: list[Any], quotes: list[Any], trades: list[Any], levels: int) -> tuple[BookSeries | None, TradeTape]:
    """Arrays from the Nautilus data of one instrument (see the module docstring)."""
    iid = instrument.id
    contract = _contract_factor(instrument)
    mine = [b for b in books if b.instrument_id == iid]
    if mine:
        book = _replay(mine, levels)
    else:
        qs = [q for q in quotes if q.instrument_id == iid]
        book = None
        if qs:
            col = lambda f: np.array([f(q) for q in qs], dtype=np.float64)[:, None]  # noqa: E731
            book = BookSeries(ts=np.array([q.ts_init for q in qs], dtype=np.int64), bid_px=col(lambda q: q.bid_price.as_double()),
                              bid_sz=col(lambda q: q.bid_size.as_double()), ask_px=col(lambda q: q.ask_price.as_double()),
                              ask_sz=col(lambda q: q.ask_size.as_double()))
    ts_ = [t for t in trades if t.instrument_id == iid]
    px = np.array([t.price.as_double() for t in ts_], dtype=np.float64)
    sz = np.array([t.size.as_double() for t in ts_], dtype=np.float64)
    side = np.array([1 if t.aggressor_side.name == "BUYER" else -1 if t.aggressor_side.name == "SELLER" else 0 for t in ts_], dtype=np.int8)
    if contract:
        sz = sz * contract / px
        if book is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                book.bid_sz = np.where(book.bid_sz > 0, book.bid_sz * contract / book.bid_px, 0.0)
                book.ask_sz = np.where(book.ask_sz > 0, book.ask_sz * contract / book.ask_px, 0.0)
    return book, TradeTape(ts=np.array([t.ts_init for t in ts_], dtype=np.int64), price=px, size=sz, aggressor=side)


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


def _lot_size(instrument: Any, book: BookSeries | None) -> float:
    step = float(instrument.size_increment)
    contract = _contract_factor(instrument)
    mid = _first_mid(book)
    return step * contract / mid if contract and mid else step


def _size_to_instrument(instrument: Any, book: BookSeries | None) -> float:
    contract = _contract_factor(instrument)
    mid = _first_mid(book)
    return mid / contract if contract and mid else 1.0


def _asset(venues: list[RecordedVenue]) -> str:
    codes = {getattr(v.instrument, "base_currency", None) for v in venues}
    codes.discard(None)
    return next(iter(codes)).code if len(codes) == 1 else venues[0].instrument.id.symbol.value


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
                  source: dict[str, Any] | None = None) -> RecordedMarket:
    """`build()`'s market, written to `<cache_dir>/<key>/` the first time and read from there after, as
    long as `params` (JSON-able: what the market was built from) match. `cache_dir` None: no cache."""
    if cache_dir is None:
        return build()
    path = Path(cache_dir) / key
    meta = read_metadata(path) if path.is_dir() else None
    if meta is not None and meta.get("params") == _jsonable(params) and meta.get("content_hash") == _content_hash(path):
        return load_catalog(path)
    market = build()
    write_catalog(market, path, source=source, params=_jsonable(params))
    return market


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


__all__ = ["cached_market", "load_catalog", "read_metadata", "write_catalog"]
