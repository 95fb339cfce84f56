//! What the classes' `#[pymethods]` share: read-only properties forwarded to a wrapped core value,
//! and the one `__repr__` format.

use pyo3::prelude::*;

/// The `#[pymethods]` block of a class that wraps a core value (`$class.$inner`): read-only
/// properties returning the wrapped value's field (`field`) or method result (`call`) of the same
/// name, or of the name after `=`, grouped by type; then the class's other methods, as written.
///
/// PyO3's `#[pyo3(get)]` reads only a class's own fields, and a class has one `#[pymethods]` block
/// (short of the `multiple-pymethods` feature and its `inventory` dependency), so the whole block is
/// written here.
macro_rules! wrapper_pymethods {
    (
        $class:ident.$inner:tt {
            $(field $fty:ty: $($field:ident $(= $fsrc:ident)?),+;)*
            $(call $cty:ty: $($call:ident $(= $csrc:ident)?),+;)*
        }
        $($rest:tt)*
    ) => {
        #[pyo3::pymethods]
        impl $class {
            $($(
                #[getter]
                fn $field(&self) -> $fty {
                    wrapper_pymethods!(@read self.$inner, [], $field $($fsrc)?)
                }
            )+)*
            $($(
                #[getter]
                fn $call(&self) -> $cty {
                    wrapper_pymethods!(@read self.$inner, [()], $call $($csrc)?)
                }
            )+)*
            $($rest)*
        }
    };
    // The wrapped value's member of the property's name, or of its source name; `[()]` calls it.
    (@read $value:expr, [$($call:tt)?], $name:ident) => {
        $value.$name $($call)?
    };
    (@read $value:expr, [$($call:tt)?], $name:ident $source:ident) => {
        $value.$source $($call)?
    };
}

/// The one `__repr__` of the bindings: `Class(name=value, ...)` over the Python properties of `obj`
/// named in `names` (separated by spaces, as `namedtuple`'s fields), each value as Python's `repr()`
/// writes it (a string quoted, an absent value `None`).
pub fn properties_repr(obj: &Bound<'_, PyAny>, names: &str) -> PyResult<String> {
    let mut parts = Vec::new();
    for name in names.split_whitespace() {
        parts.push(format!("{name}={}", obj.getattr(name)?.repr()?));
    }
    Ok(format!("{}({})", obj.get_type().name()?, parts.join(", ")))
}
