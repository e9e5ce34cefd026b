"""PubTator: one document a block, blank lines between blocks.

    PMID|t|title
    PMID|a|abstract
    PMID<TAB>start<TAB>end<TAB>mention<TAB>Type[<TAB>identifier...]
    PMID<TAB>RelationType<TAB>id1<TAB>id2[...]        (relations: not entities, skipped)

One Doc per document, its text the title, a space and the abstract, as PubTator counts its
character offsets (exclusive ends); each mention must be the text at its offsets. A `|t|`
line also starts a new document where the blank line before it is missing. The PMID is in
`doc.user_data["pmid"]` (and "id"). Overlaps keep the longest in `doc.ents` by default (all
stay in `doc.spans["sc"]`): PubTator mentions may nest or share a word ("IL1B-31T" in
"IL1B-31T/C"), and mentions inside one token of a general tokenizer ("mzm1" and "D25N" in
"mzm1(D25N") become the same token span once aligned.
"""
import re
from pathlib import Path
from typing import Iterator, List, Optional, Union

from spacy.language import Language
from spacy.tokens import Doc

from .brat import check_alignment_mode, place_char_spans
from .errors import CorpusFormatError, RepairLog
from .io import read_text, text_lines
from .spans import set_entities, take_docs

PASSAGE = re.compile(r"([^\t|]+)\|([a-zA-Z])\|(.*)\Z", re.DOTALL)


def _int(value: str) -> Optional[int]:
    return int(value) if re.fullmatch(r"-?[0-9]+", value) else None


class _Document:
    def __init__(self, pmid: str, title: str, line: int):
        self.pmid, self.text, self.line = pmid, title, line
        self.has_abstract = False
        self.mentions = []  # (start, end, label, where)


def read_pubtator(
    path: Union[str, Path],
    nlp: Language,
    on_overlap: str = "keep_longest",
    alignment_mode: str = "expand",
    limit: int = 0,
) -> List[Doc]:
    check_alignment_mode(alignment_mode)
    repairs = RepairLog(path)
    source = str(path)

    def documents() -> Iterator[_Document]:
        document: Optional[_Document] = None
        for lineno, line in enumerate(text_lines(read_text(path)), start=1):
            if not line.strip():
                if document is not None:
                    yield document
                document = None
                continue
            passage = PASSAGE.match(line)
            if passage:
                pmid, kind, content = passage.groups()
                if kind == "t":
                    if document is not None:
                        yield document
                    document = _Document(pmid, content, lineno)
                elif kind == "a":
                    if document is None or document.pmid != pmid or document.has_abstract or document.mentions:
                        raise CorpusFormatError(path, lineno, f"an abstract ({pmid}|a|) that does not follow the "
                                                f"title line of PMID {pmid}")
                    document.text += " " + content
                    document.has_abstract = True
                else:
                    raise CorpusFormatError(path, lineno, f"a passage of kind {kind!r}: PubTator has titles (|t|) "
                                            "and abstracts (|a|)")
                continue
            fields = line.split("\t")
            if document is None:
                raise CorpusFormatError(path, lineno, f"a line outside a document (no PMID|t|title line before it): "
                                        f"{line[:80]!r}")
            if fields[0] != document.pmid:
                raise CorpusFormatError(path, lineno, f"PMID {fields[0]!r} in the document of PMID {document.pmid!r} "
                                        f"(line {document.line}); is a blank line missing?")
            if len(fields) < 3:
                raise CorpusFormatError(path, lineno, f"expected tab-separated PMID, start, end, mention and type, "
                                        f"or a relation: {line[:80]!r}")
            start, end = _int(fields[1]), _int(fields[2])
            if start is None:
                continue  # a relation line: PMID, type, arguments
            if end is None or len(fields) < 5:
                raise CorpusFormatError(path, lineno, "a mention line needs PMID, start, end, mention and type "
                                        f"separated by tabs: {line[:80]!r}")
            mention, label = fields[3], fields[4]
            if not label.strip():
                raise CorpusFormatError(path, lineno, f"the mention {mention!r} has no type")
            if not 0 <= start < end <= len(document.text):
                raise CorpusFormatError(path, lineno, f"offsets {start}-{end} are out of range: the document has "
                                        f"{len(document.text)} characters (title, a space, abstract)")
            if document.text[start:end] != mention:
                raise CorpusFormatError(path, lineno, f"the mention {mention!r} does not match the text at "
                                        f"{start}-{end} ({document.text[start:end]!r})")
            document.mentions.append((start, end, label, f"line {lineno}"))
        if document is not None:
            yield document

    def parse() -> Iterator[Doc]:
        for document in documents():
            doc = nlp.make_doc(document.text)
            spans = place_char_spans(doc, document.mentions, source, alignment_mode, repairs)
            doc.user_data["pmid"] = doc.user_data["id"] = document.pmid
            yield set_entities(doc, spans, source, f"line {document.line} (PMID {document.pmid})", on_overlap, repairs)

    return take_docs(path, parse(), limit, repairs)
