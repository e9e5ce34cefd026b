import json

import pytest
import torch
from spacy.util import registry

from spacy_ner_ext.training.memory import _malloc_trim, resident_mb


def test_trim_returns_freed_heap_pages():
    if not _malloc_trim():
        pytest.skip("the C library has no malloc_trim (not glibc)")
    # 64 KB blocks come from the heap, below glibc's mmap threshold; keeping one in fifty pins the heap
    # so that free() alone gives almost nothing back: the pattern of training batches of varying shapes.
    blocks = [torch.ones(16 * 1024) for _ in range(6000)]
    kept = blocks[::50]
    del blocks
    before = resident_mb()
    _malloc_trim()
    assert before - resident_mb() > 200, "malloc_trim should hand back most of the ~375 MB freed"
    assert len(kept) == 120


def test_release_freed_memory_callback_logs_on_its_steps(tmp_path):
    log = tmp_path / "memory.jsonl"
    callback = registry.callbacks.get("spacy_ner_ext.release_freed_memory.v1")(every_n_steps=2, log_path=str(log),
                                                                                 log_every_n_steps=3)
    keep = torch.ones(256, 1024)  # 1 MB that must show among the live tensors
    for step in range(7):
        callback(None, {"step": step, "epoch": 0})
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["step"] for r in records] == [0, 3, 6]
    assert all(r["rss_mb"] > r["live_tensor_mb"] >= 1.0 for r in records)
    assert keep.numel() == 256 * 1024


def test_release_freed_memory_rejects_negative_steps():
    with pytest.raises(ValueError, match="every_n_steps"):
        registry.callbacks.get("spacy_ner_ext.release_freed_memory.v1")(every_n_steps=-1)
