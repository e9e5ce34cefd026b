"""Partial annotation: a type that a Doc's source does not annotate gives no loss and no
gradient on that Doc; names and descriptions drawn in training, seeded."""
import numpy
import pytest
from spacy.tokens import Doc
from spacy.training import Example

from spacy_ner_ext.corpus.annotated_types import set_annotated_types
from spacy_ner_ext.tests.util import TRAIN_DATA, build_pipeline, make_doc, train_examples

LABELS = ["PER", "LOC", "ORG"]
DESCRIPTIONS = {"PER": ["A person, named.", "Names of people such as john smith."],
                "LOC": ["A place: a city or a country."], "ORG": ["A company or an organization."]}


def initialized(tiny_transformer, factory, **cfg):
    model = {"hidden_width": 32, "max_span_length": 4} if factory == "span_ner" else {}
    nlp = build_pipeline(tiny_transformer, factory, {"model": model, **cfg} if model else cfg)
    examples = train_examples(nlp)
    nlp.initialize(lambda: examples)
    return nlp


def partial_examples(nlp):
    """Doc 0 annotates PER and LOC only (its ORG would not be marked); doc 1 has no record: it
    is annotated for every type."""
    (words0, ents0), (words1, ents1) = TRAIN_DATA[2], TRAIN_DATA[1]
    partial = make_doc(nlp, words0, [e for e in ents0 if e[2] != "ORG"])
    set_annotated_types(partial, ["PER", "LOC"])
    full = make_doc(nlp, words1, ents1)
    return [Example(Doc(nlp.vocab, words=words0), partial), Example(Doc(nlp.vocab, words=words1), full)]


def span_gradients(nlp, examples):
    pipe = nlp.get_pipe("span_ner")
    inputs, (type_ids,) = pipe._train_input(examples)
    scores = pipe.model.predict(inputs)
    _, grads = pipe.get_loss(examples, scores, type_ids)
    return [pipe.labels[t] for t in type_ids], [numpy.asarray(g) for g in grads]


def test_span_ner_gives_no_gradient_on_types_a_source_does_not_annotate(tiny_transformer):
    nlp = initialized(tiny_transformer, "span_ner")
    examples = partial_examples(nlp)
    types, (d_start, d_end, d_span) = span_gradients(nlp, examples)
    org = types.index("ORG")
    n0, n1 = len(examples[0].predicted), len(examples[1].predicted)
    # The doc whose source does not annotate ORG: no gradient at all on ORG's logits ...
    assert not d_start[0, :, org].any() and not d_end[0, :, org].any() and not d_span[0, :, :, org].any()
    # ... while its annotated types, and ORG on the fully annotated doc, do get one.
    assert numpy.abs(d_span[0, :n0, :, types.index("PER")]).sum() > 0
    assert numpy.abs(d_start[1, :n1, org]).sum() > 0 and numpy.abs(d_span[1, :n1, :, org]).sum() > 0


def test_a_small_foreign_type_weight_gives_a_small_gradient(tiny_transformer):
    masked = initialized(tiny_transformer, "span_ner")
    weighted = initialized(tiny_transformer, "span_ner", foreign_type_weight=0.1)
    # The same weights in both: only the loss weighting differs.
    weighted.get_pipe("span_ner").model.from_bytes(masked.get_pipe("span_ner").model.to_bytes())
    types, (_, _, d_masked) = span_gradients(masked, partial_examples(masked))
    _, (_, _, d_weighted) = span_gradients(weighted, partial_examples(weighted))
    org, per = types.index("ORG"), types.index("PER")
    assert not d_masked[0, :, :, org].any()
    # Weight 0.1 on a foreign type: a tenth of the gradient that type gets when annotated.
    full_weight = initialized(tiny_transformer, "span_ner")
    full_weight.get_pipe("span_ner").model.from_bytes(masked.get_pipe("span_ner").model.to_bytes())
    unmarked = partial_examples(full_weight)
    unmarked[0].reference.user_data.clear()
    _, (_, _, d_full) = span_gradients(full_weight, unmarked)
    assert d_weighted[0, :, :, org] == pytest.approx(0.1 * d_full[0, :, :, org], rel=1e-4, abs=1e-9)
    assert d_weighted[0, :, :, per] == pytest.approx(d_full[0, :, :, per], rel=1e-4, abs=1e-9)


def test_a_batch_trains_on_the_types_its_sources_annotate(tiny_transformer):
    nlp = build_pipeline(tiny_transformer, "span_ner", {"model": {"hidden_width": 32, "max_span_length": 4},
                                                        "negative_types": 0})
    nlp.get_pipe("span_ner").cfg["negative_types"] = 1
    examples = train_examples(nlp)
    nlp.config["initialize"]["components"]["span_ner"] = {"labels": LABELS + ["DATE", "MONEY"]}
    nlp.initialize(lambda: examples)
    pipe = nlp.get_pipe("span_ner")
    doc = make_doc(nlp, TRAIN_DATA[0][0], [])
    set_annotated_types(doc, ["DATE", "MONEY"])  # no entity, but two annotated types: both negatives
    batch = [Example(Doc(nlp.vocab, words=TRAIN_DATA[0][0]), doc)]
    # Other types weigh nothing on this Doc: none is sampled.
    assert [pipe.labels[i] for i in pipe._batch_types(batch)] == ["DATE", "MONEY"]
    # At most `annotated_negatives` of the annotated types absent from the batch.
    pipe.cfg["annotated_negatives"] = 1
    assert len(pipe._batch_types(batch)) == 1 and pipe.labels[pipe._batch_types(batch)[0]] in {"DATE", "MONEY"}
    pipe.cfg["annotated_negatives"] = 0
    # With a foreign-type weight, `negative_types` others come too.
    pipe.cfg["foreign_type_weight"] = 0.1
    types = {pipe.labels[i] for i in pipe._batch_types(batch)}
    assert {"DATE", "MONEY"} < types and len(types) == 3


def test_a_batch_whose_sources_annotate_no_type_is_skipped(tiny_transformer):
    """Seen in pretraining: a batch of Docs whose every annotated type was taken back (an entity
    a reader could not read) has no type to score; it must teach nothing, not fail."""
    from thinc.api import Adam

    nlp = initialized(tiny_transformer, "span_ner")
    pipe = nlp.get_pipe("span_ner")
    docs = [make_doc(nlp, words, []) for words, _ in TRAIN_DATA[:2]]
    for doc in docs:
        set_annotated_types(doc, [])
    batch = [Example(Doc(nlp.vocab, words=[t.text for t in doc]), doc) for doc in docs]
    assert pipe._batch_types(batch) == []
    before = pipe.model.get_ref("scorer").to_bytes()
    losses = nlp.update(batch, sgd=Adam(0.01))
    assert losses["span_ner"] == 0.0 and pipe.model.get_ref("scorer").to_bytes() == before
    # The next batch, with types, trains as ever.
    losses = nlp.update(train_examples(nlp), sgd=Adam(0.01))
    assert losses["span_ner"] > 0 and pipe.model.get_ref("scorer").to_bytes() != before


@pytest.mark.parametrize("loss", ["spacy_ner_ext.contrastive_infonce.v1", "spacy_ner_ext.contrastive_binary.v1"])
def test_contrastive_ner_gives_no_gradient_on_types_a_source_does_not_annotate(tiny_transformer, loss):
    nlp = initialized(tiny_transformer, "contrastive_ner", loss={"@losses": loss})
    pipe = nlp.get_pipe("contrastive_ner")
    examples = partial_examples(nlp)
    inputs, _ = pipe._train_input(examples)
    scores = pipe.model.predict(inputs)
    _, (d_logits,) = pipe.get_loss(examples, scores)
    d_logits = numpy.asarray(d_logits)
    org = 1 + list(pipe.labels).index("ORG")  # column 0: no entity
    n1 = len(examples[1].predicted)
    assert not d_logits[0, :, org].any()
    assert numpy.abs(d_logits[0, :, 1 + list(pipe.labels).index("PER")]).sum() > 0
    assert numpy.abs(d_logits[1, :n1, org]).sum() > 0


def test_types_are_shown_by_name_or_description_drawn_with_the_seed(tiny_transformer):
    def draws(seed):
        nlp = build_pipeline(tiny_transformer, "span_ner", {"model": {"hidden_width": 32, "max_span_length": 4},
                                                            "training_type_texts": "variants"})
        nlp.config["training"]["seed"] = seed
        nlp.config["initialize"]["components"]["span_ner"] = {"descriptions": DESCRIPTIONS}
        examples = train_examples(nlp)
        nlp.initialize(lambda: examples)
        pipe = nlp.get_pipe("span_ner")
        ids = list(range(len(pipe.labels)))
        shown = [tuple(pipe._training_type_input(ids).texts) for _ in range(30)]
        return pipe, shown

    pipe, shown = draws(0)
    per = list(pipe.labels).index("PER")
    # The name ("per") and both descriptions all appear; prediction keeps the first description.
    assert {s[per] for s in shown} == {"per", "A person, named.", "Names of people such as john smith."}
    assert pipe._type_input().texts[per] == "A person, named."
    # Each drawn text comes with its own vector, embedded once when the variants were set.
    again = pipe._training_type_input([per])
    k = pipe.types.variants["PER"].index(again.texts[0])
    assert numpy.array_equal(again.vectors[0], pipe.types.variant_vectors["PER"][k])
    assert draws(0)[1] == shown
    assert draws(1)[1] != shown


def test_variants_survive_saving(tiny_transformer, tmp_path):
    import spacy

    nlp = build_pipeline(tiny_transformer, "span_ner", {"model": {"hidden_width": 32, "max_span_length": 4},
                                                        "training_type_texts": "variants"})
    nlp.config["initialize"]["components"]["span_ner"] = {"descriptions": DESCRIPTIONS}
    examples = train_examples(nlp)
    nlp.initialize(lambda: examples)
    nlp.to_disk(tmp_path / "p")
    loaded = spacy.load(tmp_path / "p").get_pipe("span_ner")
    assert loaded.types.variants == nlp.get_pipe("span_ner").types.variants
    assert numpy.array_equal(loaded.types.variant_vectors["PER"], nlp.get_pipe("span_ner").types.variant_vectors["PER"])


def test_threshold_tuning_counts_only_the_types_a_dev_docs_source_annotates():
    """On a mixture's dev set a prediction of a type the Doc's source does not annotate is
    neither a hit nor a false positive."""
    import spacy

    from spacy_ner_ext.evaluation.threshold_tuning import DevScores, Setting

    nlp = spacy.blank("en")
    doc = Doc(nlp.vocab, words="mary works at acme".split())

    class Pipe:
        labels = ("PER", "ORG")

        def scores_from_logits(self, logits, temperature):
            return logits

        def decode_scores(self, scores, thresholds):
            return [[(0, 1, 0, 0.9), (3, 4, 1, 0.8)]]  # mary PER (right), acme ORG (unknowable)

    dev = DevScores.__new__(DevScores)
    dev.pipe, dev.docs, dev.logits, dev.gold = Pipe(), [doc], [None], [{(0, 1, 0)}]
    dev.annotated = [{0}]  # the source annotates PER only
    partial = dev.outcome(Setting(0.5))
    assert (partial.precision, partial.recall) == (1.0, 1.0)
    dev.annotated = [None]  # fully annotated: the ORG prediction is a false positive
    full = dev.outcome(Setting(0.5))
    assert (full.precision, full.recall) == (0.5, 1.0)
