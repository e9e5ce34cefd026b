"""The Thinc architecture of token_ner: a tok2vec feeding the torch TokenTagger."""
from typing import List

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Model
from thinc.types import Floats2d

from ...ml.torch_bridge import wrap_torch_scorer
from .pytorch_token_ner_model import TokenTagger


@registry.architectures("spacy_ner_ext.TokenNerModel.v1")
def build_token_ner_model(tok2vec: Model[List[Doc], List[Floats2d]], hidden_width: int = 256,
                          dropout: float = 0.1, crf: bool = True) -> Model:
    """Input: (docs, allowed-transition matrix); output: (emissions,) or, with crf, (emissions,
    transitions, start, end)."""
    # The allowed-transition matrix is a constant: no gradient.
    tagger = wrap_torch_scorer(TokenTagger(hidden_width, dropout, crf), side_learns=False)
    return Model("token_ner_model", forward, init=init, layers=[tok2vec, tagger],
                 refs={"tok2vec": tok2vec, "tagger": tagger}, attrs={"crf": crf, "set_n_tags": set_n_tags})


def set_n_tags(model: Model, n_tags: int) -> None:
    tagger = model.get_ref("tagger")
    tagger.shims[0]._model.set_n_tags(n_tags)
    tagger.shims[0]._model.to(tagger.shims[0].device)


def forward(model: Model, inputs, is_train: bool):
    docs, allowed = inputs
    token_vectors, backprop_tok2vec = model.get_ref("tok2vec")(docs, is_train)
    outputs, backprop_tagger = model.get_ref("tagger")((token_vectors, allowed), is_train)

    def backprop(d_outputs) -> List:
        d_token_vectors, _ = backprop_tagger(d_outputs)
        backprop_tok2vec(d_token_vectors)
        return []

    return outputs, backprop


def init(model: Model, X=None, Y=None) -> None:
    tok2vec = model.get_ref("tok2vec")
    if X is None:
        tok2vec.initialize()
        return
    docs, allowed = X
    tok2vec.initialize(X=docs)
    model.get_ref("tagger").predict((tok2vec.predict(docs[:2]), allowed))
