"""Speed and memory: inference words per second through `nlp.pipe`, training words per
second through `nlp.update`, peak resident memory. Each measurement runs in a fresh process
so that the peak memory is that pipeline's alone."""
import json
import multiprocessing
import subprocess
import sys
import os
import platform
import resource
import time
from pathlib import Path
from typing import Optional, Dict, List

import spacy
from spacy.tokens import Doc, DocBin


def _peak_rss_mb() -> float:
    """This process's own peak RSS. On Linux, VmHWM of /proc/self/status: ru_maxrss survives
    fork and exec, so a worker started by a driver that had loaded the pipelines reported the
    driver's size as its own floor."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_gpu_mb() -> Optional[float]:
    import torch

    if not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return None
    return round(torch.cuda.max_memory_allocated() / 2**20, 1)


def _use_device(gpu_id: int, threads: int) -> str:
    import torch

    if threads:
        torch.set_num_threads(threads)
    if gpu_id >= 0:
        from thinc.api import set_gpu_allocator

        spacy.require_gpu(gpu_id)
        # Thinc's arrays then come from torch's allocator too, so its peak counts them.
        set_gpu_allocator("pytorch")
        return f"gpu:{gpu_id} ({torch.cuda.get_device_name(gpu_id)})"
    return f"cpu ({torch.get_num_threads()} threads)"


def read_references(vocab, data: Path, max_words: int = 0) -> List[Doc]:
    """The annotated Docs of a .spacy file, the first ones up to max_words words (0: all)."""
    docs, n = [], 0
    for ref in DocBin().from_disk(data).get_docs(vocab):
        docs.append(ref)
        n += len(ref)
        if max_words and n >= max_words:
            break
    return docs


def plain_text_doc(vocab, reference: Doc) -> Doc:
    """The reference's words and spaces alone: what a pipeline is given to annotate."""
    return Doc(vocab, words=[t.text for t in reference], spaces=[bool(t.whitespace_) for t in reference])


def _read_texts(nlp, data: Path, max_words: int) -> List[Doc]:
    return [plain_text_doc(nlp.vocab, ref) for ref in read_references(nlp.vocab, data, max_words)]


def _entity_scores(references: List[Doc], predicted: List[Doc]) -> Dict:
    """P, R, F of the timed run's entities against the data's own (when it has them): the speed
    and the accuracy of one and the same run."""
    from spacy.scorer import get_ner_prf
    from spacy.training import Example

    if not any(ref.has_annotation("ENT_IOB") for ref in references):
        return {}
    if not any(doc.ents for doc in predicted) and any(doc.spans for doc in predicted):
        return {}  # a pipeline that writes its entities to doc.spans (span_ner with a spans_key)
    scores = get_ner_prf([Example(doc, ref) for doc, ref in zip(predicted, references)])
    return {"ents_p": round(scores["ents_p"], 4), "ents_r": round(scores["ents_r"], 4),
            "ents_f": round(scores["ents_f"], 4)}


def inference_worker(model: str, data: str, batch_size: int, max_words: int, gpu_id: int, threads: int) -> Dict:
    device = _use_device(gpu_id, threads)
    started = time.perf_counter()
    nlp = spacy.load(model)
    load_seconds = time.perf_counter() - started
    references = read_references(nlp.vocab, Path(data), max_words)
    docs = [plain_text_doc(nlp.vocab, ref) for ref in references]
    # One batch first: lazy initialisation (thread pools, allocator) is not throughput.
    list(nlp.pipe(docs[:batch_size], batch_size=batch_size))
    n_words = sum(len(d) for d in docs)
    started = time.perf_counter()
    predicted = list(nlp.pipe(docs, batch_size=batch_size))
    seconds = time.perf_counter() - started
    n_ents = sum(len(doc.ents) for doc in predicted)
    return {**_entity_scores(references, predicted),
        "model": model, "pipeline": nlp.pipe_names, "device": device, "data": data,
        "batch_size": batch_size, "docs": len(docs), "words": n_words, "entities": n_ents,
        "seconds": round(seconds, 3), "words_per_second": round(n_words / seconds, 1),
        "load_seconds": round(load_seconds, 2), "peak_rss_mb": round(_peak_rss_mb(), 1),
        "peak_gpu_mb": _peak_gpu_mb(),
    }


def training_worker(config: str, steps: int, overrides: Dict, gpu_id: int, threads: int) -> Dict:
    """Time `steps` updates with the config's own corpus, batcher and optimizer (no evaluation)."""
    from spacy.schemas import ConfigSchemaTraining
    from spacy.training.initialize import init_nlp
    from spacy.util import load_config, registry, resolve_dot_names

    device = _use_device(gpu_id, threads)
    cfg = load_config(config, overrides=overrides, interpolate=False)
    nlp = init_nlp(cfg, use_gpu=gpu_id)
    T = registry.resolve(nlp.config.interpolate()["training"], schema=ConfigSchemaTraining)
    (train_corpus,) = resolve_dot_names(nlp.config.interpolate(), [T["train_corpus"]])
    optimizer, batcher, before_update = T["optimizer"], T["batcher"], T["before_update"]
    batches = batcher(train_corpus(nlp))
    # The first update includes one-off allocation; it is not counted.
    nlp.update(next(iter(batches)), sgd=optimizer, drop=T["dropout"])
    words, done = 0, 0
    started = time.perf_counter()
    while done < steps:
        for batch in batcher(train_corpus(nlp)):
            # As `spacy train` does, so that the config's memory callback counts here too.
            if before_update:
                before_update(nlp, {"step": done, "epoch": 0})
            nlp.update(batch, sgd=optimizer, drop=T["dropout"])
            words += sum(len(eg.predicted) for eg in batch)
            done += 1
            if done >= steps:
                break
    seconds = time.perf_counter() - started
    return {
        "config": config, "overrides": overrides, "device": device, "steps": steps, "words": words,
        "seconds": round(seconds, 3), "words_per_second": round(words / seconds, 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1), "peak_gpu_mb": _peak_gpu_mb(),
    }


def run_isolated(fn, *args) -> Dict:
    """Run fn(*args) in a fresh Python process and return its result (JSON over stdout).

    A plain subprocess rather than a multiprocessing pool: a pool worker that loads torch and
    a transformer was seen to hang here."""
    code = (
        f"import json, sys; from {fn.__module__} import {fn.__name__}; "
        f"result = {fn.__name__}(*json.loads(sys.argv[1])); "
        "print('BENCHMARK-RESULT ' + json.dumps(result))"
    )
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(args)], capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCHMARK-RESULT "):
            return json.loads(line[len("BENCHMARK-RESULT "):])
    raise RuntimeError(f"{fn.__name__}{args} failed:\n{proc.stderr[-3000:]}")


# The instruction sets that decide int8 speed: VNNI (avx512_vnni, avx_vnni) has int8 dot
# products, AMX int8 matrix tiles; without them int8 kernels gain little over float.
ISA_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "amx_bf16")


def cpu_info(cpuinfo: str = None) -> Dict:
    """The CPU a figure came from: model name, the flags of ISA_FLAGS it has, cores."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    fields = {}
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in fields:  # the first processor's
            fields[key.strip()] = value.strip()
    flags = set(fields.get("flags", "").split())
    return {"cpu_model": fields.get("model name") or platform.processor() or platform.machine(),
            "isa": {flag: flag in flags for flag in ISA_FLAGS} if flags else None,
            "logical_cpus": multiprocessing.cpu_count(),
            "cpus_available": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None}


def machine_info() -> Dict:
    import torch

    info = {
        "platform": platform.platform(), "python": platform.python_version(), "cpus": multiprocessing.cpu_count(),
        "torch": torch.__version__, "spacy": spacy.__version__, "cuda": torch.cuda.is_available(),
        "torch_threads": torch.get_num_threads(), "torch_quantized_engine": torch.backends.quantized.engine,
    }
    info.update(cpu_info())
    try:
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    return info
