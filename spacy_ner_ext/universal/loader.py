"""`load_universal()`: a blank pipeline holding the shipped universal_ner, for the types given."""
from pathlib import Path
from typing import Dict, List, Optional, Union

import spacy
from spacy.language import Language


def load_universal(labels: Union[None, List[str], Dict[str, str]] = None, *, threshold: Optional[float] = None,
                   lang: str = "en", weights: Union[str, Path] = "shipped") -> Language:
    """A pipeline of one component, `universal_ner`, that finds entities of the types named:
    a list of names (["person", "disease"]) or a {name: description} dict. Without labels:
    person, organization, location (change them with `nlp.get_pipe("universal_ner").set_labels`).
    threshold: None for the one tuned after pretraining. Nothing is downloaded: the transformer
    is the packaged MiniLM and the weights are files of this package."""
    from . import universal_component  # noqa: F401  (registers the factory without the entry points)

    nlp = spacy.blank(lang)
    config = {"weights": str(weights), "threshold": threshold}
    if labels is not None:
        config["labels"] = labels
    nlp.add_pipe("universal_ner", config=config).check_weights()  # a bad weights folder: said here
    return nlp
