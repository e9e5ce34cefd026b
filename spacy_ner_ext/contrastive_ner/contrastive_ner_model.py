"""The Thinc architecture of contrastive_ner: a tok2vec feeding the torch ContrastiveTokenScorer."""
from typing import List, Optional, Tuple

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model, PyTorchWrapper_v3
from thinc.types import Floats2d, Floats3d

from ..torch_bridge import convert_padded_inputs, convert_tuple_outputs, deserialize_torch_model, serialize_torch_model
from ..type_encoders import TypeInput, frozen_type_encoder
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
        convert_outputs=convert_single_output,
        serialize_model=serialize_torch_model,
        deserialize_model=deserialize_torch_model,
    )
    return Model(
        "contrastive_ner_model", forward, init=init, layers=[tok2vec, type_encoder, scorer],
        refs={"tok2vec": tok2vec, "type_encoder": type_encoder, "scorer": scorer},
        attrs={"learned_null": learned_null},
    )


def convert_single_output(model: Model, X_Ytorch, is_train: bool):
    X, Ytorch = X_Ytorch
    return convert_tuple_outputs(model, (X, (Ytorch,)), is_train)


def forward(model: Model, inputs: Tuple[List[Doc], TypeInput], is_train: bool):
    docs, types = inputs
    token_vectors, backprop_tok2vec = model.get_ref("tok2vec")(docs, is_train)
    type_vectors, backprop_types = model.get_ref("type_encoder")(types, is_train)
    logits, backprop_scorer = model.get_ref("scorer")((token_vectors, type_vectors), is_train)

    def backprop(d_logits) -> List:
        d_token_vectors, d_type_vectors = backprop_scorer(d_logits)
        backprop_tok2vec(d_token_vectors)
        backprop_types(d_type_vectors)
        return []

    return logits, backprop


def init(model: Model, X=None, Y=None) -> None:
    tok2vec = model.get_ref("tok2vec")
    if X is None:
        tok2vec.initialize()
        return
    docs, types = X
    tok2vec.initialize(X=docs)
    type_encoder = model.get_ref("type_encoder")
    type_encoder.initialize(X=types)
    # One forward pass creates the projection at the widths of the tokens and descriptions.
    model.get_ref("scorer").predict((tok2vec.predict(docs[:2]), type_encoder.predict(types)))
