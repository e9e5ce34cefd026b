"""Which entity types a Doc's source annotates: the record of partial annotation.

A corpus that marks diseases says nothing about the people in its sentences, so a model must
not learn "not a person" from it. Each Doc of a mixture records the types its source annotates
in `doc.user_data`, which a DocBin keeps (`store_user_data=True`) and `spacy train` reads
back; components give no loss on the other types. A Doc without the record is taken as
annotated for every type (an ordinary single-corpus Doc).
"""
from typing import Iterable, List, Optional

from spacy.tokens import Doc

ANNOTATED_TYPES_KEY = "spacy_ner_ext.annotated_types"


def set_annotated_types(doc: Doc, types: Iterable[str]) -> None:
    doc.user_data[ANNOTATED_TYPES_KEY] = sorted(set(types))


def annotated_types(doc: Doc) -> Optional[List[str]]:
    """The types `doc`'s source annotates, or None: every type."""
    types = doc.user_data.get(ANNOTATED_TYPES_KEY)
    return None if types is None else list(types)


INCOMPLETE_KEY = "spacy_ner_ext.incomplete_labels"


def mark_incomplete(doc: Doc, labels: Iterable[str]) -> None:
    """Corpus labels whose annotation in this Doc is known to be incomplete (an entity of that
    label could not be read: discontinuous, or not found in the text): a mixture does not
    count the Doc as annotated for them, so the missing entity is no negative."""
    labels = set(labels)
    if labels:
        doc.user_data[INCOMPLETE_KEY] = sorted(labels | set(doc.user_data.get(INCOMPLETE_KEY, ())))


def incomplete_labels(doc: Doc) -> List[str]:
    return list(doc.user_data.get(INCOMPLETE_KEY, ()))
