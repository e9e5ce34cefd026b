"""Scores on partially annotated Docs: a prediction of a type that the gold Doc's source does
not annotate is neither right nor wrong, so it is left out before scoring."""
from typing import Dict, List

from spacy.language import Language
from spacy.scorer import get_ner_prf
from spacy.training import Example

from ..corpus.annotated_types import annotated_types


def score_partially_annotated(nlp: Language, examples: List[Example], batch_size: int = 64) -> Dict:
    predicted = list(nlp.pipe((eg.predicted.copy() for eg in examples), batch_size=batch_size))
    scored = []
    for eg, doc in zip(examples, predicted):
        types = annotated_types(eg.reference)
        if types is not None:
            types = set(types)
            doc.ents = [e for e in doc.ents if e.label_ in types]
        scored.append(Example(doc, eg.reference))
    return get_ner_prf(scored)
