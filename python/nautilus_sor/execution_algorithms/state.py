"""The saved state of an execution algorithm (with its router's, `smart_router/state.py`), as versioned JSON bytes.

What `on_save` writes and `on_load` reads. Plain numbers and strings only: every quantity in integer
units, every time an absolute UNIX timestamp in ns, so a restarted node resumes exactly where the
old one stopped. Encoding is deterministic (fields in declaration order, lists in the algorithm's own
order), so save -> load -> save gives the same bytes.

`decode_state` checks everything before anything is applied: bad JSON, an unknown `version`, a
missing field or numbers that break a parent's bookkeeping raise `StateError` naming the field.
"""

from __future__ import annotations

import msgspec

from nautilus_sor.exceptions import ConfigError, StateError
from nautilus_sor.execution_algorithms.styles import check_style
from nautilus_sor.msgspec_errors import msgspec_error_path
from nautilus_sor.smart_router.state import RouterState

STATE_VERSION = 1
STATE_KEY = "nautilus_sor.exec_algorithm"  # the key in the dict[str, bytes] Nautilus stores


class RestingRecord(msgspec.Struct, forbid_unknown_fields=True):
    """A resting child's watch (`resting.py`): what re-arms its re-price/cross alert after a restart."""

    deadline_ns: int  # the slice's end: crossed from then on
    last_priced_ns: int  # when it was last (re-)priced: the re-price rate limit counts from it
    next_check_ns: int  # when its alert was due (a check whose cancel was in flight: that check, made again)
    execution_style: str
    catch_up_fraction: float
    reprice_interval_s: float


class ChildRecord(msgspec.Struct, forbid_unknown_fields=True):
    client_order_id: str
    instrument_id: str
    units: int
    filled_units: int
    done: bool
    # Set for a working child of a "maker"/"adaptive" slice. Last, with a default: older states read.
    resting: RestingRecord | None = None


class ParentRecord(msgspec.Struct, forbid_unknown_fields=True):
    primary_id: str
    instrument_id: str
    side: str  # "BUY" | "SELL"
    requested: int
    limit: str | None
    precision: int
    lot_units: int
    slices: list[tuple[int, int]]  # (absolute ts ns, units) not yet sent
    pending: int
    working: int
    filled: int
    abandoned: int
    returned: int
    retries: int
    sequence: int
    primary_sent: bool
    adopted: bool
    children: list[ChildRecord]
    # Pending units an event-driven algorithm holds outside `slices` (POV's rest waiting for the tape,
    # an iceberg's hidden rest); always 0 for timed schedules. Last, with a default: older states read.
    held: int = 0


class RiskState(msgspec.Struct, forbid_unknown_fields=True):
    """The kill-switch's memory: a restart must not reset the rolling notional or the child count."""

    children_total: int
    notional: dict[str, list[tuple[int, float]]]  # venue -> [(ts ns, notional)] within the window


class AlgorithmState(msgspec.Struct, forbid_unknown_fields=True):
    version: int
    algorithm_id: str
    parents: list[ParentRecord]
    router: RouterState | None
    risk: RiskState


class _Header(msgspec.Struct):
    version: int


def encode_state(state: AlgorithmState) -> bytes:
    return msgspec.json.encode(state)


def decode_state(data: bytes) -> AlgorithmState:
    """The state in `data`, fully checked; else a `StateError` naming what is wrong."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise StateError(f"invalid state: {type(data).__name__} (must be bytes)", field="state", value=repr(data)[:80])
    try:
        header = msgspec.json.decode(data, type=_Header)
    except msgspec.DecodeError as exc:
        raise StateError(f"invalid state: not a saved algorithm state ({exc})", field="state", value=bytes(data[:80]).decode(errors="replace")) from None
    if header.version != STATE_VERSION:
        raise StateError(
            f"invalid version: {header.version} (this nautilus-sor reads state version {STATE_VERSION})",
            field="version",
            value=repr(header.version),
        )
    try:
        state = msgspec.json.decode(data, type=AlgorithmState)
    except msgspec.DecodeError as exc:
        path = msgspec_error_path(str(exc))
        raise StateError(f"invalid state{path}: {exc}", field=f"state{path}", value=bytes(data[:80]).decode(errors="replace")) from None
    check_state(state)
    return state


def _check_resting(r: RestingRecord, where: str) -> None:
    try:
        check_style(r.execution_style, r.catch_up_fraction, r.reprice_interval_s)
    except ConfigError as exc:
        raise StateError(f"invalid {where}.{str(exc).removeprefix('invalid ')}", field=f"{where}.{exc.field}", value=exc.value) from None
    for name in ("deadline_ns", "last_priced_ns", "next_check_ns"):
        if getattr(r, name) < 0:
            raise StateError(f"invalid {where}.{name}: {getattr(r, name)} (must be >= 0)", field=f"{where}.{name}", value=repr(getattr(r, name)))


def check_state(state: AlgorithmState) -> None:
    """The bookkeeping rules every saved parent must satisfy."""
    for i, p in enumerate(state.parents):
        where = f"parents[{i}]"
        for name in ("requested", "pending", "working", "filled", "abandoned", "returned", "retries", "sequence", "precision", "held"):
            if getattr(p, name) < 0:
                raise StateError(f"invalid {where}.{name}: {getattr(p, name)} (must be >= 0)", field=f"{where}.{name}", value=repr(getattr(p, name)))
        if p.lot_units <= 0:
            raise StateError(f"invalid {where}.lot_units: {p.lot_units} (must be > 0)", field=f"{where}.lot_units", value=repr(p.lot_units))
        if p.side not in ("BUY", "SELL"):
            raise StateError(f"invalid {where}.side: {p.side!r} (BUY or SELL)", field=f"{where}.side", value=repr(p.side))
        total = p.filled + p.working + p.pending + p.abandoned
        if total != p.requested:
            raise StateError(
                f"invalid {where}: filled + working + pending + abandoned = {total} != requested {p.requested}",
                field=f"{where}.requested",
                value=repr(p.requested),
            )
        scheduled = sum(q for _, q in p.slices) + p.returned + p.held
        if scheduled != p.pending:
            raise StateError(
                f"invalid {where}.slices: slices + returned + held = {scheduled} != pending {p.pending}",
                field=f"{where}.slices",
                value=repr(p.slices[:5]),
            )
        if any(q < 0 for _, q in p.slices):
            raise StateError(f"invalid {where}.slices: a negative quantity", field=f"{where}.slices", value=repr(p.slices[:5]))
        open_units = sum(c.units - c.filled_units for c in p.children if not c.done)
        if open_units != p.working:
            raise StateError(
                f"invalid {where}.working: {p.working} != {open_units} open in its children",
                field=f"{where}.working",
                value=repr(p.working),
            )
        for j, c in enumerate(p.children):
            if c.resting is not None:
                _check_resting(c.resting, f"{where}.children[{j}].resting")
            if not 0 <= c.filled_units <= c.units:
                raise StateError(
                    f"invalid {where}.children[{j}].filled_units: {c.filled_units} (must be in [0, {c.units}])",
                    field=f"{where}.children[{j}].filled_units",
                    value=repr(c.filled_units),
                )
    if state.risk.children_total < 0:
        raise StateError(f"invalid risk.children_total: {state.risk.children_total}", field="risk.children_total", value=repr(state.risk.children_total))
