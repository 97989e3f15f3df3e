"""Keep the fast mode's freed temporaries in the process heap (glibc only).

A fast-mode pass allocates and frees hundreds of megabyte-sized arrays
(designs x replicas x attempts). glibc serves blocks above its mmap
threshold with fresh ``mmap`` pages and gives freed heap above its trim
threshold back to the kernel, so every temporary pays its page faults again:
on a batch of 10,000 designs that was a quarter to a third of the CPU time
(kernel time, visible as ``ru_stime``). Raising both thresholds once lets
freed blocks be reused. The process then keeps at most ``TRIM_BYTES`` of free
heap, a bounded price for a search that evaluates batches for hours. Other C
libraries (musl, macOS, Windows) are left alone: the call is a no-op there.
``mallopt`` is glibc's public interface for exactly this tuning.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

# mallopt parameter numbers from glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_BYTES = 32 * 1024 * 1024  # glibc's own upper bound for its dynamic mmap threshold on 64-bit
TRIM_BYTES = 128 * 1024 * 1024

_done = False


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; ``True`` if they were set."""
    global _done
    if _done:
        return True
    _done = True
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        ok = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_BYTES) == 1
        return bool(libc.mallopt(_M_TRIM_THRESHOLD, TRIM_BYTES) == 1 and ok)
    except (OSError, AttributeError):
        return False
