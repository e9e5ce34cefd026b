"""The Thinc model shape span_ner and contrastive_ner share: a tok2vec for the docs, a type
encoder for the entity types, and a torch scorer that meets the two."""
from typing import List, Tuple

from spacy.tokens import Doc
from thinc.api import Model

from .type_encoders import TypeInput


def build_typed_model(name: str, tok2vec: Model, type_encoder: Model, scorer: Model, **attrs) -> Model:
    return Model(name, forward, init=init, layers=[tok2vec, type_encoder, scorer],
                 refs={"tok2vec": tok2vec, "type_encoder": type_encoder, "scorer": scorer}, attrs=attrs)


def forward(model: Model, inputs: Tuple[List[Doc], TypeInput], is_train: bool):
    docs, types = inputs
    token_vectors, backprop_tok2vec = model.get_ref("tok2vec")(docs, is_train)
    type_vectors, backprop_types = model.get_ref("type_encoder")(types, is_train)
    scores, backprop_scorer = model.get_ref("scorer")((token_vectors, type_vectors), is_train)

    def backprop(d_scores) -> List:
        d_token_vectors, d_type_vectors = backprop_scorer(d_scores)
        backprop_tok2vec(d_token_vectors)
        backprop_types(d_type_vectors)
        return []

    return scores, backprop


def init(model: Model, X=None, Y=None) -> None:
    tok2vec = model.get_ref("tok2vec")
    if X is None:
        tok2vec.initialize()
        return
    docs, types = X
    tok2vec.initialize(X=docs)
    type_encoder = model.get_ref("type_encoder")
    type_encoder.initialize(X=types)
    # One forward pass builds the scorer's lazy layers at the widths of tokens and types.
    model.get_ref("scorer").predict((tok2vec.predict(docs[:2]), type_encoder.predict(types)))
