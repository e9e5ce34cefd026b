"""The corpus formats as spaCy corpus readers, usable in `[corpora.*]` of a config."""
import json
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Union

from spacy.language import Language
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry

from ..errors import UserInputError
from .conll import read_conll
from .gliner_json import read_gliner_json
from .jsonl import read_jsonl
from .raw import read_raw_annotations

FORMATS = ("conll", "jsonl", "gliner", "raw")


def infer_format(path: Union[str, Path]) -> str:
    """The format of a corpus file, from what it holds: a JSON list is GLiNER JSON; JSON lines
    are raw text + entity strings when the first record has "entities" and no spans, else
    JSONL; anything else is CoNLL columns."""
    with open(path, "rb") as f:
        head = f.read(1 << 16).decode("utf8", errors="replace").lstrip("\ufeff \t\r\n")
    if head.startswith("["):
        return "gliner"
    if head.startswith("{"):
        first = head.split("\n", 1)[0]
        try:
            record = json.loads(first)
        except json.JSONDecodeError:
            record = {}
        if isinstance(record, dict) and "entities" in record and not {"token_spans", "char_spans"} & set(record):
            return "raw"
        return "jsonl"
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
