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
