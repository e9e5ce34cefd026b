"""BRAT standoff: `X.txt` with its `X.ann` beside it.

Entity lines are `T<n><TAB><Label> <start> <end><TAB><text>`, character offsets into the
.txt with exclusive ends; the `text` must be the .txt at those offsets (compared with runs
of whitespace made one space, since BRAT writes a line break in a mention as a space and
some corpora add a trailing one), which catches offsets counted another way. Other lines
(relations R, events E, attributes A/M, normalizations N, notes #) are not entities and are
skipped. Every T line is an entity, event triggers too (BRAT keeps them as T lines).

A discontinuous entity (`start end;start end`) is read, with `discontinuous="extent"` (the
default), as the one span from its first start to its last end, the words between its
fragments included; `"skip"` leaves it out; `"error"` refuses it. The first two are counted
repairs, reported once.

With `split_lines=True` (the default) each non-blank line of the .txt is one Doc (BRAT
corpora keep one sentence or paragraph a line: LitBank a sentence, MSPT the DOI, the title
and the procedure); an entity across a line break is then an error. `split_lines=False`
reads each .txt as one Doc. BRAT entities nest, so overlaps keep the longest in `doc.ents`
by default (all stay in `doc.spans["sc"]`).

Input: a `.ann` or `.txt` file (its partner beside it) or a folder, whose `.ann` files are
read with their `.txt` in name order (a `.txt` without an `.ann` is not a BRAT pair there,
and is left alone).
"""
from bisect import bisect_right
from pathlib import Path
from typing import Iterable, Iterator, List, Tuple, Union

from spacy.language import Language
from spacy.tokens import Doc, Span

from ..errors import UserInputError
from .errors import CorpusFormatError, RepairLog
from .io import read_text, text_lines
from .spans import make_spans, set_entities, take_docs

DISCONTINUOUS = ("extent", "skip", "error")
ALIGNMENT_MODES = ("strict", "contract", "expand")


def check_alignment_mode(alignment_mode: str) -> None:
    if alignment_mode not in ALIGNMENT_MODES:
        raise UserInputError(f"alignment_mode must be one of {ALIGNMENT_MODES}, not {alignment_mode!r}")


def place_char_spans(
    doc: Doc,
    items: Iterable[Tuple[int, int, str, str]],
    source: str,
    alignment_mode: str,
    repairs: RepairLog,
) -> List[Span]:
    """Spans from (start, end, label, where) character offsets into `doc.text`. Whitespace at
    either end of an offset pair is left out first (a counted repair): `char_span` would
    otherwise expand it onto the neighbouring word. Offsets that `alignment_mode` moves onto
    token boundaries are counted too."""
    spans = []
    text = doc.text
    for start, end, label, where in items:
        if 0 <= start < end <= len(text):
            s, e = start, end
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if s == e:
                repairs.add("entities of whitespace alone: dropped", f"{Path(source).name}, {where}")
                continue
            if (s, e) != (start, end):
                repairs.add("whitespace at the ends of entities: left out", f"{Path(source).name}, {where}")
            start, end = s, e
        (span,) = make_spans(doc, [{"start": start, "end": end, "label": label}], "characters", source, where,
                             alignment_mode)
        if (span.start_char, span.end_char) != (start, end):
            repairs.add(f"entity offsets not on token boundaries: moved to them (alignment_mode {alignment_mode!r})",
                        f"{Path(source).name}, {where}")
        spans.append(span)
    return spans


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def brat_pairs(path: Union[str, Path]) -> List[Tuple[Path, Path]]:
    """(ann, txt) pairs for a .ann or .txt file or a folder of them."""
    path = Path(path)
    if path.is_dir():
        anns = sorted(p for p in path.iterdir() if p.suffix == ".ann" and p.is_file())
        if not anns:
            raise CorpusFormatError(path, None, "a folder with no .ann files: expected BRAT .txt/.ann pairs")
    elif path.suffix in (".ann", ".txt"):
        anns = [path.with_suffix(".ann")]
        if not path.exists():
            raise CorpusFormatError(path, None, "no such file")
    else:
        raise CorpusFormatError(path, None, "expected a BRAT .ann or .txt file, or a folder of .txt/.ann pairs")
    pairs = []
    for ann in anns:
        txt = ann.with_suffix(".txt")
        for needed, partner in ((ann, txt), (txt, ann)):
            if not needed.is_file():
                raise CorpusFormatError(partner, None, f"its BRAT partner {needed.name} is not beside it")
        pairs.append((ann, txt))
    return pairs


def _read_maybe_empty(path: Path) -> str:
    """A BRAT file may be empty: a text not yet annotated has an empty .ann."""
    if path.is_file() and not path.read_bytes().strip():
        return ""
    return read_text(path)


def parse_ann(ann: Path, text: str, discontinuous: str, repairs: RepairLog) -> List[Tuple[int, int, str, int]]:
    """(start, end, label, line) of each entity in `ann`, checked against `text`."""
    entities = []
    for lineno, line in enumerate(text_lines(_read_maybe_empty(ann)), start=1):
        if not line.strip() or not line.startswith("T"):
            continue
        fields = line.split("\t")
        if len(fields) < 2 or not fields[0][1:].isdigit():
            raise CorpusFormatError(ann, lineno,
                                    f"not a BRAT entity line (T<n><TAB>Label start end<TAB>text): {line!r}")
        ident = fields[0]
        label, _, offsets = fields[1].partition(" ")
        fragments = []
        for fragment in offsets.split(";"):
            parts = fragment.split()
            if len(parts) != 2 or not all(p.isdigit() for p in parts):
                raise CorpusFormatError(ann, lineno, f"entity {ident}: expected 'Label start end' (fragments joined by "
                                        f"';'), found {fields[1]!r}")
            start, end = int(parts[0]), int(parts[1])
            if not 0 <= start < end <= len(text):
                raise CorpusFormatError(ann, lineno, f"entity {ident}: offsets {start} {end} are out of range: the "
                                        f"text has {len(text)} characters")
            fragments.append((start, end))
        if not label.strip():
            raise CorpusFormatError(ann, lineno, f"entity {ident} has no label")
        if len(fields) > 2:
            found = " ".join(text[s:e] for s, e in fragments)
            if not _same_text(found, fields[2]):
                raise CorpusFormatError(ann, lineno, f"entity {ident} {fields[2]!r} does not match the .txt at "
                                        f"{offsets} ({found!r})")
        if len(fragments) > 1:
            if discontinuous == "error":
                raise CorpusFormatError(ann, lineno, f"entity {ident} is discontinuous ({offsets}); read with "
                                        "discontinuous='extent' or 'skip'")
            how = "read as their whole extent" if discontinuous == "extent" else "left out"
            repairs.add(f"discontinuous entities: {how}", f"{ann.name}, line {lineno}")
            if discontinuous == "skip":
                continue
        entities.append((min(s for s, _ in fragments), max(e for _, e in fragments), label, lineno))
    return entities


def read_brat(
    path: Union[str, Path],
    nlp: Language,
    on_overlap: str = "keep_longest",
    alignment_mode: str = "expand",
    discontinuous: str = "extent",
    split_lines: bool = True,
    limit: int = 0,
) -> List[Doc]:
    """Docs with `doc.ents` from BRAT pairs; `doc.user_data["id"]` is the file's stem, with
    `:<line>` (the line of the .txt, from 1) when reading a Doc a line."""
    if discontinuous not in DISCONTINUOUS:
        raise UserInputError(f"discontinuous must be one of {DISCONTINUOUS}, not {discontinuous!r}")
    check_alignment_mode(alignment_mode)
    pairs = brat_pairs(path)
    repairs = RepairLog(path)

    def parse() -> Iterator[Doc]:
        for ann, txt in pairs:
            text = _read_maybe_empty(txt)
            entities = parse_ann(ann, text, discontinuous, repairs)
            if split_lines:
                # Each line's (start, end) in the text, without its "\n" or "\r\n".
                starts = [0] + [i + 1 for i, c in enumerate(text) if c == "\n"]
                lines = []
                for i, start in enumerate(starts):
                    end = starts[i + 1] - 1 if i + 1 < len(starts) else len(text)
                    if end > start and text[end - 1] == "\r":
                        end -= 1
                    lines.append((start, end))
                per_line: List[list] = [[] for _ in lines]
                for start, end, label, lineno in entities:
                    i = bisect_right(starts, start) - 1
                    if end > lines[i][1]:
                        raise CorpusFormatError(ann, lineno, f"the entity at {start}-{end} ({text[start:end]!r}) "
                                                f"runs across a line break of {txt.name}; read with split_lines=False")
                    per_line[i].append((start - lines[i][0], end - lines[i][0], label, lineno))
                chunks = [(f"{txt.stem}:{i + 1}", text[s:e], per_line[i]) for i, (s, e) in enumerate(lines)
                          if text[s:e].strip()]
            else:
                chunks = [(txt.stem, text, entities)] if text.strip() else []
            for ident, chunk, items in chunks:
                doc = nlp.make_doc(chunk)
                spans = place_char_spans(doc, [(s, e, label, f"line {n}") for s, e, label, n in items], str(ann),
                                         alignment_mode, repairs)
                doc.user_data["id"] = ident
                yield set_entities(doc, spans, str(ann), f"the entities of {ident}", on_overlap, repairs)

    return take_docs(path, parse(), limit, repairs)
