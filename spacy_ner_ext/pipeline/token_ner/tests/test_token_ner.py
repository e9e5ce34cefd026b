import itertools

import numpy
import pytest
import spacy
import torch
import torch.nn.functional as F
from spacy.tokens import Doc

from spacy_ner_ext.ml.losses import (
    compound_loss_v1, cross_entropy_loss_v1, dice_loss_v1, embedding_label_smoothing_loss_v1, focal_loss_v1,
    label_smoothing_loss_v1, soft_iou_loss_v1,
)
from spacy_ner_ext.pipeline.token_ner.crf import FORBIDDEN, allowed_transitions, crf_log_likelihood, viterbi
from spacy_ner_ext.tests.util import TRAIN_DATA, assert_same_predictions, build_pipeline, train_pipeline

TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]


def random_crf(n_tags, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n_tags, n_tags, generator=g), torch.randn(n_tags, generator=g),
            torch.randn(n_tags, generator=g))


def path_score(emissions, path, transitions, start, end):
    score = start[path[0]] + emissions[0, path[0]] + end[path[-1]]
    for t in range(1, len(path)):
        score = score + transitions[path[t - 1], path[t]] + emissions[t, path[t]]
    return score


@pytest.mark.parametrize("length", [1, 2, 4])
def test_crf_against_brute_force(length):
    n_tags = 3
    transitions, start, end = random_crf(n_tags, length)
    emissions = torch.randn(1, length, n_tags, generator=torch.Generator().manual_seed(7))
    paths = list(itertools.product(range(n_tags), repeat=length))
    scores = torch.stack([path_score(emissions[0], p, transitions, start, end) for p in paths])
    log_z = torch.logsumexp(scores, 0)
    gold = paths[5 % len(paths)]
    tags = torch.tensor([gold])
    mask = torch.ones(1, length, dtype=torch.bool)
    ll = crf_log_likelihood(emissions, tags, mask, transitions, start, end)
    assert float(ll[0]) == pytest.approx(float(path_score(emissions[0], gold, transitions, start, end) - log_z), abs=1e-4)
    best = paths[int(scores.argmax())]
    assert viterbi(emissions[0].numpy(), transitions.numpy(), start.numpy(), end.numpy()) == list(best)


def test_crf_masks_padding():
    transitions, start, end = random_crf(3, 0)
    emissions = torch.randn(2, 4, 3)
    tags = torch.tensor([[1, 2, 0, 0], [1, 2, 1, 0]])
    mask = torch.tensor([[True, True, False, False], [True, True, True, True]])
    ll = crf_log_likelihood(emissions, tags, mask, transitions, start, end)
    alone = crf_log_likelihood(emissions[:1, :2], tags[:1, :2], mask[:1, :2], transitions, start, end)
    assert float(ll[0]) == pytest.approx(float(alone[0]), abs=1e-5)


def test_allowed_transitions():
    trans, start, end = allowed_transitions(TAGS, "bio")
    i = {t: k for k, t in enumerate(TAGS)}
    assert not trans[i["O"], i["I-PER"]] and not trans[i["B-LOC"], i["I-PER"]] and trans[i["B-PER"], i["I-PER"]]
    assert trans[i["I-PER"], i["I-PER"]] and trans[i["I-PER"], i["B-LOC"]] and trans[i["O"], i["B-PER"]]
    assert not start[i["I-LOC"]] and start[i["B-LOC"]] and end.all()
    tags = ["O", "B-X", "I-X", "L-X", "U-X"]
    trans, start, end = allowed_transitions(tags, "biluo")
    assert trans[1, 2] and trans[1, 3] and not trans[1, 0] and not trans[1, 4] and not trans[3, 2]
    assert list(start) == [True, True, False, False, True] and list(end) == [True, False, False, True, True]


def test_viterbi_never_takes_a_forbidden_transition():
    trans, start, end = allowed_transitions(TAGS, "bio")
    rng = numpy.random.default_rng(0)
    penalty = lambda allowed: (1.0 - allowed) * FORBIDDEN  # noqa: E731
    for _ in range(200):
        emissions = rng.normal(size=(6, len(TAGS))) * 5
        path = viterbi(emissions, rng.normal(size=trans.shape) + penalty(trans), penalty(start), penalty(end))
        assert start[path[0]] and all(trans[a, b] for a, b in zip(path, path[1:]))


LOGITS = torch.tensor([[[2.0, 0.5, -1.0], [0.1, 0.2, 3.0], [1.0, 1.0, 1.0]]])
TARGETS = torch.tensor([[0, 2, 1]])
MASK = torch.tensor([[True, True, False]])


def reference_ce():
    return F.cross_entropy(LOGITS[0, :2], TARGETS[0, :2])


def test_losses_against_references():
    assert float(cross_entropy_loss_v1()(LOGITS, TARGETS, MASK)) == pytest.approx(float(reference_ce()))
    assert float(label_smoothing_loss_v1(0.0)(LOGITS, TARGETS, MASK)) == pytest.approx(float(reference_ce()))
    assert float(focal_loss_v1(gamma=0.0)(LOGITS, TARGETS, MASK)) == pytest.approx(float(reference_ce()))
    smoothed = F.cross_entropy(LOGITS[0, :2], TARGETS[0, :2], label_smoothing=0.2)
    assert float(label_smoothing_loss_v1(0.2)(LOGITS, TARGETS, MASK)) == pytest.approx(float(smoothed))
    p = torch.softmax(LOGITS[0, :2], -1)[torch.arange(2), TARGETS[0, :2]]
    focal = (-(1 - p) ** 2 * p.log() * torch.tensor([0.25, 0.5])).mean()
    assert float(focal_loss_v1(2.0, alpha=[0.25, 0.75, 0.5])(LOGITS, TARGETS, MASK)) == pytest.approx(float(focal))
    both = compound_loss_v1(cross_entropy_loss_v1(), focal_loss_v1(0.0), weights=[1.0, 0.5])
    assert float(both(LOGITS, TARGETS, MASK)) == pytest.approx(1.5 * float(reference_ce()))
    with pytest.raises(ValueError, match="2 losses but 1 weights"):
        compound_loss_v1(cross_entropy_loss_v1(), dice_loss_v1(), weights=[1.0])


def test_dice_and_soft_iou_of_perfect_predictions_are_zero():
    # Probabilities of exactly 0 and 1 on the real tokens.
    perfect = F.one_hot(TARGETS, 3).float() * 1000.0
    assert float(dice_loss_v1()(perfect, TARGETS, MASK)) == pytest.approx(0.0, abs=1e-6)
    assert float(soft_iou_loss_v1()(perfect, TARGETS, MASK)) == pytest.approx(0.0, abs=1e-6)
    assert float(dice_loss_v1()(LOGITS, TARGETS, MASK)) > 0.1 and float(soft_iou_loss_v1()(LOGITS, TARGETS, MASK)) > 0.1


def test_embedding_label_smoothing_against_hand_computed_values():
    assert float(embedding_label_smoothing_loss_v1(0.0)(LOGITS, TARGETS, MASK)) == pytest.approx(float(reference_ce()))
    loss = embedding_label_smoothing_loss_v1(0.3, temperature=0.5, width=4)
    # Equal embeddings: every other label is as close as any, so the mass is spread evenly
    # over the non-gold labels (not over all labels, as in plain label smoothing).
    loss._embeddings_for(LOGITS).data.fill_(1.0)
    log_p = torch.log_softmax(LOGITS[0, :2], -1)
    soft = torch.full((2, 3), 0.15)
    soft[torch.arange(2), TARGETS[0, :2]] = 0.7
    expected = -(soft * log_p).sum(-1).mean()
    assert float(loss(LOGITS, TARGETS, MASK)) == pytest.approx(float(expected))
    # Two labels with the same embedding and one orthogonal: q puts more mass on the twin.
    with torch.no_grad():
        loss.embeddings.data = torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 1.0, 0, 0]])
    q = loss.smoothing_distribution(loss.embeddings)
    by_hand = torch.softmax(torch.tensor([0.0, 2.0]), -1)  # cos 0 and 1, over temperature 0.5
    assert q[1].tolist() == pytest.approx([float(by_hand[0]), 0.0, float(by_hand[1])])


def test_embedding_label_smoothing_learns_which_labels_the_model_confuses():
    loss = embedding_label_smoothing_loss_v1(0.2, temperature=0.2, width=8, learn_rate=0.05)
    # The model puts the wrong mass of gold label 1 on label 2, never on label 3.
    logits = torch.log(torch.tensor([[[0.05, 0.6, 0.34, 0.01]] * 6]))
    targets, mask = torch.ones(1, 6, dtype=torch.long), torch.ones(1, 6, dtype=torch.bool)
    before = loss.smoothing_distribution(loss._embeddings_for(logits).detach())[1]
    for _ in range(200):
        loss(logits.clone().requires_grad_(True), targets, mask)
    after = loss.smoothing_distribution(loss.embeddings.detach())[1]
    assert after[2] > 0.6 and after[2] > before[2] and after[3] < before[3]
    # Without a gradient to compute (prediction, evaluation), the embeddings stay put.
    with torch.no_grad():
        loss(logits, targets, mask)
    assert torch.equal(loss.smoothing_distribution(loss.embeddings.detach())[1], after)


@pytest.mark.parametrize("loss", [cross_entropy_loss_v1(), label_smoothing_loss_v1(0.1), focal_loss_v1(2.0, 0.5),
                                  dice_loss_v1(), soft_iou_loss_v1(), embedding_label_smoothing_loss_v1(0.1)])
def test_loss_gradients_are_finite(loss):
    logits = LOGITS.detach().clone().requires_grad_(True)
    loss(logits, TARGETS, MASK).backward()
    assert torch.isfinite(logits.grad).all() and logits.grad.abs().sum() > 0


def build(tiny_transformer, crf=True, scheme="bio", loss=None):
    config = {"model": {"hidden_width": 32, "crf": crf}, "scheme": scheme}
    if loss:
        config["loss"] = loss
    return build_pipeline(tiny_transformer, "token_ner", config)


@pytest.mark.parametrize("crf,scheme,loss", [
    (True, "bio", None), (True, "biluo", None), (False, "bio", None),
    (False, "biluo", {"@losses": "spacy_ner_ext.embedding_label_smoothing.v1", "smoothing": 0.1}),
    (False, "bio", {"@losses": "spacy_ner_ext.compound.v1", "weights": [1.0, 0.5],
                    "*": {"focal": {"@losses": "spacy_ner_ext.focal.v1", "gamma": 2.0},
                          "iou": {"@losses": "spacy_ner_ext.soft_iou.v1"}}}),
])
def test_overfits_and_round_trips(tiny_transformer, tmp_path, crf, scheme, loss):
    nlp = build(tiny_transformer, crf, scheme, loss)
    examples = train_pipeline(nlp, 60)
    assert nlp.evaluate(examples)["ents_f"] == 1.0
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p")
    assert_same_predictions(nlp, loaded)
    long_words = (TRAIN_DATA[0][0] + ["and"]) * 834
    docs = list(loaded.pipe([Doc(loaded.vocab, words=w) for w in ([], ["paris"], long_words)]))
    assert docs[0].ents == () and len(docs[2]) == 5004 and len(docs[2].ents) > 834


@pytest.mark.parametrize("known", [[True, False, True, False], [False, False, True, True], [False] * 4])
def test_crf_sums_over_the_tags_of_unannotated_tokens(known):
    """Partial annotation: the likelihood is that of every path agreeing with the known tags
    (brute force over all paths), not that of "O" on the unannotated tokens."""
    n_tags, length = 3, 4
    transitions, start, end = random_crf(n_tags, 3)
    emissions = torch.randn(1, length, n_tags, generator=torch.Generator().manual_seed(11))
    gold = [1, 2, 0, 1]
    paths = list(itertools.product(range(n_tags), repeat=length))
    scores = torch.stack([path_score(emissions[0], p, transitions, start, end) for p in paths])
    agreeing = [k for k, p in enumerate(paths) if all(p[t] == gold[t] for t in range(length) if known[t])]
    expected = torch.logsumexp(scores[agreeing], 0) - torch.logsumexp(scores, 0)
    tags = torch.tensor([gold])
    mask = torch.ones(1, length, dtype=torch.bool)
    ll = crf_log_likelihood(emissions, tags, mask, transitions, start, end, known=torch.tensor([known]))
    assert float(ll[0]) == pytest.approx(float(expected), abs=1e-4)
    if not any(known):
        assert float(ll[0]) == pytest.approx(0.0, abs=1e-5)  # nothing known: nothing to learn


def test_crf_training_leaves_unannotated_tokens_alone(tiny_transformer):
    """A doc whose entity tokens are unannotated ("missing", not O) teaches the CRF nothing
    about them: its gradient is the one of the doc cut to its annotated tokens' constraints."""
    from spacy.training import Example

    nlp = build(tiny_transformer, crf=True)
    examples = train_pipeline(nlp, 1)
    pipe = nlp.get_pipe("token_ner")
    words = TRAIN_DATA[0][0]
    partial = Doc(nlp.vocab, words=words, ents=["O", "O", None, None, "O"])  # "visited paris": unknown
    as_o = Doc(nlp.vocab, words=words, ents=["O", "O", "O", "O", "O"])
    outputs = pipe.model.predict(([Doc(nlp.vocab, words=words)], pipe._allowed()))
    loss_partial, grads_partial = pipe.get_loss([Example(Doc(nlp.vocab, words=words), partial)], outputs)
    loss_o, _ = pipe.get_loss([Example(Doc(nlp.vocab, words=words), as_o)], outputs)
    # The paths agreeing with the annotation include the all-O one and more, so the unknown
    # tokens taken as O (the old behaviour) give a higher loss than summing over their tags.
    assert loss_partial < loss_o
    # Their gradient is the free minus the constrained marginal: where the annotation is
    # missing the constrained one is not forced onto O.
    d_emissions = numpy.asarray(grads_partial[0])[0]
    assert not numpy.allclose(d_emissions[2:4], 0.0)
    assert examples


def test_add_label_after_training_keeps_the_trained_weights(tiny_transformer):
    nlp = build(tiny_transformer, crf=True)
    train_pipeline(nlp, 5)
    pipe = nlp.get_pipe("token_ner")
    tagger = pipe.model.get_ref("tagger").shims[0]._model
    before = {k: v.detach().clone() for k, v in tagger.state_dict().items()}
    n_old = len(pipe.tags)
    assert pipe.add_label("MISC") == 1
    after = tagger.state_dict()
    assert after["output.weight"].shape[0] == n_old + 2  # B-MISC, I-MISC
    for key in ("output.weight", "output.bias"):
        assert torch.equal(after[key][:n_old], before[key])
    assert torch.equal(after["transitions"][:n_old, :n_old], before["transitions"])
    assert torch.equal(after["start_transitions"][:, :n_old], before["start_transitions"])
    assert torch.equal(after["hidden.1.weight"], before["hidden.1.weight"])


def test_bytes_round_trip(tiny_transformer):
    nlp = build(tiny_transformer, crf=True)
    train_pipeline(nlp, 30)
    other = spacy.util.load_model_from_config(nlp.config).from_bytes(nlp.to_bytes())
    assert other.get_pipe("token_ner").labels == nlp.get_pipe("token_ner").labels
    assert_same_predictions(nlp, other)
