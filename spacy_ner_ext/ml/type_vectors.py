"""Entity types as vectors: each type's description (or its name) embedded once by a
sentence-transformers model, and kept with the pipeline as a plain float32 matrix."""
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Union

import numpy
from safetensors.numpy import load_file, save_file

from .backbone import load_sentence_encoder
from ..corpus.descriptions import check_descriptions, load_descriptions
from ..errors import DamagedPipelineError


class DescriptionWarning(UserWarning):
    """A description longer than the encoder reads: only its beginning describes the type."""


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
        # A list of paraphrases per label: the first is the description.
        given = check_descriptions({label: text[0] if isinstance(text, (list, tuple)) and text else text
                                    for label, text in dict(descriptions).items()}, "descriptions")
    default = default or {}
    return {label: given.get(label, default.get(label, label)) for label in labels}


class TypeVectors:
    """Labels, their descriptions and the description vectors, in label order."""

    def __init__(self, encoder_name: str):
        self.encoder_name = encoder_name
        self.labels: List[str] = []
        self.descriptions: Dict[str, str] = {}
        self.vectors: Optional[numpy.ndarray] = None
        # Training-time alternatives to each description (paraphrases, the bare name): label ->
        # texts, and one vector per text, embedded once. The first description stays the one
        # used at prediction.
        self.variants: Dict[str, List[str]] = {}
        self.variant_vectors: Dict[str, numpy.ndarray] = {}

    def set(self, descriptions: Dict[str, str], source: str = "descriptions") -> None:
        """Replace or add types; only new or changed descriptions are encoded. `source` names
        where they came from in an error."""
        descriptions = check_descriptions(descriptions, source)
        changed = [l for l, text in descriptions.items() if self.descriptions.get(l) != text]
        if not changed:
            return
        warn_if_cut({l: descriptions[l] for l in changed}, self.encoder_name)
        for label in changed:  # variants of the old description describe it no more
            self.variants.pop(label, None)
            self.variant_vectors.pop(label, None)
        new_vectors = encode_descriptions([descriptions[l] for l in changed], self.encoder_name)
        rows = {l: self.vectors[i] for i, l in enumerate(self.labels)} if self.vectors is not None else {}
        rows.update(zip(changed, new_vectors))
        self.descriptions.update(descriptions)
        self.labels = list(dict.fromkeys(self.labels + changed))
        self.vectors = numpy.stack([rows[l] for l in self.labels]).astype("float32")

    def set_variants(self, variants: Dict[str, List[str]], source: str = "description variants") -> None:
        """Alternative texts of known types, shown in training in place of the description;
        all of them are embedded here, once, in one pass."""
        unknown = sorted(set(variants) - set(self.labels))
        if unknown:
            raise ValueError(f"{source}: variants for unknown types {unknown[:5]}")
        checked = {label: list(dict.fromkeys(check_descriptions({label: t}, source)[label] for t in texts))
                   for label, texts in variants.items() if texts}
        flat = [(label, text) for label, texts in checked.items() for text in texts]
        vectors = encode_descriptions([text for _, text in flat], self.encoder_name)
        self.variants, self.variant_vectors, row = {}, {}, 0
        for label, texts in checked.items():
            self.variants[label] = texts
            self.variant_vectors[label] = vectors[row:row + len(texts)]
            row += len(texts)

    def remove(self, label: str) -> None:
        i = self.labels.index(label)
        self.labels.pop(i)
        self.descriptions.pop(label)
        self.vectors = numpy.delete(self.vectors, i, axis=0)
        self.variants.pop(label, None)
        self.variant_vectors.pop(label, None)

    def to_disk(self, path: Path) -> None:
        if self.vectors is not None and len(self.labels):
            tensors = {"vectors": self.vectors}
            tensors.update({f"variants/{i}": self.variant_vectors[label]
                            for i, label in enumerate(self.labels) if label in self.variant_vectors})
            save_file(tensors, str(path))

    def variants_to_json(self) -> Dict[str, List[str]]:
        return {label: list(texts) for label, texts in self.variants.items()}

    def from_disk(self, path: Path, labels: List[str], descriptions: Dict[str, str],
                  variants: Optional[Dict[str, List[str]]] = None) -> None:
        """Checked here, so that a damaged pipeline fails to load rather than at its first doc."""
        if not isinstance(labels, list) or not isinstance(descriptions, dict) or set(labels) != set(descriptions) \
                or len(set(labels)) != len(labels):
            raise DamagedPipelineError(f"{path.parent / 'cfg'}: damaged: its labels and descriptions do not match")
        try:
            descriptions = check_descriptions(descriptions, str(path.parent / "cfg"))
        except ValueError as err:
            raise DamagedPipelineError(f"{err}: the pipeline is damaged") from None
        vectors, tensors = None, {}
        variants = variants or {}
        if labels:
            try:
                tensors = load_file(str(path))
                vectors = tensors["vectors"]
            except Exception as err:  # safetensors raises its own SafetensorError; a missing file OSError
                raise DamagedPipelineError(f"{path}: damaged: cannot be read ({err})") from None
            if vectors.ndim != 2 or vectors.shape[0] != len(labels):
                raise DamagedPipelineError(f"{path}: damaged: it holds vectors of shape {tuple(vectors.shape)} for "
                                           f"{len(labels)} labels")
        variant_vectors = {}
        for i, label in enumerate(labels):
            if label in variants:
                rows = tensors.get(f"variants/{i}")
                if not isinstance(variants[label], list) or rows is None or rows.shape != (len(variants[label]), vectors.shape[1]):
                    raise DamagedPipelineError(f"{path}: damaged: the variants of {label!r} do not match their vectors")
                variant_vectors[label] = rows
        self.labels = list(labels)
        self.descriptions = descriptions
        self.vectors = vectors
        self.variants = {label: list(variants[label]) for label in variant_vectors}
        self.variant_vectors = variant_vectors


def warn_if_cut(descriptions: Dict[str, str], encoder_name: str) -> None:
    """Warn, naming the type, when a description is longer than the sentence encoder's window."""
    encoder = _encoder(encoder_name)
    window = getattr(encoder, "max_seq_length", None)
    if window:
        warn_if_longer(list(descriptions.values()), encoder.tokenizer, window, f"the description encoder {encoder_name}",
                       list(descriptions))


def warn_if_longer(texts: List[str], tokenizer, window: int, reader: str, labels: Optional[List[str]] = None) -> None:
    """A DescriptionWarning for each text of more word pieces than `reader` reads, saying how
    much of it is read."""
    lengths = tokenizer(list(texts), add_special_tokens=True)["input_ids"]
    for i, (text, ids) in enumerate(zip(texts, lengths)):
        if len(ids) > window:
            read = tokenizer.decode(ids[1:window - 1]) if window > 2 else ""
            named = f"of {labels[i]!r} " if labels else f"{text[:30]!r}... "
            warnings.warn(f"The description {named}is {len(ids)} word pieces long; {reader} reads the first "
                          f"{window}, up to {read[-40:]!r}", DescriptionWarning, stacklevel=4)
