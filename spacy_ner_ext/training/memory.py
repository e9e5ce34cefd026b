"""Training memory: hand freed heap pages back to the system, and log resident memory while training.

PyTorch on CPU allocates each tensor with malloc. Batches of different shapes leave the freed blocks
of earlier batches scattered through glibc's heaps, and glibc only gives memory back from the top of
a heap, so the resident size of a training process climbs step after step although the live tensors
stay the same size. `malloc_trim(0)` returns every free page in every heap, wherever it lies.
"""
import ctypes
import ctypes.util
import gc
import json
import os
import resource
import time
from pathlib import Path
from typing import Any, Callable, Dict, Optional

from spacy.language import Language
from spacy.util import registry

from ..errors import UserInputError

_libc = None


def _malloc_trim() -> bool:
    """Return free heap pages to the system; False where the C library has no malloc_trim (not glibc)."""
    global _libc
    if _libc is None:
        name = ctypes.util.find_library("c")
        _libc = ctypes.CDLL(name) if name else False
    trim = getattr(_libc, "malloc_trim", None) if _libc else None
    if trim is None:
        return False
    trim(0)
    return True


def resident_mb() -> float:
    """Resident memory now (Linux), else the peak so far."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def live_tensor_mb() -> float:
    """Bytes held by the torch tensors that Python can reach (each storage counted once)."""
    import torch

    seen, total = set(), 0
    for obj in gc.get_objects():
        try:
            if issubclass(type(obj), torch.Tensor):  # type(): isinstance would wake deprecated lazy modules
                storage = obj.untyped_storage()
                key = storage.data_ptr()
                if key not in seen:
                    seen.add(key)
                    total += storage.nbytes()
        except Exception:  # tensors on the meta device, half-built objects
            continue
    return total / 2**20


@registry.callbacks("spacy_ner_ext.release_freed_memory.v1")
def release_freed_memory_v1(every_n_steps: int = 1, log_path: Optional[str] = None,
                            log_every_n_steps: int = 25) -> Callable[[Language, Dict[str, Any]], None]:
    """A `[training.before_update]` callback: malloc_trim every N steps (0: never), optionally logging
    resident memory and live tensor memory to a JSONL file every `log_every_n_steps` steps."""
    if every_n_steps < 0 or log_every_n_steps < 1:
        raise UserInputError("every_n_steps must be >= 0 and log_every_n_steps >= 1")
    log = Path(log_path) if log_path else None
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")
    start = time.time()
    trim_seconds = 0.0  # spent in malloc_trim so far, logged to show what it costs

    def before_update(nlp: Language, info: Dict[str, Any]) -> None:
        nonlocal trim_seconds
        step = info["step"]
        if every_n_steps and step % every_n_steps == 0:
            began = time.perf_counter()
            _malloc_trim()
            trim_seconds += time.perf_counter() - began
        if log is not None and step % log_every_n_steps == 0:
            record = {"step": step, "epoch": info["epoch"], "seconds": round(time.time() - start, 1),
                      "rss_mb": round(resident_mb(), 1), "live_tensor_mb": round(live_tensor_mb(), 1),
                      "trim_seconds": round(trim_seconds, 2)}
            with log.open("a") as file:
                file.write(json.dumps(record) + "\n")

    return before_update
