import importlib.util
import pathlib
import sys

import pytest

# Make the pure-Python references in this folder importable as plain modules.
sys.path.insert(0, str(pathlib.Path(__file__).parent))

from shared_data import MARKER, require_data  # noqa: E402  (after the path above)


@pytest.fixture(autouse=True, scope="session")
def _user_cache_in_tmp(tmp_path_factory):
    """The recorded-market cache (`sources.default_cache_dir`) goes to this session's temporary folder, not
    the user's: a market cached by an earlier run (or left in the user's cache) never stands in for data
    that is missing, and the tests write nothing outside their temporary folders. Built once per session."""
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg_cache")))
    yield
    patch.undo()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    # `@needs_data(...)` (tests/shared_data.py): skipped (failed under CI=true) before any fixture runs.
    for mark in item.iter_markers(MARKER):
        require_data(*mark.args)


def pytest_configure(config):
    config.addinivalue_line("markers", f"{MARKER}(*paths): needs these files of ../shared/data (tests/shared_data.py)")
    # Two builds of the extension side by side (an abi3 `_core.abi3.so` and an older version-specific
    # `_core.cpython-3XX-*.so` left by an earlier `maturin develop`): Python loads the version-specific one,
    # so the tests would silently run a stale build.
    package = pathlib.Path(importlib.util.find_spec("nautilus_sor").origin).parent
    builds = sorted(p.name for p in package.glob("_core.*.so"))
    if len(builds) > 1:
        raise pytest.UsageError(f"{len(builds)} builds of nautilus_sor._core in {package}: {builds}; delete the stale one(s) and rebuild")


def pytest_report_header(config):
    # Which nautilus_sor the run tests: CI checks it is the installed wheel's, not the source tree.
    import nautilus_sor
    from nautilus_sor import _core

    package = pathlib.Path(nautilus_sor.__file__).parent
    return f"nautilus_sor {nautilus_sor.__version__} from {package} ({pathlib.Path(_core.__file__).name}, {_core.__build_profile__} build)"
