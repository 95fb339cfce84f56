//! `BookFeed`: the router's books kept in the core from Nautilus `OrderBookDeltas` (`sor_core::book::DeltaBook`),
//! one call per Nautilus batch, so that a routing decision reads nothing from Nautilus.
//!
//! The fast entry, `apply_capsule`, reads the batch as Nautilus itself hands it to C:
//! `OrderBookDelta.capsule_from_list(deltas.deltas)` is a capsule holding a `CVec` of `OrderBookDelta_t`
//! (`nautilus_trader/core/includes/model.h`, `#[repr(C)]` on Nautilus's side). The structs below mirror that
//! header for both of Nautilus's builds (128-bit raw values with `high-precision`, 64-bit without);
//! `nautilus_sor.book_sync` checks the mirror against a known delta before it trusts it (`decode_capsule`).

use std::ffi::c_void;
use std::sync::{Mutex, OnceLock};

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyDict, PySet, PyString, PyType};
use sor_core::book::{BookDelta, DeltaBook};

use crate::errors::{invalid, IntoPyResult};
use crate::lock::lock_attached;
use crate::router::PyRouter;

#[repr(C)]
struct CVec {
    ptr: *const c_void,
    len: usize,
    cap: usize,
}

/// `Price_t` / `Quantity_t`: a raw fixed-point value and its precision (`P`: the raw type).
#[repr(C)]
struct Fixed<P> {
    raw: P,
    precision: u8,
}

/// `BookOrder_t`.
#[repr(C)]
struct Order<P, Q> {
    side: u32, // enum OrderSide
    price: Fixed<P>,
    size: Fixed<Q>,
    order_id: u64,
}

/// `OrderBookDelta_t`: `Delta<i128, u128>` in Nautilus's default (`high-precision`) build, `Delta<i64, u64>`
/// without it. Nested exactly as the header nests them, so each struct keeps its own alignment.
#[repr(C)]
struct Delta<P, Q> {
    instrument_id: [usize; 2], // two interned-string pointers
    action: u32,               // enum BookAction
    order: Order<P, Q>,
    flags: u8,
    sequence: u64,
    ts_event: u64,
    ts_init: u64,
}

fn clip(v: u32) -> u8 {
    u8::try_from(v).unwrap_or(u8::MAX)
}

/// The deltas in a `capsule_from_list` capsule.
fn read_capsule(capsule: &Bound<'_, PyAny>, wide: bool) -> PyResult<Read> {
    let capsule = capsule.cast::<PyCapsule>().map_err(|_| {
        invalid(
            "capsule",
            capsule.repr().map(|r| r.to_string()).unwrap_or_default(),
            "must be the capsule of OrderBookDelta.capsule_from_list",
        )
    })?;
    // SAFETY: a capsule of `capsule_from_list` (unnamed) holds a `CVec*` whose `ptr` points at `len`
    // `OrderBookDelta_t`; the capsule (held by the caller) keeps them alive for this call. The layout is
    // the header's (checked against Nautilus by the Python side before the first use).
    let vec = unsafe { pyo3::ffi::PyCapsule_GetPointer(capsule.as_ptr(), std::ptr::null()) } as *const CVec;
    if vec.is_null() {
        return Err(PyErr::take(capsule.py()).unwrap_or_else(|| invalid("capsule", "NULL", "holds no pointer")));
    }
    read_cvec(unsafe { &*vec }, wide)
}

/// The deltas of a batch as `BookDelta`s and their flags.
type Read = (Vec<BookDelta>, Vec<u8>);

/// The `OrderBookDelta_t`s of a `CVec`.
fn read_cvec(vec: &CVec, wide: bool) -> PyResult<Read> {
    let mut deltas = Vec::with_capacity(vec.len);
    let mut flags = Vec::with_capacity(vec.len);
    if vec.len > 0 && vec.ptr.is_null() {
        return Err(invalid("capsule", vec.len, "holds a NULL vector of that length"));
    }
    for i in 0..vec.len {
        let (d, f) = if wide {
            let d = unsafe { &*(vec.ptr as *const Delta<i128, u128>).add(i) };
            let o = &d.order;
            (
                BookDelta {
                    action: clip(d.action),
                    side: clip(o.side),
                    price: o.price.raw,
                    size: o.size.raw,
                },
                d.flags,
            )
        } else {
            let d = unsafe { &*(vec.ptr as *const Delta<i64, u64>).add(i) };
            let o = &d.order;
            let (price, size) = (i128::from(o.price.raw), u128::from(o.size.raw));
            (
                BookDelta {
                    action: clip(d.action),
                    side: clip(o.side),
                    price,
                    size,
                },
                d.flags,
            )
        };
        deltas.push(d);
        flags.push(f);
    }
    Ok((deltas, flags))
}

/// `InstrumentId_t`: Nautilus's two interned-string pointers (symbol, venue). Interned for the life of the
/// process: one instrument, one pair, so comparing pairs compares instruments.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq)]
struct InternedInstrumentId {
    symbol: usize,
    venue: usize,
}

/// Nautilus's own C accessors of an `OrderBookDeltas` batch, from its loaded `nautilus_trader.model.data`
/// module (which exports them for its Cython layer): `orderbook_deltas_vec_deltas` copies the batch's deltas
/// into a `CVec`, `orderbook_deltas_vec_drop` frees it, `orderbook_deltas_instrument_id` reads the batch's
/// instrument. With them a batch crosses into Rust without Python building an `OrderBookDelta` object per
/// delta (`deltas.deltas`), the largest cost of handing a batch over.
struct DeltasAccessor {
    deltas_type: Py<PyType>,
    vec_deltas: unsafe extern "C" fn(*const c_void) -> CVec,
    vec_drop: unsafe extern "C" fn(CVec),
    instrument_id: unsafe extern "C" fn(*const c_void) -> InternedInstrumentId,
}

static DELTAS_ACCESSOR: OnceLock<DeltasAccessor> = OnceLock::new();

/// Finds the three accessors in the already loaded module at `module_path` (never loads it), for batches of
/// exactly `deltas_type` (`OrderBookDeltas`). False when the module or a symbol is not there (the callers
/// then read batches through `capsule_from_list`). Binds once per process; later calls say whether it is bound.
#[cfg(unix)]
fn find_accessor(module_path: &str, deltas_type: &Bound<'_, PyType>) -> bool {
    if DELTAS_ACCESSOR.get().is_some() {
        return true;
    }
    let Ok(path) = std::ffi::CString::new(module_path) else {
        return false;
    };
    // SAFETY: RTLD_NOLOAD only returns a handle to a library this process has already loaded (the
    // module stays loaded: Python never unloads extension modules); the symbols are Nautilus's exported
    // `extern "C"` functions with the signatures of its header (`model.h`).
    unsafe {
        let handle = libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD);
        if handle.is_null() {
            return false;
        }
        let vec_deltas = libc::dlsym(handle, c"orderbook_deltas_vec_deltas".as_ptr());
        let vec_drop = libc::dlsym(handle, c"orderbook_deltas_vec_drop".as_ptr());
        let instrument_id = libc::dlsym(handle, c"orderbook_deltas_instrument_id".as_ptr());
        libc::dlclose(handle); // the module's own reference keeps it loaded
        if vec_deltas.is_null() || vec_drop.is_null() || instrument_id.is_null() {
            return false;
        }
        let _ = DELTAS_ACCESSOR.set(DeltasAccessor {
            deltas_type: deltas_type.clone().unbind(),
            vec_deltas: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*const c_void) -> CVec>(vec_deltas),
            vec_drop: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(CVec)>(vec_drop),
            instrument_id: std::mem::transmute::<
                *mut c_void,
                unsafe extern "C" fn(*const c_void) -> InternedInstrumentId,
            >(instrument_id),
        });
        true
    }
}

#[cfg(not(unix))]
fn find_accessor(_module_path: &str, _deltas_type: &Bound<'_, PyType>) -> bool {
    false
}

/// A Nautilus `OrderBookDeltas` batch opened for Nautilus's accessor: its `OrderBookDeltas_API*`, valid
/// while `_capsule` (and the caller's batch object) lives.
struct Batch<'py> {
    _capsule: Bound<'py, PyAny>,
    api: *const c_void,
    accessor: &'static DeltasAccessor,
}

impl<'py> Batch<'py> {
    fn open(deltas: &Bound<'py, PyAny>) -> PyResult<Self> {
        let py = deltas.py();
        let accessor = DELTAS_ACCESSOR.get().ok_or_else(|| {
            invalid(
                "deltas",
                "OrderBookDeltas",
                "no accessor bound: call bind_deltas_accessor first",
            )
        })?;
        if !deltas.get_type().is(accessor.deltas_type.bind(py)) {
            return Err(invalid(
                "deltas",
                deltas.repr().map(|r| r.to_string()).unwrap_or_default(),
                "must be a nautilus_trader OrderBookDeltas",
            ));
        }
        // `to_capsule` holds a copy of the batch's `OrderBookDeltas_API` (a pointer to the Rust batch the
        // Python object owns); `deltas`, borrowed by the caller for this call, keeps that batch alive.
        let capsule = deltas.call_method0(intern!(py, "to_capsule"))?;
        // SAFETY: the capsule (unnamed) of an exact `OrderBookDeltas` holds an `OrderBookDeltas_API*`.
        let api = unsafe { pyo3::ffi::PyCapsule_GetPointer(capsule.as_ptr(), std::ptr::null()) };
        if api.is_null() {
            return Err(PyErr::take(py).unwrap_or_else(|| invalid("deltas", "NULL", "to_capsule held no pointer")));
        }
        Ok(Batch {
            _capsule: capsule,
            api,
            accessor,
        })
    }

    fn instrument(&self) -> InternedInstrumentId {
        // SAFETY: `api` is an `OrderBookDeltas_API*` (see `open`), what the accessor takes.
        unsafe { (self.accessor.instrument_id)(self.api) }
    }

    fn read(&self, wide: bool) -> PyResult<Read> {
        // SAFETY: as `instrument`; the `CVec` returned is ours until `orderbook_deltas_vec_drop`.
        let vec = unsafe { (self.accessor.vec_deltas)(self.api) };
        let read = read_cvec(&vec, wide);
        unsafe { (self.accessor.vec_drop)(vec) };
        read
    }
}

struct FeedState {
    books: Vec<DeltaBook>,
    fed: Vec<bool>, // which venues this feed has written to the router
    // The instrument whose batches `apply_held` takes for each venue: the last one `apply_deltas` applied.
    held: Vec<Option<InternedInstrumentId>>,
    batches: u64,
}

/// Per venue of a `Router`, an exact L2 book kept from Nautilus deltas; after each call the venue's best
/// `depth` levels a side are the router's book (`Router.set_book`), or the venue has none when the book
/// is crossed or empty (as the cache-reading path treats it).
#[pyclass(name = "BookFeed", module = "nautilus_sor._core", frozen)]
pub struct PyBookFeed {
    router: Py<PyRouter>,
    names: Vec<Py<PyString>>, // the router's venue names, by index
    sides: Py<PyDict>,        // venue name -> the sides its routing view shows (written after every batch)
    displaced: Py<PySet>,     // venue names whose core book something else replaced (cleared by a batch)
    depth: usize,
    price_scale: f64,
    raw_per_unit: u128,
    wide: bool,
    state: Mutex<FeedState>,
}

impl PyBookFeed {
    fn venue(&self, py: Python<'_>, venue: &Bound<'_, PyAny>) -> PyResult<usize> {
        let name = venue
            .cast::<PyString>()
            .map_err(|_| {
                invalid(
                    "venue",
                    venue.repr().map(|r| r.to_string()).unwrap_or_default(),
                    "must be a venue name (str)",
                )
            })?
            .to_cow()?;
        self.router.get().lock(py).venue_index(&name).py()
    }

    /// Applies `deltas` to the venue's book (all or none) and hands the router its new routing view (an
    /// empty `deltas` re-sends it). Returns which sides that view shows: 1 bids, 2 asks, 3 both, 0 none
    /// (no book, or not routable), also written to `sides`; the venue leaves `displaced`.
    fn apply_to(&self, py: Python<'_>, venue: usize, deltas: &[BookDelta]) -> PyResult<u8> {
        let mut state = lock_attached(&self.state, py);
        state.books[venue].apply_all(deltas).py()?;
        state.fed[venue] = true;
        let book = &state.books[venue];
        let ladder = if book.is_empty() {
            None
        } else {
            book.ladder(self.depth, self.price_scale, self.raw_per_unit).ok()
        };
        let sides = ladder.as_ref().map_or(0, |l| {
            u8::from(!l.bids().is_empty()) | (u8::from(!l.asks().is_empty()) << 1)
        });
        self.router.get().lock(py).set_book(venue, ladder).py()?;
        state.batches += u64::from(!deltas.is_empty());
        drop(state);
        let name = self.names[venue].bind(py);
        self.sides.bind(py).set_item(name, sides)?;
        self.displaced.bind(py).discard(name)?;
        Ok(sides)
    }
}

#[pymethods]
impl PyBookFeed {
    /// `fixed_precision`: Nautilus's `FIXED_PRECISION` (16 or 9, which also says the raw width);
    /// `unit_decimals`: the decimals of one router unit (sizes are raw / 10^(fixed - unit)).
    ///
    /// After every batch applied the feed writes the venue's sides into `sides` (venue name -> 1 bids,
    /// 2 asks, 3 both, 0 none) and removes the venue from `displaced`.
    #[new]
    #[pyo3(signature = (router, depth, fixed_precision, unit_decimals, sides, displaced))]
    fn new(
        py: Python<'_>,
        router: Py<PyRouter>,
        depth: usize,
        fixed_precision: u32,
        unit_decimals: u32,
        sides: Py<PyDict>,
        displaced: Py<PySet>,
    ) -> PyResult<Self> {
        if depth == 0 {
            return Err(invalid("depth", depth, "must be >= 1"));
        }
        if fixed_precision != 9 && fixed_precision != 16 {
            return Err(invalid(
                "fixed_precision",
                fixed_precision,
                "must be Nautilus's FIXED_PRECISION, 9 or 16",
            ));
        }
        if unit_decimals > fixed_precision {
            return Err(invalid(
                "unit_decimals",
                unit_decimals,
                &format!("must be <= fixed_precision {fixed_precision}"),
            ));
        }
        let names: Vec<Py<PyString>> = router
            .get()
            .lock(py)
            .venues()
            .iter()
            .map(|v| PyString::intern(py, &v.name).unbind())
            .collect();
        let n = names.len();
        Ok(PyBookFeed {
            router,
            names,
            sides,
            displaced,
            depth,
            price_scale: 10f64.powi(fixed_precision as i32),
            raw_per_unit: 10u128.pow(fixed_precision - unit_decimals),
            wide: fixed_precision == 16,
            state: Mutex::new(FeedState {
                books: vec![DeltaBook::new(); n],
                fed: vec![false; n],
                held: vec![None; n],
                batches: 0,
            }),
        })
    }

    /// Applies one Nautilus batch, as `OrderBookDelta.capsule_from_list(deltas.deltas)`, to `venue`'s book.
    /// Returns the sides the router's book of the venue now shows (1 bids, 2 asks, 3 both, 0 none).
    /// A bad delta refuses the whole batch. An empty batch re-sends the venue's book to the router.
    fn apply_capsule(&self, py: Python<'_>, venue: &Bound<'_, PyAny>, capsule: &Bound<'_, PyAny>) -> PyResult<u8> {
        let i = self.venue(py, venue)?;
        let (deltas, _) = read_capsule(capsule, self.wide)?;
        self.apply_to(py, i, &deltas)
    }

    /// Applies one Nautilus `OrderBookDeltas` batch to `venue`'s book, read through Nautilus's own C accessor
    /// (`bind_deltas_accessor` must have returned True): no Python object per delta. Same result as
    /// `apply_capsule`.
    /// The venue then holds the batch's instrument: `apply_held` takes its next batches.
    fn apply_deltas(&self, py: Python<'_>, venue: &Bound<'_, PyAny>, deltas: &Bound<'_, PyAny>) -> PyResult<u8> {
        let i = self.venue(py, venue)?;
        let batch = Batch::open(deltas)?;
        let (deltas, _) = batch.read(self.wide)?;
        let sides = self.apply_to(py, i, &deltas)?;
        lock_attached(&self.state, py).held[i] = Some(batch.instrument());
        Ok(sides)
    }

    /// The hot path: applies a batch of an instrument some venue holds (the last `apply_deltas` of that
    /// venue was of it) to that venue's book; False, with nothing done, for any other batch (the caller
    /// decides its venue and calls `apply_deltas`). Needs the accessor (`bind_deltas_accessor`).
    fn apply_held(&self, py: Python<'_>, deltas: &Bound<'_, PyAny>) -> PyResult<bool> {
        let batch = Batch::open(deltas)?;
        let instrument = Some(batch.instrument());
        let venue = lock_attached(&self.state, py)
            .held
            .iter()
            .position(|h| *h == instrument);
        let Some(i) = venue else {
            return Ok(false);
        };
        let (deltas, _) = batch.read(self.wide)?;
        self.apply_to(py, i, &deltas).map(|_| true)
    }

    /// Sends the venue's book to the router again (after something else replaced it there); not a batch.
    fn resend(&self, py: Python<'_>, venue: &Bound<'_, PyAny>) -> PyResult<u8> {
        let i = self.venue(py, venue)?;
        self.apply_to(py, i, &[])
    }

    /// The non-empty batches applied so far.
    #[getter]
    fn batches(&self, py: Python<'_>) -> u64 {
        lock_attached(&self.state, py).batches
    }

    /// The same from sequences of ints (Nautilus's numbers; prices and sizes raw): the path for a
    /// Nautilus build whose delta layout the capsule check did not recognise.
    fn apply(
        &self,
        py: Python<'_>,
        venue: &Bound<'_, PyAny>,
        actions: Vec<u8>,
        sides: Vec<u8>,
        prices: Vec<i128>,
        sizes: Vec<u128>,
    ) -> PyResult<u8> {
        let i = self.venue(py, venue)?;
        let n = actions.len();
        for (field, len) in [("sides", sides.len()), ("prices", prices.len()), ("sizes", sizes.len())] {
            if len != n {
                return Err(invalid(field, len, &format!("length must equal len(actions) = {n}")));
            }
        }
        let deltas: Vec<BookDelta> = (0..n)
            .map(|k| BookDelta {
                action: actions[k],
                side: sides[k],
                price: prices[k],
                size: sizes[k],
            })
            .collect();
        self.apply_to(py, i, &deltas)
    }

    /// Forgets the venue's book (and the router's, and its records in `sides` and `displaced`), e.g.
    /// before a resubscription's snapshot.
    fn reset(&self, py: Python<'_>, venue: &Bound<'_, PyAny>) -> PyResult<()> {
        let i = self.venue(py, venue)?;
        let mut state = lock_attached(&self.state, py);
        state.books[i].clear();
        state.held[i] = None;
        if std::mem::take(&mut state.fed[i]) {
            self.router.get().lock(py).set_book(i, None).py()?;
        }
        drop(state);
        let name = self.names[i].bind(py);
        let sides = self.sides.bind(py);
        if sides.contains(name)? {
            sides.del_item(name)?;
        }
        self.displaced.bind(py).discard(name)?;
        Ok(())
    }

    /// The venue's book, best first, up to `depth` levels a side: (bids, asks) of (raw price, raw size).
    #[pyo3(signature = (venue, depth=None))]
    #[allow(clippy::type_complexity)]
    fn levels(
        &self,
        py: Python<'_>,
        venue: &Bound<'_, PyAny>,
        depth: Option<usize>,
    ) -> PyResult<(Vec<(i128, u128)>, Vec<(i128, u128)>)> {
        let i = self.venue(py, venue)?;
        let state = lock_attached(&self.state, py);
        let depth = depth.unwrap_or(usize::MAX);
        let book = &state.books[i];
        Ok((book.bids().take(depth).collect(), book.asks().take(depth).collect()))
    }

    #[getter]
    fn depth(&self) -> usize {
        self.depth
    }
}

/// The deltas of a `capsule_from_list` capsule as (action, side, raw price, raw size, flags) tuples: how
/// the Python side checks this module's reading of Nautilus's layout against a delta it made itself.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn decode_capsule(capsule: &Bound<'_, PyAny>, wide: bool) -> PyResult<Vec<(u8, u8, i128, u128, u8)>> {
    read_capsule(capsule, wide).map(as_tuples)
}

#[allow(clippy::type_complexity)]
fn as_tuples((deltas, flags): Read) -> Vec<(u8, u8, i128, u128, u8)> {
    deltas
        .iter()
        .zip(flags)
        .map(|(d, f)| (d.action, d.side, d.price, d.size, f))
        .collect()
}

/// Binds Nautilus's C accessors of `OrderBookDeltas` from its loaded module at `module_path`
/// (`nautilus_trader.model.data.__file__`) for batches of exactly `deltas_type`; True when bound (now or
/// before). Never loads a library; False where the module or its symbols are not found (or not on Unix).
#[pyfunction]
pub fn bind_deltas_accessor(module_path: &str, deltas_type: &Bound<'_, PyType>) -> bool {
    find_accessor(module_path, deltas_type)
}

/// The deltas of an `OrderBookDeltas` batch read through the bound accessor, as `decode_capsule` gives
/// them: how the Python side checks the accessor path against a batch it made itself.
#[pyfunction]
#[allow(clippy::type_complexity)]
pub fn decode_deltas(deltas: &Bound<'_, PyAny>, wide: bool) -> PyResult<Vec<(u8, u8, i128, u128, u8)>> {
    Batch::open(deltas)?.read(wide).map(as_tuples)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBookFeed>()?;
    m.add_function(wrap_pyfunction!(decode_capsule, m)?)?;
    m.add_function(wrap_pyfunction!(bind_deltas_accessor, m)?)?;
    m.add_function(wrap_pyfunction!(decode_deltas, m)?)?;
    Ok(())
}

// The header's sizes (offsets follow from `repr(C)`): a layout change in this file fails the build.
const _: () = assert!(std::mem::size_of::<Delta<i128, u128>>() == 160);
const _: () = assert!(std::mem::size_of::<Delta<i64, u64>>() == 104);
