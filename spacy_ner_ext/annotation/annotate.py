"""Run a trained pipeline over a corpus of shards: locally (nlp.pipe, several processes if
asked) or on Ray (a local Ray, or a cluster), with one complete output shard per input shard,
a manifest to resume from, and every record that could not be annotated in errors.jsonl."""
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional

from spacy.language import Language
from spacy.tokens import Doc

from ..pipeline.loading import use_gpu
from .guarded_pipe import pipe_guarded
from .outputs import (OUTPUT_FORMATS, Manifest, ShardResult, ShardWriter, check_output_apart, check_output_names,
                      gather_errors, ids_in_output, output_name)
from .records import (InputError, ReadOptions, Record, Shard, find_shards, input_root, read_shard, scan_shard,
                      shard_format, shard_name)


class StrictStop(InputError):
    """--strict: the first bad record stops the run."""


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


@dataclass
class Summary:
    shards: int = 0
    skipped: int = 0
    records_in: int = 0
    records_out: int = 0
    errors: int = 0
    words: int = 0  # tokens of the annotated texts
    seconds: float = 0.0  # the whole run, loading and starting included
    first_result_seconds: float = 0.0  # until the first shard's first annotated record was written


def described_types(labels: Iterable[str], given: Dict[str, str], known: Optional[Dict[str, str]] = None
                    ) -> Dict[str, str]:
    """{label: description} for --labels and the --descriptions file's types (`given`). A label
    the file does not describe keeps the description the pipeline has for it (`known`), or else
    is described by its name in words ("restaurant_name": "restaurant name"), as load_universal
    and set_labels describe names."""
    from ..corpus.descriptions import check_descriptions
    from ..pipeline.described_types import readable_name

    known = known or {}
    types = {label: known.get(label, readable_name(label)) for label in labels}
    types.update(given)
    return check_descriptions(types, "--labels")


def load_pipeline(model: str, labels: Iterable[str] = (), descriptions: Optional[str] = None) -> Language:
    """A pipeline folder or an installed package; with labels or descriptions, the types of its
    description-matching components (span_ner, contrastive_ner) are replaced by those."""
    from ..corpus.descriptions import load_descriptions
    from ..pipeline.loading import load_pipeline as load

    labels = list(labels)
    given = load_descriptions(descriptions) if descriptions else {}
    if labels or descriptions:
        described_types(labels, given)  # bad --labels fail before the pipeline loads
    nlp = load(model)
    if labels or descriptions:
        described = [name for name in nlp.pipe_names if hasattr(nlp.get_pipe(name), "set_descriptions")]
        if not described:
            raise InputError(f"{model}: --labels and --descriptions need span_ner or contrastive_ner in the pipeline")
        for name in described:
            pipe = nlp.get_pipe(name)
            types = described_types(labels, given, known=pipe.descriptions)
            for old in [label for label in pipe.labels if label not in types]:
                pipe.remove_label(old)
            pipe.set_descriptions(types)
    return nlp


def entities_of(doc: Doc) -> List[Dict]:
    return [{"start_char": e.start_char, "end_char": e.end_char, "label": e.label_,
             "score": None if e._.get("ner_score") is None else round(float(e._.ner_score), 6), "text": e.text}
            for e in doc.ents]


def annotate(model: str, input_path: str, output: Path, read: ReadOptions, options: AnnotateOptions,
             progress: Callable = None) -> Summary:
    """progress: a tqdm-like factory (total=..., unit=...) or None for no progress bar."""
    started = time.perf_counter()
    if options.output_format not in OUTPUT_FORMATS:
        raise InputError(f"--output-format must be one of {', '.join(OUTPUT_FORMATS)}")
    shard_paths = find_shards(input_path)
    root = input_root(input_path)
    names = {str(p): output_name(p, root, options.output_format) for p in shard_paths}
    check_output_names(input_path, names)
    # Before anything is written: the output never replaces an input, nor becomes one next time.
    check_output_apart(input_path, shard_paths, output, list(names.values()))
    if output.exists() and not output.is_dir():
        raise InputError(f"{output}: exists and is not a folder")
    # Loaded before the shards are scanned (a bad pipeline, --labels or --descriptions fails at
    # once) and before the output folder is made (and so leaves nothing behind). On Ray the
    # workers load their own: this one only checks, here, where its error is one line.
    if not options.ray_address:
        use_gpu(options.gpu_id)
    nlp = load_pipeline(model, options.labels, options.descriptions)
    if options.ray_address:
        from .ray_annotator import connect

        nlp = None
        connect(options.ray_address)
    shards = [scan_shard(p, shard_format(p, read.format), shard_name(p, root)) for p in shard_paths]
    output.mkdir(parents=True, exist_ok=True)
    run = {"model": str(model), "labels": options.labels, "descriptions": options.descriptions,
           "read": asdict(read), "output_format": options.output_format, "keep_text": options.keep_text}
    manifest = Manifest.open(output, run)
    done = [s for s in shards if manifest.is_complete(s, names[s.path], output)]
    pending = [s for s in shards if s not in done]
    seen_ids = {i for s in done for i in ids_in_output(output / names[s.path])}
    summary = Summary(shards=len(shards), skipped=len(done))
    bar = progress(total=sum(s.records for s in pending), unit="rec") if progress else None
    runner = _run_on_ray if options.ray_address else _run_locally
    first = []

    class Timed:  # notes when the first record comes out, to tell start-up from throughput
        def update(self, n, words=0):
            if not first:
                first.append(time.perf_counter())
            summary.words += words
            if bar is not None:
                bar.update(n)

    try:
        for result in runner(nlp or model, pending, names, output, read, options, seen_ids, Timed()):
            manifest.record(result, output)
    finally:
        if bar is not None:
            bar.close()
    # The shards of this input only: a manifest may also list shards of an input since removed.
    for name in names.values():
        summary.records_in += manifest.shards[name]["records_in"]
        summary.records_out += manifest.shards[name]["records_out"]
    summary.errors = gather_errors(output, [names[s.path] for s in shards])
    summary.seconds = round(time.perf_counter() - started, 3)
    summary.first_result_seconds = round((first[0] if first else time.perf_counter()) - started, 3)
    return summary


def _report(writer: ShardWriter, record: Record, strict: bool, reason: Optional[str] = None) -> None:
    if strict:
        raise StrictStop(f"{record.shard}, line {record.line}: {reason or record.error}")
    writer.error(record, reason)


def _write(writer: ShardWriter, record: Record, entities: List[Dict], strict: bool) -> None:
    if strict and record.id in writer.seen_ids:
        raise StrictStop(f"{record.shard}, line {record.line}: duplicated id {record.id!r}")
    writer.write(record, entities)


def _finish(shard: Shard, name: str, writer: ShardWriter) -> ShardResult:
    # Every record read is either written or listed in errors: a shard that does not add up is
    # a bug of this module, never a result to record.
    if writer.records_out + writer.errors != shard.records:
        writer.abandon()
        raise RuntimeError(f"{shard.path}: {shard.records} records in, but {writer.records_out} written and "
                           f"{writer.errors} errors")
    writer.commit()
    return ShardResult(shard.path, shard.sha256, name, shard.records, writer.records_out, writer.errors)


def _run_locally(nlp: Language, pending: List[Shard], names, output, read, options: AnnotateOptions, seen_ids,
                 bar):
    for shard in pending:
        writer = ShardWriter(output, names[shard.path], options.output_format, options.keep_text, seen_ids)
        try:
            def valid():
                for record in read_shard(shard, read):
                    if record.error:
                        bar.update(1)
                        _report(writer, record, options.strict)
                    else:
                        yield record.text, record

            # Counted as they come out, as on Ray: the rate is the annotation's.
            for record, doc, failure in pipe_guarded(nlp, valid(), options.batch_size, options.n_process):
                if failure:
                    _report(writer, record, options.strict, failure)
                else:
                    _write(writer, record, entities_of(doc), options.strict)
                bar.update(1, words=len(doc) if doc is not None else 0)
            result = _finish(shard, names[shard.path], writer)
        except BaseException:
            writer.abandon()
            raise
        yield result


def _run_on_ray(model, pending: List[Shard], names, output, read, options: AnnotateOptions, seen_ids, bar):
    from .ray_annotator import annotated_rows

    by_index = {i: shard for i, shard in enumerate(pending)}
    writers: Dict[int, ShardWriter] = {}
    current = -1

    def finish(index):
        shard = by_index[index]
        return _finish(shard, names[shard.path], writers.pop(index))

    try:
        for index in [i for i, s in by_index.items() if not s.ranges]:  # empty files: nothing to send
            writers[index] = ShardWriter(output, names[by_index[index].path], options.output_format,
                                         options.keep_text, seen_ids)
            yield finish(index)
        # Rows come back in input order, so the shards complete one after another.
        for row in annotated_rows(model, pending, read, options):
            index = int(row["shard_index"])
            if index != current:
                if current >= 0:
                    yield finish(current)
                current = index
                writers[index] = ShardWriter(output, names[by_index[index].path], options.output_format,
                                             options.keep_text, seen_ids)
            record = Record(row["shard"], int(row["line"]), row["id"] or None, row["text"] or None, row["error"] or None)
            bar.update(1, words=int(row["n_words"]))
            if record.error:
                _report(writers[index], record, options.strict)
            else:
                _write(writers[index], record, json.loads(row["entities"]), options.strict)
        if current >= 0:
            yield finish(current)
    except BaseException:
        for writer in writers.values():
            writer.abandon()
        raise
