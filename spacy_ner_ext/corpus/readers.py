"""The corpus formats as spaCy corpus readers, usable in `[corpora.*]` of a config."""
import json
import re
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Union

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry

from ..errors import UserInputError
from .brat import read_brat
from .conll import read_conll
from .dygie import read_dygie
from .errors import CorpusFormatError
from .gliner_json import read_gliner_json
from .hipe import read_hipe
from .inline_xml import read_inline_xml
from .jsonl import read_jsonl
from .pubtator import read_pubtator
from .raw import read_raw_annotations

FORMATS = ("conll", "jsonl", "gliner", "raw", "brat", "pubtator", "dygie", "hipe", "inline_xml")


def infer_format(path: Union[str, Path]) -> str:
    """The format of a corpus file, from what it holds: a folder of .ann files, a .ann file
    or a .txt with a .ann beside it is BRAT; a JSON list is GLiNER JSON; JSON lines are DyGIE
    when the first record has "sentences" and "ner", raw text + entity strings when it has
    "entities" and no spans, else JSONL; `<` opens inline XML; a first line `PMID|t|title`
    is PubTator; a `TOKEN<TAB>NE-COARSE-LIT...` header or a `# hipe2022:` comment is HIPE TSV;
    anything else is CoNLL columns."""
    path = Path(path)
    if path.is_dir():
        if any(p.suffix == ".ann" for p in path.iterdir()):
            return "brat"
        raise CorpusFormatError(path, None, "a folder: only BRAT .txt/.ann pairs are read from one, and it holds no "
                                ".ann file")
    if path.suffix == ".ann" or (path.suffix == ".txt" and path.with_suffix(".ann").is_file()):
        return "brat"
    with open(path, "rb") as f:
        head = f.read(1 << 16).decode("utf8", errors="replace").lstrip("\ufeff \t\r\n")
    if head.startswith("["):
        return "gliner"
    if head.startswith("{"):
        with open(path, "rb") as f:  # the whole first record: a DyGIE document may be longer than the head
            first = next((line for line in f if line.strip(b" \t\r\n")), b"")
        first = first.decode("utf8", errors="replace").lstrip("\ufeff \t\r\n")
        try:
            record = json.loads(first)
        except json.JSONDecodeError:
            record = {}
        if isinstance(record, dict) and {"sentences", "ner"} <= set(record):
            return "dygie"
        if isinstance(record, dict) and "entities" in record and not {"token_spans", "char_spans"} & set(record):
            return "raw"
        return "jsonl"
    if re.match(r"<[?!A-Za-z_]", head):
        return "inline_xml"
    lines = head.split("\n")
    if re.match(r"[^\t| ]+\|t\|", lines[0]):
        return "pubtator"
    if any(line.startswith("# hipe2022:") or re.match(r"TOKEN\tNE-COARSE-LIT\b", line) for line in lines[:200]):
        return "hipe"
    return "conll"


def read_docs(path: Union[str, Path], nlp: Language, format: str, **options) -> List[Doc]:
    """Read `path` in one of FORMATS; `options` go to that format's reader."""
    if format not in FORMATS:
        raise UserInputError(f"Unknown corpus format {format!r}: expected one of {', '.join(FORMATS)}")
    limit = options.get("limit", 0)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise UserInputError(f"limit must be a whole number of at least 0 (0: all), not {limit!r}")
    if format == "conll":
        return read_conll(path, nlp.vocab, **options)
    if format == "jsonl":
        return read_jsonl(path, nlp, **options)
    if format == "gliner":
        return read_gliner_json(path, nlp, **options)
    if format == "raw":
        return read_raw_annotations(path, nlp, **options)
    if format == "brat":
        return read_brat(path, nlp, **options)
    if format == "pubtator":
        return read_pubtator(path, nlp, **options)
    if format == "dygie":
        return read_dygie(path, nlp, **options)
    if format == "hipe":
        return read_hipe(path, nlp, **options)
    if format == "inline_xml":
        return read_inline_xml(path, nlp, **options)


def docs_to_examples(nlp: Language, docs: List[Doc]) -> Iterator[Example]:
    for reference in docs:
        if len(reference) == 0:
            continue
        # Pre-tokenized corpora keep their tokens, as spaCy's own Corpus does for them.
        if reference.has_unknown_spaces:
            predicted = Doc(nlp.vocab, words=[t.text for t in reference])
        else:
            predicted = nlp.make_doc(reference.text)
        yield Example(predicted, reference)


def _reader(path, format, **options) -> Callable[[Language], Iterator[Example]]:
    def read(nlp: Language) -> Iterator[Example]:
        yield from docs_to_examples(nlp, read_docs(path, nlp, format, **options))

    return read


@registry.readers("spacy_ner_ext.ConllCorpus.v1")
def conll_corpus_v1(
    path: Path, scheme: str = "iob2", tag_column: int = -1, token_column: Optional[int] = None,
    token_prefix: str = "", n_sents: int = 1, separator: Optional[str] = None, limit: int = 0,
):
    return _reader(path, "conll", scheme=scheme, tag_column=tag_column, token_column=token_column,
                   token_prefix=token_prefix, n_sents=n_sents, separator=separator, limit=limit)


@registry.readers("spacy_ner_ext.JsonlCorpus.v1")
def jsonl_corpus_v1(path: Path, annotation_format: str = "auto", on_overlap: str = "error",
                    alignment_mode: str = "strict", limit: int = 0):
    return _reader(path, "jsonl", annotation_format=annotation_format, on_overlap=on_overlap,
                   alignment_mode=alignment_mode, limit=limit)


@registry.readers("spacy_ner_ext.GlinerJsonCorpus.v1")
def gliner_corpus_v1(path: Path, on_overlap: str = "error", alignment_mode: str = "strict", limit: int = 0):
    return _reader(path, "gliner", on_overlap=on_overlap, alignment_mode=alignment_mode, limit=limit)


@registry.readers("spacy_ner_ext.RawAnnotationCorpus.v1")
def raw_corpus_v1(path: Path, fuzzy_threshold: float = 90.0, on_overlap: str = "keep_longest",
                  strict: bool = False, limit: int = 0):
    return _reader(path, "raw", fuzzy_threshold=fuzzy_threshold, on_overlap=on_overlap, strict=strict, limit=limit)


@registry.readers("spacy_ner_ext.BratCorpus.v1")
def brat_corpus_v1(path: Path, on_overlap: str = "keep_longest", alignment_mode: str = "expand",
                   discontinuous: str = "extent", split_lines: bool = True, limit: int = 0):
    return _reader(path, "brat", on_overlap=on_overlap, alignment_mode=alignment_mode, discontinuous=discontinuous,
                   split_lines=split_lines, limit=limit)


@registry.readers("spacy_ner_ext.PubtatorCorpus.v1")
def pubtator_corpus_v1(path: Path, on_overlap: str = "keep_longest", alignment_mode: str = "expand", limit: int = 0):
    return _reader(path, "pubtator", on_overlap=on_overlap, alignment_mode=alignment_mode, limit=limit)


@registry.readers("spacy_ner_ext.DygieCorpus.v1")
def dygie_corpus_v1(path: Path, on_overlap: str = "keep_longest", limit: int = 0):
    return _reader(path, "dygie", on_overlap=on_overlap, limit=limit)


@registry.readers("spacy_ner_ext.HipeCorpus.v1")
def hipe_corpus_v1(path: Path, column: str = "NE-COARSE-LIT", scheme: str = "iob2", limit: int = 0):
    return _reader(path, "hipe", column=column, scheme=scheme, limit=limit)


@registry.readers("spacy_ner_ext.InlineXmlCorpus.v1")
def inline_xml_corpus_v1(path: Path, entity_tag: str = "ENAMEX", label_attribute: str = "type",
                         sentence_tag: str = "sentence", on_overlap: str = "keep_longest",
                         alignment_mode: str = "expand", limit: int = 0):
    return _reader(path, "inline_xml", entity_tag=entity_tag, label_attribute=label_attribute,
                   sentence_tag=sentence_tag, on_overlap=on_overlap, alignment_mode=alignment_mode, limit=limit)
