"""The pipeline `annotate` runs, as every worker loads it (the local process, each Ray actor):
a pipeline folder or package, with the types of its description-matching components replaced
by --labels and --descriptions, and the entities of a Doc as rows of the output."""
from typing import Dict, Iterable, List, Optional

from spacy.language import Language
from spacy.tokens import Doc

from .records import InputError


def described_types(labels: Iterable[str], given: Dict[str, str], known: Optional[Dict[str, str]] = None
                    ) -> Dict[str, str]:
    """{label: description} for --labels and the --descriptions file's types (`given`). A label
    the file does not describe keeps the description the pipeline has for it (`known`), or else
    is described by its name in words ("restaurant_name": "restaurant name"), as load_universal
    and set_labels describe names."""
    from ..corpus.descriptions import check_descriptions
    from ..pipeline.described_types import readable_name

    known = known or {}
    types = {label: known.get(label, readable_name(label)) for label in labels}
    types.update(given)
    return check_descriptions(types, "--labels")


def load_pipeline(model: str, labels: Iterable[str] = (), descriptions: Optional[str] = None) -> Language:
    """A pipeline folder or an installed package; with labels or descriptions, the types of its
    description-matching components (span_ner, contrastive_ner) are replaced by those."""
    from ..corpus.descriptions import load_descriptions
    from ..pipeline.loading import load_pipeline as load

    labels = list(labels)
    given = load_descriptions(descriptions) if descriptions else {}
    if labels or descriptions:
        described_types(labels, given)  # bad --labels fail before the pipeline loads
    nlp = load(model)
    if labels or descriptions:
        described = [name for name in nlp.pipe_names if hasattr(nlp.get_pipe(name), "set_descriptions")]
        if not described:
            raise InputError(f"{model}: --labels and --descriptions need span_ner or contrastive_ner in the pipeline")
        for name in described:
            pipe = nlp.get_pipe(name)
            types = described_types(labels, given, known=pipe.descriptions)
            for old in [label for label in pipe.labels if label not in types]:
                pipe.remove_label(old)
            pipe.set_descriptions(types)
    return nlp


def entities_of(doc: Doc) -> List[Dict]:
    return [{"start_char": e.start_char, "end_char": e.end_char, "label": e.label_,
             "score": None if e._.get("ner_score") is None else round(float(e._.ner_score), 6), "text": e.text}
            for e in doc.ents]
