"""The Thinc architecture of contrastive_ner: a tok2vec feeding the torch ContrastiveTokenScorer."""
from typing import List, Optional, Tuple

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model
from thinc.types import Floats2d, Floats3d

from ...ml.torch_bridge import wrap_torch_scorer
from ...ml.type_encoders import TypeInput, frozen_type_encoder
from ...ml.typed_model import build_typed_model
from .pytorch_contrastive_ner_model import ContrastiveTokenScorer


@registry.architectures("spacy_ner_ext.ContrastiveNerModel.v1")
def build_contrastive_ner_model(
    tok2vec: Model[List[Doc], List[Floats2d]],
    type_encoder: Optional[Model[TypeInput, Floats2d]] = None,
    projection: str = "mlp",
    hidden_width: int = 256,
    dropout: float = 0.1,
    temperature: float = 0.05,
    learned_null: bool = True,
) -> Model[Tuple[List[Doc], TypeInput], Tuple[Floats3d]]:
    """Input: (docs, TypeInput); output: a 1-tuple of logits [batch, length, 1 + n_types].

    projection: "linear" or "mlp" (hidden_width, dropout) from token vectors into the
        description space. learned_null: a learned "no entity" vector; false: the component
        describes "no entity" in words (its null_description).
    """
    type_encoder = type_encoder if type_encoder is not None else frozen_type_encoder()
    scorer = wrap_torch_scorer(ContrastiveTokenScorer(projection, hidden_width, dropout, temperature, learned_null),
                               side_learns=type_encoder.attrs.get("learns", False))
    return build_typed_model("contrastive_ner_model", tok2vec, type_encoder, scorer, learned_null=learned_null)
