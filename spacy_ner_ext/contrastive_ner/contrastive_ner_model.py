"""The Thinc architecture of contrastive_ner: a tok2vec feeding the torch ContrastiveTokenScorer."""
from typing import List, Optional, Tuple

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model, PyTorchWrapper_v3
from thinc.types import Floats2d, Floats3d

from ..torch_bridge import convert_padded_inputs, convert_tuple_outputs, deserialize_torch_model, serialize_torch_model
from ..type_encoders import TypeInput, frozen_type_encoder
from ..typed_model import build_typed_model
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
    scorer = PyTorchWrapper_v3(
        ContrastiveTokenScorer(projection, hidden_width, dropout, temperature, learned_null),
        convert_inputs=convert_padded_inputs,
        convert_outputs=convert_tuple_outputs,
        serialize_model=serialize_torch_model,
        deserialize_model=deserialize_torch_model,
    )
    return build_typed_model("contrastive_ner_model", tok2vec, type_encoder, scorer, learned_null=learned_null)
