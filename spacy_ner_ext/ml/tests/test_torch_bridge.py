"""What the components share with torch: dropout from update(drop=...), and gradients only
for what learns."""
import pytest
import torch
from spacy.tokens import Doc

from spacy_ner_ext.tests.util import TRAIN_DATA, build_pipeline, train_examples


def torch_dropouts(pipe):
    from thinc.shims import PyTorchShim

    return [module for node in pipe.model.walk() for shim in node.shims if isinstance(shim, PyTorchShim)
            for module in shim._model.modules() if isinstance(module, torch.nn.Dropout)]


@pytest.mark.parametrize("factory", ["span_ner", "contrastive_ner", "token_ner"])
def test_update_sets_the_dropout_it_is_given(tiny_transformer, factory):
    nlp = build_pipeline(tiny_transformer, factory, {"model": {"hidden_width": 16, "dropout": 0.1}})
    examples = train_examples(nlp)
    optimizer = nlp.initialize(lambda: examples)
    pipe = nlp.get_pipe(factory)
    assert {m.p for m in torch_dropouts(pipe)} == {0.1}
    nlp.update(examples, sgd=optimizer, drop=0.35)
    assert {m.p for m in torch_dropouts(pipe)} == {0.35}
    nlp.update(examples, sgd=optimizer, drop=0.0)
    assert {m.p for m in torch_dropouts(pipe)} == {0.0}
    # With drop=0 a training pass of the torch part is deterministic; with 0.5 it is not.
    scorer = pipe.model.get_ref("scorer" if factory != "token_ner" else "tagger")
    tokens = pipe.model.get_ref("tok2vec").predict([eg.predicted for eg in examples])
    side = pipe.model.get_ref("type_encoder").predict(pipe._type_input()) if factory != "token_ner" else pipe._allowed()
    first, second = (scorer((tokens, side), is_train=True)[0][0] for _ in range(2))
    assert (first == second).all()
    nlp.update(examples, sgd=optimizer, drop=0.5)
    first, second = (scorer((tokens, side), is_train=True)[0][0] for _ in range(2))
    assert not (first == second).all()


@pytest.mark.parametrize("factory,config,learns", [
    ("span_ner", {}, False),
    ("contrastive_ner", {}, False),
    ("token_ner", {"crf": True}, False),
    ("span_ner", {"type_encoder": {"@architectures": "spacy_ner_ext.TransformerTypeEncoder.v1"}}, True),
])
def test_only_a_learning_type_encoder_gets_a_gradient(tiny_transformer, factory, config, learns):
    """Frozen type vectors and the CRF's allowed-transition matrix are constants."""
    if learns:
        config["type_encoder"]["name"] = tiny_transformer
    nlp = build_pipeline(tiny_transformer, factory, {"model": {"hidden_width": 16, **config}})
    examples = train_examples(nlp)
    nlp.initialize(lambda: examples)
    pipe = nlp.get_pipe(factory)
    scorer = pipe.model.get_ref("scorer" if factory != "token_ner" else "tagger")
    docs = [Doc(nlp.vocab, words=words) for words, _ in TRAIN_DATA]
    tokens = pipe.model.get_ref("tok2vec").predict(docs)
    side = pipe.model.get_ref("type_encoder").predict(pipe._type_input()) if factory != "token_ner" else pipe._allowed()
    outputs, backprop = scorer((tokens, side), is_train=True)
    d_tokens, d_side = backprop(tuple(scorer.ops.alloc(o.shape) + 1.0 for o in outputs))
    assert len(d_tokens) == len(docs) and float(abs(d_tokens[0]).sum()) > 0
    assert (d_side is not None) == learns
