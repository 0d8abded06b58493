"""Native-library housekeeping: single-threaded OpenBLAS and returning freed memory.

The engine's matrix products are small; OpenBLAS would split each across all cores and spin
its threads against the engine's workers, which is many times slower on a busy machine.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

_SETTERS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)
_GETTERS = (
    "scipy_openblas_get_num_threads64_",
    "scipy_openblas_get_num_threads",
    "openblas_get_num_threads64_",
    "openblas_get_num_threads",
)
_lock = threading.Lock()
_depth = 0
_saved = 0


def _library() -> tuple[object, object] | None:
    """Return (getter, setter) of the OpenBLAS bundled with numpy, if one can be found."""
    libs = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for path in sorted(libs.glob("*openblas*")) if libs.is_dir() else []:
        try:
            lib = ctypes.CDLL(str(path))
        except OSError:
            continue
        get = next((getattr(lib, n) for n in _GETTERS if hasattr(lib, n)), None)
        put = next((getattr(lib, n) for n in _SETTERS if hasattr(lib, n)), None)
        if get is not None and put is not None:
            get.restype = ctypes.c_int
            return get, put
    return None


_LIB = _library()


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the body with one OpenBLAS thread, restoring the previous setting afterwards."""
    global _depth, _saved
    if _LIB is None:
        yield
        return
    get, put = _LIB
    with _lock:
        if _depth == 0:
            _saved = int(get())  # type: ignore[operator]
            put(ctypes.c_int(1))  # type: ignore[operator]
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                put(ctypes.c_int(_saved))  # type: ignore[operator]


def _libc_trim() -> object | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_TRIM = _libc_trim()


def release_free_memory() -> None:
    """Hand memory freed by numpy back to the OS (glibc keeps it per thread otherwise)."""
    if _TRIM is not None:
        _TRIM(0)  # type: ignore[operator]
