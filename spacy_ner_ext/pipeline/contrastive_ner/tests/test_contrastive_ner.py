
import numpy
import pytest
import spacy
import torch
from spacy.tokens import Doc

from spacy_ner_ext.pipeline.contrastive_ner.decoding import decode_tokens
from spacy_ner_ext.ml.losses import contrastive_binary_loss_v1, contrastive_infonce_loss_v1
from spacy_ner_ext.tests.util import TRAIN_DATA, assert_same_predictions, build_pipeline, ents, train_examples, train_pipeline


def build(tiny_transformer, **cfg):
    # Descriptions are embedded by the packaged MiniLM (the default description encoder).
    return build_pipeline(tiny_transformer, "contrastive_ner", {"model": {"hidden_width": 32}, **cfg})


@pytest.fixture(scope="module")
def trained(tiny_transformer):
    nlp = build(tiny_transformer)
    train_pipeline(nlp, 60)
    return nlp


def test_overfits_a_handful_of_examples(trained):
    assert trained.evaluate(train_examples(trained))["ents_f"] == 1.0
    doc = trained(Doc(trained.vocab, words=TRAIN_DATA[0][0]))
    assert ents(doc) == sorted(TRAIN_DATA[0][1]) and all(e._.ner_score > 0.5 for e in doc.ents)


@pytest.mark.parametrize("cfg", [
    {"loss": {"@losses": "spacy_ner_ext.contrastive_binary.v1"}},
    {"model": {"hidden_width": 32, "projection": "linear", "learned_null": False}},
])
def test_other_settings_learn_too(tiny_transformer, tmp_path, cfg):
    nlp = build(tiny_transformer, **cfg)
    examples = train_pipeline(nlp, steps=80)
    assert nlp.evaluate(examples)["ents_f"] == 1.0
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    words = TRAIN_DATA[3][0]
    assert ents(loaded(Doc(loaded.vocab, words=words))) == ents(nlp(Doc(nlp.vocab, words=words)))


def test_decoding_on_hand_made_probabilities():
    probs = numpy.array([
        [0.9, 0.05],   # type 0
        [0.8, 0.1],    # type 0: same run
        [0.3, 0.4],    # below threshold: outside
        [0.1, 0.7],    # type 1
        [0.6, 0.3],    # type 0 right after type 1: a new entity
        [0.6, 0.3],
    ])
    assert decode_tokens(probs, 0.5) == [(0, 2, 0, pytest.approx(0.85)), (3, 4, 1, pytest.approx(0.7)),
                                         (4, 6, 0, pytest.approx(0.6))]
    assert decode_tokens(probs, 0.75) == [(0, 2, 0, pytest.approx(0.85))]
    # One threshold per type: type 0 needs 0.85 (only its first token passes), type 1 0.65.
    assert decode_tokens(probs, numpy.array([0.85, 0.65])) == [(0, 1, 0, pytest.approx(0.9)),
                                                                (3, 4, 1, pytest.approx(0.7))]
    assert decode_tokens(numpy.zeros((0, 2)), 0.5) == []


def test_losses_against_hand_computed_values():
    logits = torch.tensor([[[2.0, 0.0, -1.0], [0.5, 1.5, 0.0], [9.0, 9.0, 9.0]]])
    targets = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]])
    mask = torch.tensor([[True, True, False]])
    lse = lambda row: numpy.log(numpy.exp(numpy.array(row)).sum())  # noqa: E731
    expected = ((lse([2.0, 0.0, -1.0]) - 2.0) + (lse([0.5, 1.5, 0.0]) - 1.5)) / 2
    assert float(contrastive_infonce_loss_v1()(logits, targets, mask)) == pytest.approx(expected, rel=1e-5)
    bce = lambda x, y: float(-(y * numpy.log(1 / (1 + numpy.exp(-x))) + (1 - y) * numpy.log(1 - 1 / (1 + numpy.exp(-x)))))  # noqa
    expected = (bce(2, 1) + bce(0, 0) + bce(-1, 0) + bce(0.5, 0) + bce(1.5, 1) + bce(0, 0)) / 2
    assert float(contrastive_binary_loss_v1()(logits, targets, mask)) == pytest.approx(expected, rel=1e-5)


def test_descriptions_added_after_training_change_predictions(trained):
    pipe = trained.get_pipe("contrastive_ner")
    words = TRAIN_DATA[1][0]
    before = ents(trained(Doc(trained.vocab, words=words)))
    # A new type described exactly like PER scores exactly like PER: under the softmax the two
    # share PER's probability, so at the default threshold neither wins.
    pipe.set_descriptions({"PERSON": pipe.descriptions["PER"]})
    try:
        # The listener reads the transformer's output from the doc, so run the transformer first.
        doc = trained.get_pipe("transformer")(Doc(trained.vocab, words=words))
        (logits,) = pipe.model.predict(([doc], pipe._type_input()))
        per, person = 1 + pipe.labels.index("PER"), 1 + pipe.labels.index("PERSON")
        assert logits[0, :, per].std() > 0.1  # real token vectors, not the listener's zeros
        # Equal up to the float noise of embedding one description alone or in a batch.
        numpy.testing.assert_allclose(logits[0, :, per], logits[0, :, person], atol=1e-3)
        after = ents(trained(doc))
        assert after != before
        pipe.threshold = 0.4
        lowered = ents(trained(Doc(trained.vocab, words=words)))
        # The tie may go either way token by token, so compare the tokens covered, not the spans.
        covered = lambda spans, labels: {i for s, e, label in spans if label in labels for i in range(s, e)}  # noqa
        assert covered(lowered, ("PER", "PERSON")) == covered(before, ("PER",))
    finally:
        pipe.threshold = 0.5
        pipe.remove_label("PERSON")
    assert ents(trained(Doc(trained.vocab, words=words))) == before


def test_serialization_round_trip(trained, tmp_path):
    trained.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert_same_predictions(trained, loaded)


def test_empty_and_long_docs_and_two_processes(trained):
    long_words = (TRAIN_DATA[0][0] + ["and"]) * 834
    docs = list(trained.pipe([Doc(trained.vocab, words=w) for w in ([], ["paris"], long_words)], batch_size=2))
    assert docs[0].ents == () and len(docs[2]) == 5004 and len(docs[2].ents) > 834
    texts = [" ".join(words) for words, _ in TRAIN_DATA] * 2
    assert [ents(d) for d in trained.pipe(texts, n_process=2, batch_size=2)] == [ents(d) for d in trained.pipe(texts)]


def test_bytes_round_trip(trained):
    other = spacy.util.load_model_from_config(trained.config).from_bytes(trained.to_bytes())
    pipe, other_pipe = trained.get_pipe("contrastive_ner"), other.get_pipe("contrastive_ner")
    assert other_pipe.labels == pipe.labels and other_pipe.descriptions == pipe.descriptions
    assert_same_predictions(trained, other)
