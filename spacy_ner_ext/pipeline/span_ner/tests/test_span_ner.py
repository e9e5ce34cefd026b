import numpy
import pytest
import spacy
import torch
from spacy.tokens import Doc, Span
from spacy.training import Example

from spacy_ner_ext.ml.activations import sigmoid
from spacy_ner_ext.ml.losses import span_bce_loss_v1
from spacy_ner_ext.pipeline.span_ner.decoding import candidate_spans, decode, resolve_overlaps
from spacy_ner_ext.tests.util import TRAIN_DATA, build_pipeline, ents, make_doc, train_examples, train_pipeline


def build(tiny_transformer, **cfg):
    # Descriptions are embedded by the packaged MiniLM (the default): a random encoder would give
    # every type nearly the same vector.
    return build_pipeline(tiny_transformer, "span_ner", {"model": {"hidden_width": 32, "max_span_length": 4}, **cfg})


@pytest.fixture(scope="module")
def trained(tiny_transformer):
    nlp = build(tiny_transformer)
    train_pipeline(nlp, 60)
    return nlp


def test_overfits_a_handful_of_examples(trained):
    scores = trained.evaluate(train_examples(trained))
    assert scores["ents_f"] == 1.0
    for words, gold in TRAIN_DATA:
        doc = trained(Doc(trained.vocab, words=words))
        assert ents(doc) == sorted(gold)
        assert all(0.5 < e._.ner_score <= 1.0 for e in doc.ents)


def test_threshold_and_overlap_on_hand_made_scores():
    n, width, types = 4, 3, 2
    start = numpy.zeros((n, types)); end = numpy.zeros((n, types)); span = numpy.zeros((n, width, types))
    start[0, 0] = end[1, 0] = span[0, 1, 0] = 0.9   # tokens 0-1, type 0
    start[1, 1] = end[2, 1] = span[1, 1, 1] = 0.8   # tokens 1-2, type 1: overlaps, lower
    start[3, 0] = end[3, 0] = 0.9; span[3, 0, 0] = 0.6  # token 3, type 0
    start[2, 0] = 0.9; span[2, 2, 0] = 0.99         # would end past the doc: never a candidate
    assert candidate_spans(start, end, span, 0.5) == [(0, 2, 0, 0.9), (1, 3, 1, 0.8), (3, 4, 0, 0.6)]
    assert decode(start, end, span, 0.5, flat=True) == [(0, 2, 0, 0.9), (3, 4, 0, 0.6)]
    assert decode(start, end, span, 0.5, flat=False) == [(0, 2, 0, 0.9), (1, 3, 1, 0.8), (3, 4, 0, 0.6)]
    assert decode(start, end, span, 0.7, flat=True) == [(0, 2, 0, 0.9)]
    # One threshold per type: type 0's is out of reach, so type 1's overlapping span is kept.
    assert decode(start, end, span, numpy.array([0.95, 0.5]), flat=True) == [(1, 3, 1, 0.8)]
    # Every one of start, end and span must pass: a low end probability vetoes the span.
    end[1, 0] = 0.1
    assert decode(start, end, span, 0.5, flat=True) == [(1, 3, 1, 0.8), (3, 4, 0, 0.6)]
    assert resolve_overlaps([], 0) == []


def test_threshold_changes_on_the_loaded_pipe(trained):
    pipe = trained.get_pipe("span_ner")
    doc = Doc(trained.vocab, words=TRAIN_DATA[0][0])
    pipe.threshold = 0.999999
    try:
        assert len(trained(doc).ents) < len(TRAIN_DATA[0][1])
    finally:
        pipe.threshold = 0.5
    with pytest.raises(ValueError, match="threshold must be a number between 0 and 1"):
        pipe.threshold = 1.5


def test_per_type_thresholds(trained, tmp_path):
    pipe = trained.get_pipe("span_ner")
    words = TRAIN_DATA[2][0]  # ORG and LOC entities
    assert {e.label_ for e in trained(Doc(trained.vocab, words=words)).ents} == {"ORG", "LOC"}
    # Only ORG's threshold is out of reach: ORG goes, LOC stays, the default is untouched.
    pipe.thresholds = {"ORG": 1.0}
    try:
        assert pipe.threshold_for("ORG") == 1.0 and pipe.threshold_for("LOC") == 0.5
        assert [e.label_ for e in trained(Doc(trained.vocab, words=words)).ents] == ["LOC"]
        trained.to_disk(tmp_path / "pipeline")
        loaded = spacy.load(tmp_path / "pipeline")
        assert loaded.get_pipe("span_ner").thresholds == {"ORG": 1.0}
        assert [e.label_ for e in loaded(Doc(loaded.vocab, words=words)).ents] == ["LOC"]
    finally:
        pipe.thresholds = {}
    with pytest.raises(ValueError, match=r"unknown types \['MISC'\]"):
        pipe.thresholds = {"MISC": 0.3}
    with pytest.raises(ValueError, match="threshold of PER must be a number between 0 and 1"):
        pipe.thresholds = {"PER": -0.1}
    assert pipe.thresholds == {}


def test_per_type_thresholds_from_the_config(tiny_transformer):
    nlp = build(tiny_transformer, thresholds={"LOC": 0.3})
    train_pipeline(nlp, 2)
    assert nlp.get_pipe("span_ner").threshold_for("LOC") == 0.3
    nlp = build(tiny_transformer, thresholds={"EVENT": 0.3})
    with pytest.raises(ValueError, match=r"unknown types \['EVENT'\]"):
        train_pipeline(nlp, 1)


def test_mixed_lengths_in_one_batch_equal_one_doc_at_a_time(trained):
    """63 short docs and one of 20,000 words in one batch: grouped by length and the long one
    scored in windows, yet the same entities and scores as each doc alone."""
    short = [TRAIN_DATA[i % len(TRAIN_DATA)][0] for i in range(63)]
    long_words = (TRAIN_DATA[1][0] + TRAIN_DATA[3][0]) * 1429  # 20,006 words
    texts = short[:30] + [long_words] + short[30:]
    pipe = trained.get_pipe("span_ner")
    for max_batch_tokens in (4096, 100):
        pipe.cfg["max_batch_tokens"] = max_batch_tokens
        try:
            batched = list(trained.pipe((Doc(trained.vocab, words=w) for w in texts), batch_size=64))
        finally:
            pipe.cfg["max_batch_tokens"] = 4096
        assert len(batched[30]) == 20006 and len(batched[30].ents) > 1000
        alone = [trained(Doc(trained.vocab, words=w)) for w in texts]
        for a, b in zip(batched, alone):
            assert ents(a) == ents(b)
            assert [e._.ner_score for e in a.ents] == pytest.approx([e._.ner_score for e in b.ents], abs=1e-5)


def test_nested_spans_go_to_doc_spans(tiny_transformer):
    nlp = build(tiny_transformer, spans_key="sc")
    words = "he visited new york city yesterday".split()
    reference = make_doc(nlp, words)
    reference.spans["sc"] = [Span(reference, 2, 5, "LOC"), Span(reference, 2, 4, "CITY")]
    examples = [Example(Doc(nlp.vocab, words=words), reference)]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(60):
        nlp.update(examples, sgd=optimizer)
    doc = nlp(Doc(nlp.vocab, words=words))
    assert sorted((s.start, s.end, s.label_) for s in doc.spans["sc"]) == [(2, 4, "CITY"), (2, 5, "LOC")]
    assert len(doc.spans["sc"].attrs["scores"]) == 2
    assert nlp.evaluate(examples)["ents_f"] == 1.0


def test_label_added_after_training_is_predicted_from_its_description(tiny_transformer):
    nlp = build(tiny_transformer, spans_key="sc")
    train_pipeline(nlp, steps=60)
    pipe = nlp.get_pipe("span_ner")
    words = TRAIN_DATA[0][0]
    before = nlp(Doc(nlp.vocab, words=words))
    assert "PERSON" not in pipe.labels
    # The same description as PER gives the same type vector, so PERSON is found wherever PER is.
    assert pipe.add_label("PERSON", description=pipe.descriptions["PER"]) == 1
    assert pipe.add_label("PERSON", description=pipe.descriptions["PER"]) == 0
    after = nlp(Doc(nlp.vocab, words=words))
    per = {(s.start, s.end) for s in before.spans["sc"] if s.label_ == "PER"}
    assert per and {(s.start, s.end) for s in after.spans["sc"] if s.label_ == "PERSON"} == per
    pipe.set_descriptions({"PERSON": "a completely different description of fruit"})
    assert pipe.descriptions["PERSON"].startswith("a completely")


def test_serialization_round_trip(trained, tmp_path):
    trained.to_disk(tmp_path / "pipeline")
    loaded = spacy.load(tmp_path / "pipeline")
    assert (tmp_path / "pipeline" / "span_ner" / "type_vectors.safetensors").exists()
    pipe, pipe2 = trained.get_pipe("span_ner"), loaded.get_pipe("span_ner")
    assert pipe2.labels == pipe.labels and pipe2.descriptions == pipe.descriptions
    docs = [Doc(trained.vocab, words=w) for w, _ in TRAIN_DATA]
    for a, b in zip(trained.pipe(docs), loaded.pipe([Doc(loaded.vocab, words=w) for w, _ in TRAIN_DATA])):
        assert ents(a) == ents(b)
        assert [e._.ner_score for e in a.ents] == pytest.approx([e._.ner_score for e in b.ents], abs=1e-5)
    from_bytes = spacy.util.load_model_from_config(trained.config).from_bytes(trained.to_bytes())
    doc = Doc(from_bytes.vocab, words=TRAIN_DATA[2][0])
    assert ents(from_bytes(doc)) == ents(trained(Doc(trained.vocab, words=TRAIN_DATA[2][0])))


def test_empty_short_and_long_docs(trained):
    empty, one, plain = (Doc(trained.vocab, words=w) for w in ([], ["paris"], "the of and".split()))
    long_words = (TRAIN_DATA[0][0] + ["and"]) * 834  # 5,004 words, far past the 32-wordpiece window
    docs = list(trained.pipe([empty, one, plain, Doc(trained.vocab, words=long_words)], batch_size=2))
    assert docs[0].ents == () and len(docs[1]) == 1 and docs[2].ents == ()
    long_doc = docs[3]
    assert len(long_doc) == 5004
    # Spans are found all along the document, across the transformer's window edges.
    found = {(e.start % 6, e.end - e.start, e.label_) for e in long_doc.ents}
    assert found == {(0, 2, "PER"), (3, 1, "LOC")}
    # The tiny model only saw 5-word docs: most repetitions are found, from the
    # first words to the last.
    assert len(long_doc.ents) > 0.5 * 2 * 834
    assert long_doc.ents[0].start < 6 and long_doc.ents[-1].end > 5004 - 6


def test_pipe_with_two_processes(trained):
    texts = [" ".join(words) for words, _ in TRAIN_DATA] * 3
    one = [ents(d) for d in trained.pipe(texts, n_process=1)]
    two = [ents(d) for d in trained.pipe(texts, n_process=2, batch_size=2)]
    assert one == two and any(one)


def test_span_bce_against_hand_computed_values():
    loss = span_bce_loss_v1(start_weight=1.0, end_weight=2.0, span_weight=3.0)
    s = torch.tensor([[[0.0], [2.0]]])        # [B=1, L=2, T=1]
    e = torch.tensor([[[1.0], [-1.0]]])
    sp = torch.tensor([[[[0.5]], [[-3.0]]]])  # [1, 2, W=1, 1]
    st, et, spt = torch.tensor([[[1.0], [0.0]]]), torch.tensor([[[0.0], [1.0]]]), torch.tensor([[[[1.0]], [[0.0]]]])
    tm = torch.tensor([[[True], [True]]]); sm = torch.tensor([[[[True]], [[False]]]])
    bce = lambda x, y: -(y * numpy.log(1 / (1 + numpy.exp(-x))) + (1 - y) * numpy.log(1 - 1 / (1 + numpy.exp(-x))))  # noqa
    expected = (bce(0.0, 1) + bce(2.0, 0) + 2 * (bce(1.0, 0) + bce(-1.0, 1)) + 3 * bce(0.5, 1)) / 2
    assert float(loss(s, e, sp, st, et, spt, tm, sm)) == pytest.approx(expected, rel=1e-5)


def test_initialize_without_entities_fails_clearly(tiny_transformer):
    nlp = build(tiny_transformer)
    examples = [Example(Doc(nlp.vocab, words=["a", "b"]), Doc(nlp.vocab, words=["a", "b"]))]
    with pytest.raises(ValueError, match="no labels given and no entities found"):
        nlp.initialize(lambda: examples)


def test_jointly_trained_type_encoder(tiny_transformer, tmp_path):
    """The dual-encoder setting: descriptions read by a transformer that trains with the rest.
    The pipeline carries that transformer's weights, config and tokenizer: it loads after the
    folder it was trained from is gone."""
    import shutil

    encoder_path = tmp_path / "description-encoder"
    shutil.copytree(tiny_transformer, encoder_path)
    nlp = build(tiny_transformer, model={
        "hidden_width": 32, "max_span_length": 4,
        "type_encoder": {"@architectures": "spacy_ner_ext.TransformerTypeEncoder.v1", "name": str(encoder_path)}})
    examples = train_pipeline(nlp, steps=80)
    encoder = nlp.get_pipe("span_ner").model.get_ref("type_encoder")
    before = {k: v.clone() for k, v in encoder.shims[0]._model.state_dict().items()}
    nlp.update(examples, sgd=nlp.create_optimizer())
    after = encoder.shims[0]._model.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before), "the description transformer must learn"
    assert nlp.evaluate(examples)["ents_f"] == 1.0
    nlp.to_disk(tmp_path / "trained")
    shutil.rmtree(encoder_path)
    shutil.move(tmp_path / "trained", tmp_path / "moved")
    loaded = spacy.load(tmp_path / "moved")
    for words, _ in TRAIN_DATA:
        assert ents(loaded(Doc(loaded.vocab, words=words))) == ents(nlp(Doc(nlp.vocab, words=words)))
    again = spacy.util.load_model_from_config(loaded.config).from_bytes(loaded.to_bytes())
    assert ents(again(Doc(again.vocab, words=TRAIN_DATA[1][0]))) == ents(nlp(Doc(nlp.vocab, words=TRAIN_DATA[1][0])))


def test_negative_types_are_sampled_with_the_training_seed(tiny_transformer):
    """negative_types: each batch trains on its types plus N others, drawn by [training] seed."""
    docs_labels = {"PER", "LOC", "ORG"}

    def sampled(seed):
        nlp = build(tiny_transformer, negative_types=1)
        nlp.config["training"]["seed"] = seed
        nlp.config["initialize"]["components"]["span_ner"] = {"labels": ["PER", "LOC", "ORG", "DATE", "MONEY", "EVENT"]}
        examples = train_examples(nlp)
        nlp.initialize(lambda: examples)
        pipe = nlp.get_pipe("span_ner")
        only_per = [Example(Doc(nlp.vocab, words=TRAIN_DATA[0][0]), make_doc(nlp, TRAIN_DATA[0][0], [(0, 2, "PER")]))]
        draws = [tuple(pipe.labels[i] for i in pipe._batch_types(only_per)) for _ in range(20)]
        losses = nlp.update(examples, sgd=nlp.create_optimizer())
        return draws, losses

    draws0, losses = sampled(0)
    assert all(len(d) == 2 and "PER" in d for d in draws0)  # the type present, plus one other
    assert len({d for d in draws0}) > 1 and {l for d in draws0 for l in d} - docs_labels
    assert losses["span_ner"] > 0
    assert sampled(0)[0] == draws0
    assert sampled(1)[0] != draws0


def test_scores_are_read_without_overflow():
    import warnings

    logits = numpy.array([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype="float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = sigmoid(logits)
    assert p.tolist() == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.0], abs=1e-6)
    assert sigmoid(numpy.array([1.5]))[0] == pytest.approx(1 / (1 + numpy.exp(-1.5)))
