"""JSONL: one example a line, `{"id", "tokens", "text", "token_spans", "char_spans"}`.

Spans are `{start, end, label}` with exclusive ends. `annotation_format="tokens"` reads
`tokens` + `token_spans`; `"text"` tokenizes `text` with the pipeline's tokenizer and reads
`char_spans`; `"auto"` (the default) reads each record by what it holds: its tokens when it
has `tokens` (the exact tokens, as `write_jsonl` keeps them beside the text), else its text.
"""
import json
from pathlib import Path
from typing import Iterable, Iterator, List, Tuple, Union

import srsly
from spacy.language import Language
from spacy.tokens import Doc

from .errors import CorpusFormatError, RepairLog
from .io import lone_surrogate_in, read_text, text_lines
from .spans import take_docs, SPANS_KEY, make_spans, set_entities
from ..errors import UserInputError

FORMATS = ("auto", "tokens", "text")


def iter_jsonl(path: Union[str, Path]) -> Iterator[Tuple[int, dict]]:
    """(line number, object) for each non-blank line."""
    for lineno, line in enumerate(text_lines(read_text(path)), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise CorpusFormatError(path, lineno, f"invalid JSON: {err.msg} at column {err.colno}") from None
        if not isinstance(obj, dict):
            raise CorpusFormatError(path, lineno, f"expected a JSON object, found {type(obj).__name__}")
        # A lone surrogate can only come from a "\u" escape: other lines need no walk.
        surrogate = lone_surrogate_in(obj) if "\\u" in line else None
        if surrogate:
            raise CorpusFormatError(path, lineno, f"the record holds {surrogate} of a string: not valid Unicode")
        yield lineno, obj


def read_jsonl(
    path: Union[str, Path],
    nlp: Language,
    annotation_format: str = "auto",
    on_overlap: str = "error",
    alignment_mode: str = "strict",
    limit: int = 0,
) -> List[Doc]:
    if annotation_format not in FORMATS:
        raise UserInputError(f"annotation_format must be one of {FORMATS}, not {annotation_format!r}")
    repairs = RepairLog(path)

    def parse():
        for lineno, obj in iter_jsonl(path):
            where = f"line {lineno}" + (f" (id {obj['id']!r})" if "id" in obj else "")
            unit = annotation_format
            if unit == "auto":
                unit = "tokens" if "tokens" in obj else "text" if "text" in obj else None
                if unit is None:
                    raise CorpusFormatError(path, where, "neither 'tokens' (with token_spans) nor 'text' (with "
                                            f"char_spans) in the record; its fields: {', '.join(obj) or 'none'}")
            if unit == "tokens":
                tokens = obj.get("tokens")
                if not isinstance(tokens, list) or not all(isinstance(t, str) and t for t in tokens):
                    hint = " (the record has 'text': leave annotation_format to be inferred, or give 'text')" \
                        if tokens is None and "text" in obj else ""
                    raise CorpusFormatError(path, where, f"'tokens' must be a list of non-empty strings{hint}")
                doc = Doc(nlp.vocab, words=tokens)
                spans = make_spans(doc, obj.get("token_spans", []), "tokens", str(path), where)
            else:
                text = obj.get("text")
                if not isinstance(text, str):
                    raise CorpusFormatError(path, where, "'text' must be a string")
                doc = nlp.make_doc(text)
                spans = make_spans(doc, obj.get("char_spans", []), "characters", str(path), where, alignment_mode)
            if "id" in obj:
                doc.user_data["id"] = obj["id"]
            yield set_entities(doc, spans, str(path), where, on_overlap, repairs)

    return take_docs(path, parse(), limit, repairs)


def doc_to_record(doc: Doc, default_id: Union[int, str]) -> dict:
    spans = list(doc.spans[SPANS_KEY]) if SPANS_KEY in doc.spans else list(doc.ents)
    return {
        "id": doc.user_data.get("id", default_id),
        "tokens": [t.text for t in doc],
        "text": doc.text,
        "token_spans": [{"start": s.start, "end": s.end, "label": s.label_} for s in spans],
        "char_spans": [{"start": s.start_char, "end": s.end_char, "label": s.label_} for s in spans],
    }


def write_jsonl(docs: Iterable[Doc], path: Union[str, Path]) -> None:
    srsly.write_jsonl(path, (doc_to_record(doc, i) for i, doc in enumerate(docs)))
