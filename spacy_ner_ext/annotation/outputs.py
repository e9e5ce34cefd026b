"""Output shards that are either complete or absent, and the manifest that says which.

A unit of work (an input shard, or a run of its ranges: `units.py`) is written by the worker
that annotates it, under a temporary name of its own in the output folder, and renamed to its
final name once complete; only then does the driver record it in the manifest (input, sha256 of
the input, records in, out, errors). The manifest is the record of what is done: a run started
again skips the units it records as complete for the same input, and redoes the others from
scratch (a unit written but not yet recorded is written again under the same name), so every
input id ends up exactly once across the outputs.
"""
import glob
import hashlib
import json
import os
import uuid
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from .records import InputError, Record, matches_input

MANIFEST = "manifest.json"
ERRORS = "errors.jsonl"
OUTPUT_FORMATS = ("jsonl", "parquet")


@dataclass
class Manifest:
    """run: what makes two runs the same (model, labels, reading and output options)."""

    run: Dict
    shards: Dict[str, Dict] = field(default_factory=dict)

    @classmethod
    def open(cls, folder: Path, run: Dict) -> "Manifest":
        path = folder / MANIFEST
        if not path.exists():
            return cls(run)
        try:
            saved = json.loads(path.read_text(encoding="utf8"))
        except (OSError, json.JSONDecodeError) as err:
            raise InputError(f"{path}: unreadable manifest ({err}): use another output folder") from err
        if saved.get("run") != run:
            differs = sorted(k for k in set(run) | set(saved.get("run", {})) if run.get(k) != saved.get("run", {}).get(k))
            raise InputError(f"{folder} holds the output of another run (it differs in: {', '.join(differs)}): "
                             "use another output folder, or run the same command to resume it")
        return cls(run, saved.get("shards", {}))

    def is_complete(self, sha256: str, name: str, folder: Path) -> bool:
        """Recorded, from the same input bytes, and its output is there."""
        done = self.shards.get(name)
        return bool(done) and done["sha256"] == sha256 and (folder / name).exists()

    def forget(self, names: List[str], folder: Path) -> None:
        for name in names:
            self.shards.pop(name, None)
        self._save(folder)

    def record(self, entry: Dict, folder: Path) -> None:
        # Keyed by output name, which stays the same whatever folder the command runs from.
        self.shards[entry["output"]] = entry
        self._save(folder)

    def _save(self, folder: Path) -> None:
        _atomic_write(folder / MANIFEST, json.dumps({"run": self.run, "shards": self.shards}, indent=1))


def written_paths(output: Path, names: List[str]) -> List[Path]:
    """Every path a run writes in the output folder, temporary ones included."""
    paths = [output / MANIFEST, output / f".{MANIFEST}.partial", output / ERRORS, output / f".{ERRORS}.partial"]
    for name in names:
        # A unit's temporary names carry its writer's token: one stands for them all.
        paths += [output / name, output / f".{name}.token.partial", output / ".errors" / f"{name}.jsonl",
                  output / ".errors" / f".{name}.jsonl.token.partial", output / ".ids" / f"{name}.digests",
                  output / ".ids" / f".{name}.digests.token.partial"]
    return paths


def check_output_names(input_path: str, units: List[Tuple[str, str]]) -> None:
    """One output file per unit ((output name, input shard) pairs), none of them the manifest or
    the errors file."""
    written: Dict[str, str] = {}
    for name, shard in units:
        if name in written:
            raise InputError(f"{input_path}: {written[name]} and {shard} would both be written to {name}: rename one")
        written[name] = shard
        if name in (MANIFEST, ERRORS):
            raise InputError(f"{shard}: its annotations would be written to {name}, the output folder's own "
                             "file of that name: rename the shard")


def check_output_apart(input_path: str, shards: List[Path], output: Path, names: List[str]) -> None:
    """Nothing written to the output folder may replace an input shard, or be read as input by
    the next run of the same command."""
    folder = output.resolve()
    if folder == Path(input_path).resolve():
        raise InputError(f"{output}: the output folder is the input folder: annotations would replace the input "
                         "and be read as input next time; choose an output folder outside the input")
    for shard in shards:
        if folder in shard.resolve().parents:
            raise InputError(f"{output}: the output folder holds the input {shard}: annotations would be written "
                             "where the input lives; choose an output folder outside the input")
    if matches_input(input_path, output) or any(matches_input(input_path, p) for p in written_paths(output, names)):
        raise InputError(f"{output}: the output folder is inside the input {input_path}: the next run would read "
                         "its annotations as input; choose an output folder outside the input")


def output_name(shard: Path, root: Path, format: str) -> str:
    """The input's path below the input root, flattened: one output file per input shard."""
    relative = shard.relative_to(root) if shard.is_relative_to(root) else Path(shard.name)
    return "__".join(relative.with_suffix("").parts) + f".{format}"


def id_digest(record_id: str) -> int:
    """64 bits of an id: what a worker hands the driver to find ids repeated across units
    without sending it the ids themselves."""
    return int.from_bytes(hashlib.blake2b(record_id.encode("utf8"), digest_size=8).digest(), "little")


class UnitWriter:
    """Writes one unit's output and its errors under temporary names of this writer's own (two
    writers of the same unit, a retried one beside one thought dead, never share a file);
    `commit` renames them to the final names."""

    def __init__(self, folder: Path, name: str, format: str, keep_text: bool):
        self.folder, self.name, self.format, self.keep_text = folder, name, format, keep_text
        token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.partial = folder / f".{name}.{token}.partial"
        self.errors_partial = folder / ".errors" / f".{name}.jsonl.{token}.partial"
        self.digests_partial = folder / ".ids" / f".{name}.digests.{token}.partial"
        self.errors_partial.parent.mkdir(parents=True, exist_ok=True)
        self.digests_partial.parent.mkdir(parents=True, exist_ok=True)
        # A shard path from a file name that is not UTF-8 holds surrogate escapes: written escaped.
        self._errors = self.errors_partial.open("w", encoding="utf8", errors="backslashreplace")
        self._rows: List[Dict] = []
        self._out = self.partial.open("w", encoding="utf8") if format == "jsonl" else None
        self._parquet = None
        self.records_out = 0
        self.errors = 0
        self._seen: set = set()
        self.digests = array("Q")  # of the ids written, in order
        self.lines = array("Q")  # their input lines

    def error(self, record: Record, reason: Optional[str] = None) -> None:
        self.errors += 1
        self._errors.write(json.dumps({"shard": record.shard, "line": record.line, "id": record.id,
                                       "reason": reason or record.error}, ensure_ascii=False) + "\n")

    def has(self, record_id: str) -> bool:
        return record_id in self._seen

    def write(self, record: Record, entities: List[Dict]) -> None:
        """A record whose id this unit has not written yet (`has`)."""
        self._seen.add(record.id)
        self.digests.append(id_digest(record.id))
        self.lines.append(record.line)
        row = {"id": record.id, "entities": entities}
        if self.keep_text:
            row["text"] = record.text
        self.records_out += 1
        if self._out is not None:
            self._out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            self._rows.append(row)
            if len(self._rows) >= 10_000:
                self._flush_parquet()

    def _flush_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._parquet is None:
            self._parquet = pq.ParquetWriter(str(self.partial), output_schema(self.keep_text))
        self._parquet.write_table(pa.Table.from_pylist(self._rows, schema=output_schema(self.keep_text)))
        self._rows = []

    def close(self) -> List[Tuple[str, str]]:
        """Close and sync everything written; the (temporary, final) names, output last, for the
        driver to rename when it accepts this unit (`commit_files`): a writer that was given up
        for dead and finishes late never replaces what the driver accepted."""
        if self._out is not None:
            self._out.flush()
            os.fsync(self._out.fileno())
            self._out.close()
        else:
            self._flush_parquet()
            self._parquet.close()
            _fsync(self.partial)
        self._errors.flush()
        os.fsync(self._errors.fileno())
        self._errors.close()
        self.digests_partial.write_bytes(self.digests.tobytes())
        _fsync(self.digests_partial)
        return [(str(self.errors_partial), str(errors_path(self.folder, self.name))),
                (str(self.digests_partial), str(digests_path(self.folder, self.name))),
                (str(self.partial), str(self.folder / self.name))]

    def abandon(self) -> None:
        """Forget what this writer wrote (an interrupted unit is redone next time)."""
        for handle in (self._out, self._errors):
            if handle is not None and not handle.closed:
                handle.close()
        if self._parquet is not None:
            self._parquet.close()
        for path in (self.partial, self.errors_partial, self.digests_partial):
            path.unlink(missing_ok=True)


def output_schema(keep_text: bool):
    import pyarrow as pa

    return pa.schema([("id", pa.string()),
                      ("entities", pa.list_(pa.struct([("start_char", pa.int64()), ("end_char", pa.int64()),
                                                       ("label", pa.string()), ("score", pa.float64()),
                                                       ("text", pa.string())])))]
                     + ([("text", pa.string())] if keep_text else []))


def errors_path(folder: Path, name: str) -> Path:
    return folder / ".errors" / f"{name}.jsonl"


def digests_path(folder: Path, name: str) -> Path:
    """8 bytes per id a unit wrote (`id_digest`), in order: what a resumed run reads to know
    the ids written, instead of the rows."""
    return folder / ".ids" / f"{name}.digests"


def read_digests(folder: Path, name: str) -> array:
    """The digests of a complete unit; from its rows when it has no digest file (a unit written
    before there were any)."""
    path = digests_path(folder, name)
    if path.exists():
        digests = array("Q")
        digests.frombytes(path.read_bytes())
        return digests
    return array("Q", (id_digest(i) for i in ids_in_output(folder / name)))


def commit_files(pairs: List[Tuple[str, str]]) -> None:
    for temporary, final in pairs:
        os.replace(temporary, final)


def remove_unit(folder: Path, name: str) -> None:
    """A unit's files, gone (an output of an earlier split of a shard that changed)."""
    for path in (folder / name, errors_path(folder, name), digests_path(folder, name)):
        path.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def remove_leftovers(folder: Path, names: List[str]) -> None:
    """Temporary files of these units that a killed worker left behind."""
    for name in names:
        for path in [*folder.glob(f".{glob.escape(name)}.*.partial"),
                     *(folder / ".errors").glob(f".{glob.escape(name)}.jsonl.*.partial"),
                     *(folder / ".ids").glob(f".{glob.escape(name)}.digests.*.partial")]:
            path.unlink(missing_ok=True)


def gather_errors(folder: Path, names: List[str]) -> int:
    """errors.jsonl: every shard's errors, in shard order; returns how many."""
    count = 0
    with (folder / f".{ERRORS}.partial").open("w", encoding="utf8") as out:
        for name in names:
            path = errors_path(folder, name)
            if path.exists():
                for line in path.open(encoding="utf8"):
                    out.write(line)
                    count += 1
    os.replace(folder / f".{ERRORS}.partial", folder / ERRORS)
    return count


def read_rows(path: Path) -> List[Dict]:
    """The rows of a complete output unit, JSONL or Parquet."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(str(path)).to_pylist()
    return [json.loads(line) for line in path.open(encoding="utf8") if line.strip()]


def write_rows(path: Path, rows: List[Dict], format: str, keep_text: bool) -> None:
    """Rows as a unit holds them (`format`: jsonl or parquet)."""
    if format == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows, schema=output_schema(keep_text)), str(path))
    else:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf8")


def ids_in_output(path: Path) -> List[str]:
    """The ids of a complete output unit (a unit written before there were digest files, and
    the rare check of ids repeated across units)."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return [str(i) for i in pq.read_table(str(path), columns=["id"]).column("id").to_pylist()]
    return [row["id"] for row in read_rows(path)]


def _atomic_write(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf8")
    os.replace(partial, path)
