"""spaCy Docs as GLiNER's training records, and GLiNER's spans back as character spans.

GLiNER trains on `{"tokenized_text": [word, ...], "ner": [[first_word, last_word, type], ...]}`
(the last word inclusive) and reads `"ner_negatives"`, types to show that the record does not
hold. A Doc's tokens are its words, so an entity's word indices are its token indices and
nothing is re-tokenized; `char_spans` goes back through the same tokens, which is what makes
the round trip exact.

A mixture's Doc records the types its source annotates (`annotated_types`): those it does
not hold are true negatives, the only ones GLiNER is given for it (another source's types
may be present here unannotated, as `span_ner` is not taught either), as many as GLiNER's
processor would draw from its batch. Each type is shown by
its name or one of its descriptions, drawn per record, as `span_ner`'s pretraining draws them
per batch (`training_type_texts = "variants"`, `name_probability`).
"""
import random
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from spacy.tokens import Doc

from ..corpus.annotated_types import annotated_types

CharSpan = Tuple[int, int, str]


def doc_to_record(doc: Doc, type_texts: Optional[Dict[str, Sequence[str]]] = None, *,
                  name_probability: float = 1.0, max_types: int = 25, negative_ratio: int = 1,
                  rng: Optional[random.Random] = None) -> Dict:
    """One GLiNER training record. `type_texts`: {type: [description, ...]}; without it (or
    for a type it lacks) a type is shown by its name. At most `max_types` types per record
    (GLiNER's own cap): every type present, then negatives drawn at random."""
    rng = rng or random.Random(0)
    present = sorted({ent.label_ for ent in doc.ents})
    shown = {label: _type_text(label, type_texts, name_probability, rng) for label in present}
    record = {
        "tokenized_text": [token.text for token in doc],
        "ner": [[ent.start, ent.end - 1, shown[ent.label_]] for ent in doc.ents],
    }
    annotated = annotated_types(doc)
    if annotated is not None:
        absent = sorted(set(annotated) - set(present))
        rng.shuffle(absent)
        # GLiNER's own count of negatives (its processor, max_neg_type_ratio = 1): as many as
        # the record has entities, or none, at random; one for a record without entities, so
        # that it still teaches something. Each type shown costs encoder tokens in the record.
        count = len(doc.ents) * rng.randint(0, negative_ratio) if len(doc.ents) else 1
        count = min(count, max(0, max_types - len(present)))
        record["ner_negatives"] = [_type_text(label, type_texts, name_probability, rng) for label in absent[:count]]
    return record


def _type_text(label: str, type_texts: Optional[Dict[str, Sequence[str]]], name_probability: float,
               rng: random.Random) -> str:
    variants = (type_texts or {}).get(label) or []
    if not variants or rng.random() < name_probability:
        return label
    return rng.choice(list(variants))


def docs_to_records(docs: Iterable[Doc], type_texts: Optional[Dict[str, Sequence[str]]] = None, *,
                    name_probability: float = 1.0, max_types: int = 25, seed: int = 0) -> List[Dict]:
    rng = random.Random(seed)
    return [doc_to_record(doc, type_texts, name_probability=name_probability, max_types=max_types, rng=rng)
            for doc in docs]


def char_spans(doc: Doc, ner: Iterable[Sequence]) -> List[CharSpan]:
    """GLiNER's `[first_word, last_word, type]` over `doc`'s tokens as (start_char, end_char,
    type), the end exclusive."""
    spans = []
    for first, last, label in ner:
        if not 0 <= first <= last < len(doc):
            raise ValueError(f"span [{first}, {last}] is outside a Doc of {len(doc)} words")
        spans.append((doc[first].idx, doc[last].idx + len(doc[last].text), label))
    return spans


def gold_char_spans(doc: Doc) -> List[CharSpan]:
    return [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents]
