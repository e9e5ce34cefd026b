"""GLiNER-style JSON: `[{"sentence", "entities": [{"name", "type", "pos": [start, end]}]}]`.

`pos` are character offsets into `sentence` with an exclusive end; `name` must be the text
there, which catches offsets counted another way.
"""
import json
from pathlib import Path
from typing import List, Union

from spacy.language import Language
from spacy.tokens import Doc

from .errors import CorpusFormatError, RepairLog
from .io import lone_surrogate_in, read_text
from .spans import take_docs, make_spans, set_entities


def read_gliner_json(
    path: Union[str, Path], nlp: Language, on_overlap: str = "error", alignment_mode: str = "strict", limit: int = 0
) -> List[Doc]:
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise CorpusFormatError(path, err.lineno, f"invalid JSON: {err.msg}") from None
    if not isinstance(data, list):
        raise CorpusFormatError(path, None, "expected a JSON list of examples")
    repairs = RepairLog(path)

    def parse():
        for i, example in enumerate(data):
            where = f"example {i}"
            if not isinstance(example, dict) or not isinstance(example.get("sentence"), str):
                raise CorpusFormatError(path, where, "expected an object with a string 'sentence'")
            surrogate = lone_surrogate_in(example)
            if surrogate:
                raise CorpusFormatError(path, where, f"the example holds {surrogate} of a string: not valid Unicode")
            text = example["sentence"]
            items = []
            entities = example.get("entities", [])
            if not isinstance(entities, list):
                raise CorpusFormatError(path, where, f"'entities' must be a list, not {entities!r}")
            for ent in entities:
                pos = ent.get("pos") if isinstance(ent, dict) else None
                if not (isinstance(pos, list) and len(pos) == 2) or any(isinstance(p, bool) for p in pos):
                    raise CorpusFormatError(path, where, f"entity {ent!r} needs 'pos': [start, end]")
                start, end = pos
                name = ent.get("name")
                if isinstance(start, int) and isinstance(end, int) and name is not None and text[start:end] != name:
                    raise CorpusFormatError(
                        path, where,
                        f"entity {name!r} does not match the text at {start}:{end} ({text[start:end]!r})",
                    )
                items.append({"start": start, "end": end, "label": ent.get("type")})
            doc = nlp.make_doc(text)
            spans = make_spans(doc, items, "characters", str(path), where, alignment_mode)
            yield set_entities(doc, spans, str(path), where, on_overlap, repairs)

    return take_docs(path, parse(), limit, repairs)


def write_gliner_json(docs, path: Union[str, Path]) -> None:
    data = [
        {
            "sentence": doc.text,
            "entities": [
                {"name": e.text, "type": e.label_, "pos": [e.start_char, e.end_char]} for e in doc.ents
            ],
        }
        for doc in docs
    ]
    Path(path).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf8")
