"""Input shards read as a stream of records, in ranges that one worker (or one Ray task) reads
alone: JSONL (text and id fields configurable), plain text (one document per line, id
`file:line`), or Parquet (a text column). A record that cannot be annotated is not dropped: it
comes back with the reason, its shard and line, for errors.jsonl.

Lines end at "\n" (a "\r" just before it belongs to the ending), and at nothing else: the
scanner that counts records and sets the ranges, the reader and the line numbers in ids all
split by `iter_lines`, so a bare "\r" or a Unicode line separator stays inside its line's text.
An id made from a shard's name (`file:line`) uses the shard's path below the input root, so
it is unique across the whole input tree."""
import fnmatch
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Sequence

from ..corpus.io import lone_surrogate
from ..errors import UserInputError

FORMATS = ("jsonl", "txt", "parquet")
SUFFIXES = {".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".txt": "txt", ".parquet": "parquet"}
# Lines per range: the unit of work of one Ray read task, and of the progress bar's count.
LINES_PER_RANGE = 500


class InputError(UserInputError):
    """An input that cannot be read at all: reported before any work starts."""


@dataclass(frozen=True)
class ReadOptions:
    format: str
    text_field: str = "text"
    id_field: Optional[str] = "id"
    max_chars: int = 1_000_000
    # A field the user named (--id-field) must be there: a typo would otherwise give every
    # record a file:line id, silently. The default "id" is used where a record has one.
    id_required: bool = False


@dataclass(frozen=True)
class Shard:
    path: str
    format: str
    sha256: str
    records: int  # lines (JSONL, text) or rows (Parquet), bad ones included
    ranges: tuple  # (start, end): byte offsets (JSONL, text) or row groups (Parquet), and the first line
    name: str = ""  # the path below the input root (posix): the `name:line` of ids made from it


@dataclass
class Record:
    shard: str
    line: int  # 1-based line (JSONL, text) or row (Parquet)
    id: Optional[str]
    text: Optional[str]
    error: Optional[str] = None


def _is_glob(input_path: str) -> bool:
    return any(c in input_path for c in "*?[")


def input_root(input_path: str) -> Path:
    """The folder that shard names (and output names) are taken relative to: the folder given,
    the folder of a file, or the deepest folder of a glob before its first wildcard."""
    path = Path(input_path)
    if path.is_dir():
        return path
    if _is_glob(input_path):
        # The folders before the first part that holds a wildcard ("data/in*/x" -> "data").
        prefix = input_path[:min(input_path.find(c) for c in "*?[" if c in input_path)]
        return Path(prefix[:prefix.rfind("/") + 1] or ".")
    return path.parent


def matches_input(input_path: str, path: Path) -> bool:
    """Would `path` be read as input by this input path (a file, a folder or a glob)?"""
    given, path = Path(input_path).resolve(), path.resolve()
    if Path(input_path).is_dir():
        return path == given or given in path.parents
    if _is_glob(input_path):
        root = input_root(input_path).resolve()
        if root not in path.parents:
            return False
        pattern = Path(input_path).relative_to(input_root(input_path)).parts
        parts = path.relative_to(root).parts
        if "**" in pattern:  # any depth: taken as matching, to err on the side of "yes"
            return True
        return len(parts) == len(pattern) and all(fnmatch.fnmatch(p, q) for p, q in zip(parts, pattern))
    return path == given


def find_shards(input_path: str) -> List[Path]:
    """A file, a folder (every file with a known suffix, sorted) or a glob."""
    path = Path(input_path)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
        if not files:
            raise InputError(f"{path}: no input files ({', '.join(SUFFIXES)}) in this folder")
        return files
    if _is_glob(input_path):
        base = input_root(input_path)
        files = sorted(p for p in base.glob(str(Path(input_path).relative_to(base))) if p.is_file())
        if not files:
            raise InputError(f"{input_path}: the pattern matches no file")
        return files
    raise InputError(f"{input_path}: no such file or folder")


def shard_name(path: Path, root: Path) -> str:
    return (path.relative_to(root) if path.is_relative_to(root) else Path(path.name)).as_posix()


def shard_format(path: Path, format: Optional[str]) -> str:
    if format:
        if format not in FORMATS:
            raise InputError(f"--input-format must be one of {', '.join(FORMATS)}, not {format!r}")
        return format
    if path.suffix not in SUFFIXES:
        raise InputError(f"{path}: cannot tell the format from the suffix {path.suffix!r}: give --input-format")
    return SUFFIXES[path.suffix]


def iter_lines(f) -> Iterator[bytes]:
    """The raw lines of a binary file, each with its ending: the one rule of where lines end."""
    yield from f  # binary files split after b"\n" and nowhere else


def _line_text(raw: bytes) -> bytes:
    if raw.endswith(b"\r\n"):
        return raw[:-2]
    return raw[:-1] if raw.endswith(b"\n") else raw


def scan_shard(path: Path, format: str, name: str = "") -> Shard:
    """One streaming pass: the input's sha256, its record count and its read ranges."""
    name = name or path.name
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if format == "parquet":
        parquet = _parquet_file(path)
        groups = parquet.metadata.num_row_groups
        first, ranges = 1, []
        for g in range(groups):
            ranges.append((g, g + 1, first))
            first += parquet.metadata.row_group(g).num_rows
        return Shard(str(path), format, digest.hexdigest(), parquet.metadata.num_rows, tuple(ranges), name)
    ranges, start, line, offset = [], 0, 0, 0
    with path.open("rb") as f:
        for raw in iter_lines(f):
            line += 1
            offset += len(raw)
            if line % LINES_PER_RANGE == 0:
                ranges.append((start, offset, line - LINES_PER_RANGE + 1))
                start = offset
    if offset > start:
        ranges.append((start, offset, (line // LINES_PER_RANGE) * LINES_PER_RANGE + 1))
    return Shard(str(path), format, digest.hexdigest(), line, tuple(ranges), name)


def read_range(shard: str, format: str, start: int, end: int, first_line: int, options: ReadOptions,
               name: str = "") -> Iterator[Record]:
    """The records of one range of a shard, in order; bad ones carry their error. `name`: the
    shard's name in ids (default: its file name)."""
    name = name or Path(shard).name
    if format == "parquet":
        yield from _read_parquet(shard, start, end, first_line, options, name)
        return
    with open(shard, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    if start == 0 and data.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte order mark is no part of the text
        data = data[3:]
    for number, raw in enumerate(iter_lines(io.BytesIO(data)), start=first_line):
        yield _parse_line(shard, name, number, _line_text(raw), format, options)


def _parse_line(shard: str, name: str, number: int, raw: bytes, format: str, options: ReadOptions) -> Record:
    try:
        line = raw.decode("utf8")
    except UnicodeDecodeError as err:
        return Record(shard, number, None, None, f"not UTF-8 text (byte {err.start})")
    if format == "txt":
        return _checked(Record(shard, number, f"{name}:{number}", line), options)
    if not line.strip():
        return Record(shard, number, None, None, "empty line: no JSON record")
    try:
        value = json.loads(line)
    except json.JSONDecodeError as err:
        return Record(shard, number, None, None, f"invalid JSON: {err.msg} at column {err.colno}")
    if not isinstance(value, dict):
        return Record(shard, number, None, None, f"a JSON {type(value).__name__}, not an object")
    record_id = value.get(options.id_field) if options.id_field else None
    if record_id is None and options.id_required:
        return Record(shard, number, None, None, f"no {options.id_field!r} field (--id-field)")
    if isinstance(record_id, (dict, list, bool)):
        return Record(shard, number, None, None, f"the id is a JSON {type(record_id).__name__}, not a string or number")
    record_id = f"{name}:{number}" if record_id is None else str(record_id)
    return _checked(Record(shard, number, record_id, value.get(options.text_field)), options,
                    has_text=options.text_field in value)


def _checked(record: Record, options: ReadOptions, has_text: bool = True) -> Record:
    """Every record is checked here, whatever it comes from: its id first, which must be
    writable, then its text."""
    text = record.text
    bad_id = lone_surrogate(record.id) if record.id is not None else None
    if bad_id:
        record.error = f"the id holds {bad_id}: not valid Unicode"
        record.id = None  # an id that cannot be written; the shard and line say which record
    elif not has_text:
        record.error = f"no {options.text_field!r} field"
    elif not isinstance(text, str):
        record.error = f"text is a {type(text).__name__}, not a string"
    elif not text.strip():
        record.error = "empty text"
    elif len(text) > options.max_chars:
        record.error = f"text of {len(text):,} characters is longer than --max-chars {options.max_chars:,}"
    elif lone_surrogate(text):
        record.error = f"the text holds {lone_surrogate(text)}: not valid Unicode"
    if record.error:
        record.text = None
    return record


def _parquet_file(path: Path):
    try:
        import pyarrow.parquet as pq
    except ImportError as err:
        raise InputError(f"{path}: reading Parquet needs pyarrow: pip install pyarrow") from err
    try:
        return pq.ParquetFile(str(path))
    except Exception as err:  # pyarrow raises its own ArrowInvalid
        raise InputError(f"{path}: not a readable Parquet file ({err})") from err


def _read_parquet(shard: str, start: int, end: int, first_row: int, options: ReadOptions,
                  name: str) -> Iterator[Record]:
    parquet = _parquet_file(Path(shard))
    names = parquet.schema_arrow.names
    if options.text_field not in names:
        raise InputError(f"{shard}: no column {options.text_field!r} (columns: {', '.join(names)})")
    if options.id_required and options.id_field not in names:
        raise InputError(f"{shard}: no column {options.id_field!r} (--id-field; columns: {', '.join(names)})")
    columns = [options.text_field] + ([options.id_field] if options.id_field in names else [])
    number = first_row
    for group in range(start, end):
        table = parquet.read_row_group(group, columns=columns)
        texts = table.column(options.text_field).to_pylist()
        ids = table.column(options.id_field).to_pylist() if len(columns) > 1 else [None] * len(texts)
        for text, record_id in zip(texts, ids):
            if record_id is None and options.id_required:
                yield Record(shard, number, None, None, f"no {options.id_field!r} value (--id-field)")
            else:
                record_id = f"{name}:{number}" if record_id is None else str(record_id)
                yield _checked(Record(shard, number, record_id, text), options)
            number += 1


def read_shard(shard: Shard, options: ReadOptions) -> Iterator[Record]:
    for start, end, first in shard.ranges:
        yield from read_range(shard.path, shard.format, start, end, first, options, shard.name)


def count_records(shards: Sequence[Shard]) -> int:
    return sum(s.records for s in shards)
