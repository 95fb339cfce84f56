//! The one way the bindings take a wrapped core object's lock.

use pyo3::prelude::*;
use pyo3::sync::MutexExt;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The object behind `mutex`, waiting (without the GIL) while another thread uses it. A panic while
/// it was held is a bug, not a state to refuse: the core never leaves an object half-changed (every
/// mutation is checked before it starts), so the lock is taken over.
pub fn lock_attached<'a, T>(mutex: &'a Mutex<T>, py: Python<'_>) -> MutexGuard<'a, T> {
    mutex.lock_py_attached(py).unwrap_or_else(PoisonError::into_inner)
}
