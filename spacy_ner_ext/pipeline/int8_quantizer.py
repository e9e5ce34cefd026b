"""int8_quantizer: a last component that int8-quantizes the pipeline's torch layers when the
pipeline is loaded, for faster CPU inference.

`python -m spacy_ner_ext quantize PIPELINE OUTPUT` adds it to a copy of a trained pipeline. The
copy keeps the float weights (safetensors, nothing pickled); `spacy.load(OUTPUT)` reads them,
then this component, loaded last, replaces the Linear layers of the transformer and of the
heads by int8 dynamically quantized ones, but those named by `keep_float` (regular expressions
that match whole layer names; by default the feed-forward down projections, which lose accuracy in int8).
On a GPU it refuses, naming the reason. It changes no Doc: `__call__` returns the doc as it is.
"""
import re
import weakref
from pathlib import Path
from typing import Iterable, List, Sequence, Union

import srsly
from spacy import util
from spacy.language import Language
from spacy.tokens import Doc

from ..ml.quantization import FFN_DOWN_PROJECTIONS, QuantizationError, quantize_model
from ..errors import UserInputError


@Language.factory("int8_quantizer", default_config={"keep_float": [FFN_DOWN_PROJECTIONS]}, assigns=[], requires=[])
def make_int8_quantizer(nlp: Language, name: str, keep_float: List[str]) -> "Int8Quantizer":
    return Int8Quantizer(nlp, name, keep_float=keep_float)


class Int8Quantizer:
    def __init__(self, nlp: Language, name: str = "int8_quantizer", *, keep_float: Sequence[str] = ()):
        # A weak reference: the pipeline holds this component, not the other way round.
        self._nlp = weakref.ref(nlp)
        self.name = name
        for pattern in keep_float:
            try:
                re.compile(pattern)
            except re.error as err:
                raise UserInputError(f"{name}: keep_float holds {pattern!r}, which is not a regular expression ({err})")
        self.keep_float = list(keep_float)
        self.quantized: List[str] = []

    def __call__(self, doc: Doc) -> Doc:
        return doc

    def quantize(self) -> List[str]:
        """Quantize the torch layers of every other component (once)."""
        nlp = self._nlp()
        if nlp.pipe_names[-1] != self.name:
            raise QuantizationError(f"{self.name} must be the last component, after every model it quantizes; "
                                    f"the pipeline is {nlp.pipe_names}")
        for name, component in nlp.pipeline:
            model = getattr(component, "model", None)
            if component is not self and model is not None and hasattr(model, "walk"):
                self.quantized += [f"{name}: {node}" for node in quantize_model(model, self.keep_float)]
        return self.quantized

    def to_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> None:
        path = util.ensure_path(path)
        path.mkdir(parents=True, exist_ok=True)
        srsly.write_json(path / "cfg", {"quantization": "int8 dynamic, torch Linear layers, on load"})

    def from_disk(self, path: Union[str, Path], *, exclude: Iterable[str] = tuple()) -> "Int8Quantizer":
        # Called after every other component has read its weights (components load in order).
        self.quantize()
        return self

    def to_bytes(self, *, exclude: Iterable[str] = tuple()) -> bytes:
        return srsly.msgpack_dumps({"quantization": "int8 dynamic"})

    def from_bytes(self, bytes_data: bytes, *, exclude: Iterable[str] = tuple()) -> "Int8Quantizer":
        self.quantize()
        return self
