"""The Ray path of `annotate`: Ray Data reads the shards' ranges (one read task each),
`map_batches` runs a callable class that loads the pipeline once per actor, and the rows come
back to the driver in input order, which writes them per shard.

Ray is an optional extra (`pip install "spacy-ner-ext[ray]"`). Without an address (or with
"local") a Ray is started on this machine; with one, or with RAY_ADDRESS set, the same code
runs on that cluster (the input shards must be readable from its nodes: a shared or object
file system).
"""
import os
from typing import Dict, Iterator, List

import numpy

from .records import InputError, ReadOptions, Shard, read_range

COLUMNS = ("shard_index", "shard", "line", "id", "text", "error")


def _read_rows(item: Dict, read: Dict) -> List[Dict]:
    options = ReadOptions(**read)
    return [{"shard_index": item["shard_index"], "shard": r.shard, "line": r.line, "id": r.id or "",
             "text": r.text or "", "error": r.error or ""}
            for r in read_range(item["path"], item["format"], item["start"], item["end"], item["first"], options,
                                item["name"])]


class PipelineActor:
    """One per Ray actor: the pipeline is loaded once, then annotates batch after batch."""

    def __init__(self, model: str, labels: List[str], descriptions, use_gpu: bool, batch_size: int):
        import json  # noqa: F401  (kept local: this runs on Ray workers)

        import spacy

        if use_gpu:
            spacy.require_gpu(0)  # Ray gives each actor its own GPU as device 0
        from .annotate import load_pipeline

        self.nlp = load_pipeline(model, labels, descriptions)
        self.batch_size = batch_size

    def __call__(self, batch: Dict[str, numpy.ndarray]) -> Dict[str, numpy.ndarray]:
        import json

        from .annotate import entities_of
        from .guarded_pipe import pipe_guarded

        errors, texts = numpy.array(batch["error"], dtype=object), batch["text"]
        todo = [(str(texts[i]), i) for i, error in enumerate(errors) if not error]
        entities = numpy.full(len(errors), "", dtype=object)
        n_words = numpy.zeros(len(errors), dtype=numpy.int64)
        # A record the pipeline raises on comes back as an error row, like a bad record.
        for i, doc, failure in pipe_guarded(self.nlp, todo, self.batch_size):
            if failure:
                errors[i] = failure
            else:
                entities[i] = json.dumps(entities_of(doc), ensure_ascii=False)
                n_words[i] = len(doc)
        return dict(batch, error=errors, entities=entities, n_words=n_words)


def connect(ray_address) -> None:
    """Start or join Ray; an address it cannot reach is one line, before any output is made."""
    try:
        import ray
    except ImportError as err:
        raise InputError('--ray needs Ray: pip install "spacy-ner-ext[ray]"') from err
    address = None if ray_address in (None, "", "local") and not os.environ.get("RAY_ADDRESS") \
        else (os.environ.get("RAY_ADDRESS") if ray_address in (None, "", "local") else ray_address)
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise InputError(f"--ray {ray_address}: cannot start or reach Ray at {address or 'a new local Ray'} "
                             f"({first})") from None


def annotated_rows(model: str, shards: List[Shard], read: ReadOptions, options) -> Iterator[Dict]:
    import ray
    from dataclasses import asdict

    connect(options.ray_address)
    import logging

    # The command draws its own progress bar (records/s, ETA); Ray Data's would fight it.
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    items = [{"shard_index": i, "path": s.path, "name": s.name, "format": s.format, "start": a, "end": b, "first": f}
             for i, s in enumerate(shards) for a, b, f in s.ranges]
    if not items:
        return
    dataset = (
        ray.data.from_items(items, override_num_blocks=len(items))
        # Reading is light and must never wait for CPUs the pipeline actors hold (on a small
        # machine they hold them all): the read tasks ask for none.
        .flat_map(_read_rows, fn_kwargs={"read": asdict(read)}, num_cpus=0)
        .map_batches(PipelineActor, batch_format="numpy", batch_size=options.batch_size,
                     fn_constructor_kwargs={"model": str(model), "labels": list(options.labels),
                                            "descriptions": options.descriptions,
                                            "use_gpu": options.num_gpus > 0, "batch_size": options.batch_size},
                     compute=ray.data.ActorPoolStrategy(size=options.concurrency), num_cpus=options.num_cpus,
                     num_gpus=options.num_gpus)
    )
    yield from dataset.iter_rows()
