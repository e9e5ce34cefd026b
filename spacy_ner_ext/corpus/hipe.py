"""HIPE TSV (HIPE-2020, HIPE-2022): a header line naming the tab-separated columns

    TOKEN  NE-COARSE-LIT  NE-COARSE-METO  NE-FINE-LIT  ...  MISC

then one token a line, with `# ...` comment lines of document metadata
(`# hipe2022:document_id = ...`, `# hipe2022:applicable_columns = ...`) and blank lines
between documents. Tags are IOB2 in the chosen `column` (NE-COARSE-LIT by default; "_" is
no entity). MISC holds `|`-separated flags: `NoSpaceAfter` (the token's spacing),
`EndOfSentence` or `PySBDSegment` (sentence ends; `EndOfLine` is a line break of the scan and
does not end one).

One Doc per sentence where the sentence flags are given, else per segment (the tokens
between blank or comment lines). An entity is never cut: a sentence end inside one (an
abbreviation, OCR noise: "Mr. | Smith", "Unitec? | States") is not taken, and the sentences on
either side read as one (a counted repair). A column the document's `applicable_columns` leaves
out holds no annotation and is refused. A line starting with `#` that has the header's
columns is a token ("#"), not a comment. `doc.user_data` holds "document_id" and "id"
(`<document_id>:<sentence index from 0 in the document>`).
"""
import re
from pathlib import Path
from typing import Iterator, List, Optional, Union

from spacy.language import Language
from spacy.tokens import Doc, Span

from .errors import CorpusFormatError, RepairLog
from .io import read_text, text_lines
from .spans import take_docs
from .tags import tags_to_spans

SENTENCE_ENDS = {"EndOfSentence", "PySBDSegment"}
_META = re.compile(r"#\s*(?:[\w.-]+:)?([\w.-]+)\s*=\s*(.*)\Z")


class _Segment:
    __slots__ = ("document_id", "words", "spaces", "tags", "lines", "ends")

    def __init__(self, document_id: Optional[str]):
        self.document_id = document_id
        self.words: List[str] = []
        self.spaces: List[bool] = []
        self.tags: List[str] = []
        self.lines: List[int] = []
        self.ends: List[bool] = []


def read_hipe(
    path: Union[str, Path],
    nlp: Language,
    column: str = "NE-COARSE-LIT",
    scheme: str = "iob2",
    limit: int = 0,
) -> List[Doc]:
    repairs = RepairLog(path)
    source = str(path)

    def segments() -> Iterator[_Segment]:
        header: Optional[List[str]] = None
        tag_at = misc_at = None
        document_id: Optional[str] = None
        segment = _Segment(document_id)
        for lineno, line in enumerate(text_lines(read_text(path)), start=1):
            fields = line.split("\t")
            is_comment = line.startswith("#") and (header is None or len(fields) != len(header))
            if not line.strip() or is_comment:
                if segment.words:
                    yield segment
                segment = _Segment(document_id)
                meta = _META.match(line.strip()) if is_comment else None
                if meta and meta.group(1) == "document_id":
                    document_id = segment.document_id = meta.group(2).strip()
                elif meta and meta.group(1) == "applicable_columns" and column not in meta.group(2).split():
                    raise CorpusFormatError(path, lineno, f"the column {column!r} is not among this document's "
                                            f"applicable columns ({meta.group(2).strip()}): it holds no annotation")
                continue
            if header is None or fields == header:
                if fields[0] != "TOKEN":
                    raise CorpusFormatError(path, lineno, "expected the header line (TOKEN, NE-COARSE-LIT, ... MISC "
                                            f"separated by tabs) before the first token, found {line[:80]!r}")
                if header is None:
                    if column not in fields:
                        raise CorpusFormatError(path, lineno, f"no column {column!r} in the header; its columns: "
                                                f"{', '.join(fields)}")
                    header, tag_at = fields, fields.index(column)
                    misc_at = fields.index("MISC") if "MISC" in fields else None
                continue
            if len(fields) != len(header):
                raise CorpusFormatError(path, lineno, f"{len(fields)} columns where the header has {len(header)}: "
                                        f"{line[:80]!r}")
            if not fields[0]:
                raise CorpusFormatError(path, lineno, "an empty token")
            flags = set(fields[misc_at].split("|")) if misc_at is not None else set()
            tag = fields[tag_at]
            segment.words.append(fields[0])
            segment.spaces.append("NoSpaceAfter" not in flags)
            segment.tags.append("O" if tag == "_" else tag)
            segment.lines.append(lineno)
            segment.ends.append(bool(flags & SENTENCE_ENDS))
        if segment.words:
            yield segment

    def parse() -> Iterator[Doc]:
        counts = {}
        for segment in segments():
            entities = tags_to_spans(segment.tags, scheme, source, segment.lines, repairs)
            inside = [False] * len(segment.words)  # token i and i + 1 are in one entity
            for start, end, _ in entities:
                for i in range(start, end - 1):
                    inside[i] = True
            cuts = []
            for i, end in enumerate(segment.ends):
                if end and inside[i]:
                    repairs.add("sentence ends inside an entity: not taken (the sentences on either side read as one)",
                                f"line {segment.lines[i]}")
                elif end or i == len(segment.ends) - 1:
                    cuts.append(i + 1)
            start = 0
            for cut in cuts:
                spaces = segment.spaces[start:cut]
                spaces[-1] = False
                doc = Doc(nlp.vocab, words=segment.words[start:cut], spaces=spaces)
                doc.ents = [Span(doc, s - start, e - start, label=label) for s, e, label in entities
                            if start <= s and e <= cut]
                key = segment.document_id
                doc.user_data["document_id"] = key
                doc.user_data["id"] = f"{key}:{counts.get(key, 0)}"
                counts[key] = counts.get(key, 0) + 1
                yield doc
                start = cut

    return take_docs(path, parse(), limit, repairs)
