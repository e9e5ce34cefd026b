"""Units of work of `annotate`, and the annotation of one, as every worker does it.

A unit is an input shard, or, for a shard of more than `records_per_unit` records, a run of its
ranges: the shard's parts are written as `name-00000-of-00003.jsonl`, ... (a reader globbing the
output folder in sorted order reads them in input order). The worker that annotates a unit
writes it under temporary names (`UnitWriter`) and hands back a small `UnitResult`: counts, the temporary and final names of its files, and 8 bytes per written id
(their digests, with which the driver finds an id repeated across units). The local run and
every Ray actor call `annotate_unit`; only the driver renames a unit's files to their final names
(a metadata operation: no row passes through it) and records it in the manifest.
"""
import dataclasses
import json
import re
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional

from spacy.language import Language

from .guarded_pipe import pipe_guarded
from .outputs import UnitWriter, digests_path, errors_path, id_digest, ids_in_output, read_rows, write_rows
from .pipeline import entities_of
from .records import InputError, ReadOptions, Record, Shard, read_range

# Records per unit: big enough that a unit's start costs nothing beside its annotation, small
# enough that a killed worker loses little and a big shard feeds several workers.
RECORDS_PER_UNIT = 5_000


class StrictStop(InputError):
    """--strict: the first bad record stops the run."""


@dataclass(frozen=True)
class WorkUnit:
    index: int  # its place in the input order
    shard: Shard
    ranges: tuple  # the shard's ranges this unit reads
    output: str  # the name it is written under
    part: int = 0
    parts: int = 1
    records: int = 0


@dataclass(frozen=True)
class UnitSettings:
    """What every worker needs to annotate and write a unit."""

    folder: str
    output_format: str = "jsonl"
    keep_text: bool = False
    strict: bool = False
    batch_size: int = 64
    n_process: int = 1


@dataclass
class UnitResult:
    index: int
    input: str
    sha256: str
    output: str
    part: int
    parts: int
    records_in: int = 0
    records_out: int = 0
    errors: int = 0
    words: int = 0
    seconds: float = 0.0
    # Not for the manifest: the digests (and input lines) of the ids written, in order, and the
    # unit's files as (temporary, final) names, for the driver to rename when it accepts the unit.
    id_digests: array = field(default_factory=lambda: array("Q"))
    id_lines: array = field(default_factory=lambda: array("Q"))
    files: List = field(default_factory=list)
    # A bad input or --strict stop met by the worker, for the driver to raise as one line.
    failure: Optional[str] = None
    strict_stop: bool = False

    def manifest_entry(self) -> Dict:
        return {"input": self.input, "sha256": self.sha256, "output": self.output, "part": self.part,
                "parts": self.parts, "records_in": self.records_in, "records_out": self.records_out,
                "errors": self.errors}


def _range_records(shard: Shard) -> List[int]:
    firsts = [first for _, _, first in shard.ranges] + [shard.records + 1]
    return [b - a for a, b in zip(firsts, firsts[1:])]


def part_name(name: str, part: int, parts: int) -> str:
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}-{part:05d}-of-{parts:05d}{dot}{suffix}"


def is_part_of(unit_name: str, shard_output: str) -> bool:
    """Is unit_name the shard's output name or one of its parts (any split)?"""
    stem, dot, suffix = shard_output.rpartition(".")
    return unit_name == shard_output or re.fullmatch(rf"{re.escape(stem)}-\d{{5}}-of-\d{{5}}{re.escape(dot + suffix)}",
                                                     unit_name) is not None


def plan_units(shards: List[Shard], names: Dict[str, str], records_per_unit: int = RECORDS_PER_UNIT
               ) -> List[WorkUnit]:
    """Every shard as one unit under its output name, or, when it holds more records than
    records_per_unit, as parts of about that many records each (whole ranges)."""
    units: List[WorkUnit] = []
    for shard in shards:
        groups, current, count = [], [], 0
        for item, records in zip(shard.ranges, _range_records(shard)):
            if current and count + records > records_per_unit:
                groups.append((tuple(current), count))
                current, count = [], 0
            current.append(item)
            count += records
        if current or not groups:
            groups.append((tuple(current), count))
        # Each unit carries its own ranges only: a big shard's list of all would travel with every
        # unit sent to a worker.
        light = dataclasses.replace(shard, ranges=())
        for part, (ranges, records) in enumerate(groups):
            name = names[shard.path] if len(groups) == 1 else part_name(names[shard.path], part, len(groups))
            units.append(WorkUnit(len(units), light, ranges, name, part, len(groups), records))
    return units


def _stop_or_list(writer: UnitWriter, record: Record, strict: bool, reason: Optional[str] = None) -> None:
    if strict:
        raise StrictStop(f"{record.shard}, line {record.line}: {reason or record.error}")
    writer.error(record, reason)


def annotate_unit(nlp: Language, unit: WorkUnit, read: ReadOptions, settings: UnitSettings,
                  progress: Optional[Callable] = None) -> UnitResult:
    """Read, annotate and write one unit; its files are complete under temporary names when this
    returns (`result.files`, for the driver to rename), and absent when it raises."""
    started = time.perf_counter()
    shard = unit.shard
    writer = UnitWriter(Path(settings.folder), unit.output, settings.output_format, settings.keep_text)
    words = 0
    try:
        def valid():
            for start, end, first in unit.ranges:
                for record in read_range(shard.path, shard.format, start, end, first, read, shard.name):
                    if record.error:
                        if progress:
                            progress(1)
                        _stop_or_list(writer, record, settings.strict)
                    else:
                        yield record.text, record

        for record, doc, failure in pipe_guarded(nlp, valid(), settings.batch_size, settings.n_process):
            if failure:
                _stop_or_list(writer, record, settings.strict, failure)
            elif writer.has(record.id):
                _stop_or_list(writer, record, settings.strict, f"duplicated id {record.id!r}: annotated once already")
            else:
                writer.write(record, entities_of(doc))
                words += len(doc)
            if progress:
                progress(1, words=len(doc) if doc is not None else 0)
        # Every record read is either written or listed in errors: a unit that does not add up is
        # a bug of this module, never a result to record.
        if writer.records_out + writer.errors != unit.records:
            raise RuntimeError(f"{shard.path} ({unit.output}): {unit.records} records in, but {writer.records_out} "
                               f"written and {writer.errors} errors")
        files = writer.close()
    except BaseException:
        writer.abandon()
        raise
    return UnitResult(unit.index, shard.path, shard.sha256, unit.output, unit.part, unit.parts, unit.records,
                      writer.records_out, writer.errors, words, round(time.perf_counter() - started, 3),
                      writer.digests, writer.lines, files)


def drop_repeated_ids(result: UnitResult, repeated: Dict[int, str], settings: UnitSettings
                      ) -> UnitResult:
    """Ids of this unit (committed, not yet recorded) that an earlier unit holds already
    ({digest: that unit's output}): their rows leave this unit and become its errors, as a
    repeated id within a unit does. Rare (an input that repeats ids across shards), so done where
    the driver is; digests that only collide, with no id in common, change nothing."""
    folder = Path(settings.folder)
    earlier = set()
    for name in set(repeated.values()):
        earlier.update(ids_in_output(folder / name))
    path = folder / result.output
    line_of = dict(zip(result.id_digests, result.id_lines))
    kept, dropped = [], []
    for row in read_rows(path):
        (dropped if row["id"] in earlier else kept).append(row)
    if not dropped:
        return result
    if settings.strict:
        first = dropped[0]["id"]
        path.unlink()
        raise StrictStop(f"{result.input}, line {line_of[id_digest(first)]}: duplicated id {first!r}")
    partial = path.with_name(f".{path.name}.dedup.partial")
    write_rows(partial, kept, settings.output_format, settings.keep_text)
    with errors_path(folder, result.output).open("a", encoding="utf8") as errors:
        for row in dropped:
            errors.write(json.dumps({"shard": result.input, "line": line_of[id_digest(row["id"])], "id": row["id"],
                                     "reason": f"duplicated id {row['id']!r}: annotated once already"},
                                    ensure_ascii=False) + "\n")
    partial.replace(path)
    gone = {id_digest(r["id"]) for r in dropped}
    keep = [i for i, d in enumerate(result.id_digests) if d not in gone]
    result.id_digests = array("Q", (result.id_digests[i] for i in keep))
    result.id_lines = array("Q", (result.id_lines[i] for i in keep))
    digests_partial = digests_path(folder, result.output).with_name(f".{result.output}.digests.dedup.partial")
    digests_partial.write_bytes(result.id_digests.tobytes())
    digests_partial.replace(digests_path(folder, result.output))
    result.records_out -= len(dropped)
    result.errors += len(dropped)
    return result
