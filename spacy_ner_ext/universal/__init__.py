"""The universal model: span_ner pretrained on the many-type mixture, shipped in the package.

`load_universal(labels)` gives a ready pipeline; `nlp.add_pipe("universal_ner", config={"labels":
...})` adds it to any pipeline; `spacy_ner_ext.init_from_universal.v1` starts a span_ner
training from it (configs/span_from_universal.cfg). The files and their format:
`shipped_weights.py`."""
from .loader import load_universal

__all__ = ["load_universal"]
