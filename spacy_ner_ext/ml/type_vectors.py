"""Entity types as vectors: each type's description (or its name) embedded once by a
sentence-transformers model, and kept with the pipeline as a plain float32 matrix."""
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Union

import numpy
from safetensors.numpy import load_file, save_file

from .backbone import load_sentence_encoder
from ..corpus.descriptions import load_descriptions


@lru_cache(maxsize=4)
def _encoder(name: str):
    return load_sentence_encoder(name)


def encode_descriptions(texts: List[str], encoder_name: str) -> numpy.ndarray:
    if not texts:
        return numpy.zeros((0, 0), dtype="float32")
    vectors = _encoder(encoder_name).encode(texts, convert_to_numpy=True, normalize_embeddings=True,
                                           show_progress_bar=False)
    return numpy.ascontiguousarray(vectors, dtype="float32")


def resolve_descriptions(descriptions: Union[None, str, Path, Dict[str, str]], labels: Iterable[str],
                         default: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """Descriptions for `labels`: from a dict, or a JSON file; a label without one takes its
    description from `default`, or else is described by its own name."""
    if descriptions is None:
        given = {}
    elif isinstance(descriptions, (str, Path)):
        given = load_descriptions(descriptions)
    else:
        given = dict(descriptions)
    default = default or {}
    return {label: given.get(label, default.get(label, label)) for label in labels}


class TypeVectors:
    """Labels, their descriptions and the description vectors, in label order."""

    def __init__(self, encoder_name: str):
        self.encoder_name = encoder_name
        self.labels: List[str] = []
        self.descriptions: Dict[str, str] = {}
        self.vectors: Optional[numpy.ndarray] = None

    def set(self, descriptions: Dict[str, str]) -> None:
        """Replace or add types; only new or changed descriptions are encoded."""
        changed = [l for l, text in descriptions.items() if self.descriptions.get(l) != text]
        if not changed:
            return
        new_vectors = encode_descriptions([descriptions[l] for l in changed], self.encoder_name)
        rows = {l: self.vectors[i] for i, l in enumerate(self.labels)} if self.vectors is not None else {}
        rows.update(zip(changed, new_vectors))
        self.descriptions.update(descriptions)
        self.labels = list(dict.fromkeys(self.labels + changed))
        self.vectors = numpy.stack([rows[l] for l in self.labels]).astype("float32")

    def remove(self, label: str) -> None:
        i = self.labels.index(label)
        self.labels.pop(i)
        self.descriptions.pop(label)
        self.vectors = numpy.delete(self.vectors, i, axis=0)

    def to_disk(self, path: Path) -> None:
        if self.vectors is not None and len(self.labels):
            save_file({"vectors": self.vectors}, str(path))

    def from_disk(self, path: Path, labels: List[str], descriptions: Dict[str, str]) -> None:
        self.labels = list(labels)
        self.descriptions = dict(descriptions)
        self.vectors = load_file(str(path))["vectors"] if labels else None
