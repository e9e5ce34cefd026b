"""Run a trained pipeline over a corpus of shards: locally (nlp.pipe, several processes if
asked) or on Ray (a local Ray, or a cluster). This module is the driver: it plans the units of
work (`units.py`), hands them to the workers (this process, or Ray actors), and records each
unit in the manifest once its worker has written it, in input order; the rows themselves never
pass through it. Every record that could not be annotated is in errors.jsonl."""
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional

from ..pipeline.loading import use_gpu
from .outputs import (OUTPUT_FORMATS, Manifest, check_output_apart, check_output_names, commit_files, gather_errors,
                      output_name, read_digests, remove_leftovers, remove_unit)
from .pipeline import described_types, entities_of, load_pipeline  # noqa: F401  (the annotate API)
from .records import InputError, ReadOptions, find_shards, input_root, scan_shard, shard_format, shard_name
from .units import (RECORDS_PER_UNIT, StrictStop, UnitResult, UnitSettings, annotate_unit, drop_repeated_ids,
                    is_part_of, plan_units)


@dataclass
class AnnotateOptions:
    batch_size: int = 64
    n_process: int = 1
    gpu_id: int = -1
    output_format: str = "jsonl"
    keep_text: bool = False
    strict: bool = False
    labels: List[str] = field(default_factory=list)
    descriptions: Optional[str] = None
    ray_address: Optional[str] = None  # None: no Ray; "local": a Ray started here; else a cluster
    concurrency: int = 1
    num_cpus: float = 1.0
    num_gpus: float = 0.0
    records_per_unit: int = RECORDS_PER_UNIT


@dataclass
class Summary:
    shards: int = 0
    units: int = 0
    skipped: int = 0  # units complete already
    records_in: int = 0
    records_out: int = 0
    errors: int = 0
    words: int = 0  # tokens of the annotated texts
    seconds: float = 0.0  # the whole run, loading and starting included
    startup_seconds: float = 0.0  # until every worker had its pipeline loaded (on Ray: and Ray started)


def annotate(model: str, input_path: str, output: Path, read: ReadOptions, options: AnnotateOptions,
             progress: Callable = None) -> Summary:
    """progress: a tqdm-like factory (total=..., unit=...) or None for no progress bar."""
    started = time.perf_counter()
    if options.output_format not in OUTPUT_FORMATS:
        raise InputError(f"--output-format must be one of {', '.join(OUTPUT_FORMATS)}")
    shard_paths = find_shards(input_path)
    root = input_root(input_path)
    names = {str(p): output_name(p, root, options.output_format) for p in shard_paths}
    check_output_names(input_path, [(name, shard) for shard, name in names.items()])
    # Before anything is written: the output never replaces an input, nor becomes one next time.
    check_output_apart(input_path, shard_paths, output, list(names.values()))
    if output.exists() and not output.is_dir():
        raise InputError(f"{output}: exists and is not a folder")
    # Loaded before the shards are scanned (a bad pipeline, --labels or --descriptions fails at
    # once) and before the output folder is made (and so leaves nothing behind). On Ray the
    # actors load their own: this one only checks, here, where its error is one line.
    if not options.ray_address:
        use_gpu(options.gpu_id)
    nlp = load_pipeline(model, options.labels, options.descriptions)
    if options.ray_address:
        from .ray_annotator import connect

        nlp = None
        connect(options.ray_address)
    ready = [time.perf_counter()]
    shards = [scan_shard(p, shard_format(p, read.format), shard_name(p, root)) for p in shard_paths]
    units = plan_units(shards, names, options.records_per_unit)
    # Again with the names of the parts, which only the scan could tell.
    check_output_names(input_path, [(u.output, u.shard.path) for u in units])
    check_output_apart(input_path, shard_paths, output, [u.output for u in units])
    output.mkdir(parents=True, exist_ok=True)
    run = {"model": str(model), "labels": options.labels, "descriptions": options.descriptions,
           "read": asdict(read), "output_format": options.output_format, "keep_text": options.keep_text,
           "records_per_unit": options.records_per_unit}
    manifest = Manifest.open(output, run)
    current = {u.output for u in units}
    # A shard that changed may split into other parts than last time: the old parts go, or a
    # reader globbing the folder would read their ids twice.
    stale = [n for n in manifest.shards if n not in current and any(is_part_of(n, name) for name in names.values())]
    for name in stale:
        remove_unit(output, name)
    if stale:
        manifest.forget(stale, output)
    done_indices = {u.index for u in units if manifest.is_complete(u.shard.sha256, u.output, output)}
    done = [u for u in units if u.index in done_indices]
    pending = [u for u in units if u.index not in done_indices]
    remove_leftovers(output, [u.output for u in pending])
    # Ids already written, by their digests: an id repeated across units is written once.
    seen: Dict[int, str] = {}
    for unit in done:
        for digest in read_digests(output, unit.output):
            seen.setdefault(digest, unit.output)
    summary = Summary(shards=len(shards), units=len(units), skipped=len(done))
    settings = UnitSettings(str(output), options.output_format, options.keep_text, options.strict, options.batch_size,
                            1 if options.ray_address else options.n_process)
    bar = progress(total=sum(u.records for u in pending), unit="rec") if progress else None
    if options.ray_address:
        from .ray_annotator import annotate_on_ray

        results = annotate_on_ray(model, pending, read, settings, options, on_ready=lambda: ready.append(time.perf_counter()))
    else:
        ready.append(time.perf_counter())  # as on Ray: start-up ends where annotating begins
        results = _annotate_here(nlp, pending, read, settings, bar)
    try:
        for result in _in_input_order(results, [u.index for u in pending]):
            if options.ray_address and bar is not None:
                bar.update(result.records_in)
            # The driver's part of writing: renames, no rows.
            commit_files(result.files)
            repeated = {d: seen[d] for d in result.id_digests if d in seen}
            if repeated:
                result = drop_repeated_ids(result, repeated, settings)
            for digest in result.id_digests:
                seen.setdefault(digest, result.output)
            manifest.record(result.manifest_entry(), output)
            summary.words += result.words
    finally:
        if bar is not None:
            bar.close()
        if hasattr(results, "close"):
            results.close()  # stops Ray's actors at once when the run stops early
        remove_leftovers(output, [u.output for u in pending])  # of workers stopped or killed on the way
    # The units of this input only: a manifest may also list units of an input since removed.
    for unit in units:
        summary.records_in += manifest.shards[unit.output]["records_in"]
        summary.records_out += manifest.shards[unit.output]["records_out"]
    summary.errors = gather_errors(output, [u.output for u in units])
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.startup_seconds = round(ready[-1] - started, 3)
    return summary


def _annotate_here(nlp, pending, read: ReadOptions, settings: UnitSettings, bar) -> Iterator[UnitResult]:
    progress = (lambda n, words=0: bar.update(n)) if bar is not None else None
    for unit in pending:
        yield annotate_unit(nlp, unit, read, settings, progress)


def _in_input_order(results: Iterator[UnitResult], order: List[int]) -> Iterator[UnitResult]:
    """Results as they come, handed on in input order (so that the first of two equal ids, in
    input order, is the one kept, whichever worker finished first); a worker's bad input or
    --strict stop is raised in its turn too (the first in input order, as a local run meets it),
    as the one-line error it is."""
    waiting: Dict[int, UnitResult] = {}
    position = 0
    for result in results:
        waiting[result.index] = result
        while position < len(order) and order[position] in waiting:
            turn = waiting.pop(order[position])
            if turn.failure:
                raise (StrictStop if turn.strict_stop else InputError)(turn.failure)
            yield turn
            position += 1
