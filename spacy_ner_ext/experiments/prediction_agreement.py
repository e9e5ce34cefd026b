"""Do two pipelines predict the same entities? (An exported or quantized copy beside the float
pipeline it came from, on the same texts.)"""
from pathlib import Path
from typing import Dict

import spacy

from .benchmark import plain_text_doc, read_references


def entity_agreement(model_a: str, model_b: str, data: Path, batch_size: int = 64) -> Dict:
    """Counts of entities (start, end, label) both predict, only one predicts, the documents that
    differ, and the largest score difference over the entities both predict."""
    nlp_a, nlp_b = spacy.load(model_a), spacy.load(model_b)
    references = read_references(nlp_a.vocab, data)
    docs_a = nlp_a.pipe([plain_text_doc(nlp_a.vocab, ref) for ref in references], batch_size=batch_size)
    docs_b = nlp_b.pipe([plain_text_doc(nlp_b.vocab, ref) for ref in references], batch_size=batch_size)
    both = only_a = only_b = differing = 0
    score_difference = 0.0
    for a, b in zip(docs_a, docs_b):
        ents_a = {(e.start, e.end, e.label_): e._.get("ner_score") for e in a.ents}
        ents_b = {(e.start, e.end, e.label_): e._.get("ner_score") for e in b.ents}
        shared = ents_a.keys() & ents_b.keys()
        both += len(shared)
        only_a += len(ents_a.keys() - shared)
        only_b += len(ents_b.keys() - shared)
        differing += ents_a.keys() != ents_b.keys()
        for key in shared:
            if ents_a[key] is not None and ents_b[key] is not None:
                score_difference = max(score_difference, abs(float(ents_a[key]) - float(ents_b[key])))
    return {"a": model_a, "b": model_b, "data": str(data), "docs": len(references), "docs_differing": differing,
            "entities_both": both, "entities_only_a": only_a, "entities_only_b": only_b,
            "max_score_difference": round(score_difference, 6)}
