"""The Thinc architecture of span_ner: a tok2vec (usually a transformer listener) feeding
the torch SpanScorer."""
from typing import List, Optional, Tuple

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model
from thinc.types import Floats2d

from ...ml.type_encoders import TypeInput, frozen_type_encoder
from ...ml.typed_model import build_typed_model
from ...ml.torch_bridge import wrap_torch_scorer
from .pytorch_span_ner_model import SpanScorer
from ...errors import UserInputError

SpanLogits = Tuple[Floats2d, Floats2d, Floats2d]  # start [B,L,T], end [B,L,T], span [B,L,W,T]


@registry.architectures("spacy_ner_ext.SpanNerModel.v1")
def build_span_ner_model(
    tok2vec: Model[List[Doc], List[Floats2d]],
    type_encoder: Optional[Model[TypeInput, Floats2d]] = None,
    max_span_length: int = 8,
    hidden_width: int = 256,
    dropout: float = 0.1,
    temperature: float = 0.03,
) -> Model[Tuple[List[Doc], Floats2d], SpanLogits]:
    """Input: (docs, TypeInput); output: start, end and span logits.

    type_encoder: turns the types' descriptions into vectors; default: the frozen
        sentence-transformers vectors (FrozenTypeEncoder).
    max_span_length: the longest span, in tokens, that can be predicted.
    temperature: initial value of the learned temperature that divides the cosine scores.
    """
    if max_span_length < 1:
        raise UserInputError(f"max_span_length must be at least 1, not {max_span_length}")
    type_encoder = type_encoder if type_encoder is not None else frozen_type_encoder()
    scorer = wrap_torch_scorer(SpanScorer(hidden_width, max_span_length, dropout, temperature),
                               side_learns=type_encoder.attrs.get("learns", False))
    return build_typed_model("span_ner_model", tok2vec, type_encoder, scorer, max_span_length=max_span_length,
                             hidden_width=hidden_width)
