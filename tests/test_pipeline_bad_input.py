"""Pipelines never set a whitespace entity, validate every type, description and setting the
same way wherever it comes from, and fail to load, naming the file, when their files are
damaged."""
import json
import math
import shutil
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc

from spacy_ner_ext.errors import DamagedPipelineError, UserInputError
from spacy_ner_ext.ml.type_vectors import DescriptionWarning
from spacy_ner_ext.pipeline.loading import load_pipeline

SAVED = Path(__file__).parent / "data" / "pipelines_0.1.0"


@pytest.fixture(scope="module")
def pipelines():
    return {name: spacy.load(SAVED / name) for name in ("span_ner", "contrastive_ner", "token_ner")}


@pytest.mark.parametrize("name", ["span_ner", "contrastive_ner", "token_ner"])
def test_no_entity_starts_or_ends_on_whitespace(pipelines, name, monkeypatch):
    nlp = pipelines[name]
    pipe = nlp.get_pipe(name)
    label = pipe.labels[0]
    doc = Doc(nlp.vocab, words=["paris", "\n\n", "is", " ", "big", "\n"], spaces=[True, False, True, False, False, False])
    # What a decoder may give: a run over whitespace at either end, and whitespace alone.
    predictions = [(0, 2, label, 0.9), (1, 2, label, 0.8), (3, 6, label, 0.7)]
    monkeypatch.setattr(pipe, "predict", lambda docs: [predictions for _ in docs])
    doc = nlp(doc)
    assert [(e.start, e.end, e.text) for e in doc.ents] == [(0, 1, "paris"), (4, 5, "big")]
    assert [e._.ner_score for e in doc.ents] == [0.9, 0.7]


@pytest.mark.parametrize("name", ["span_ner", "contrastive_ner"])
def test_types_and_descriptions_are_checked_alike_everywhere(pipelines, name):
    pipe = pipelines[name].get_pipe(name)
    before = dict(pipe.descriptions)
    for bad_call in (lambda: pipe.add_label(""), lambda: pipe.add_label("X", description=""),
                     lambda: pipe.add_label("X", description="   "), lambda: pipe.set_descriptions({"": "a place"}),
                     lambda: pipe.set_descriptions({"Y": ""}), lambda: pipe.set_descriptions({"Y": None}),
                     lambda: pipe.set_descriptions(["Y"])):
        with pytest.raises(UserInputError):
            bad_call()
    assert pipe.descriptions == before  # nothing half set


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, 0.0, -1.0, "1", True])
def test_a_calibration_temperature_must_be_positive_and_finite(pipelines, value):
    pipe = pipelines["span_ner"].get_pipe("span_ner")
    with pytest.raises(UserInputError, match="calibration_temperature must be a positive finite number"):
        pipe.calibration_temperature = value
    assert pipe.calibration_temperature == 1.0


def test_a_description_longer_than_the_encoder_reads_is_warned_about(pipelines):
    pipe = pipelines["span_ner"].get_pipe("span_ner")
    long = "a place where people live and work, " * 60  # far over 256 word pieces
    with pytest.warns(DescriptionWarning, match=r"The description of 'TOWN' is \d+ word pieces long; the description "
                                                r"encoder .* reads the first 256"):
        pipe.add_label("TOWN", description=long)
    pipe.remove_label("TOWN")


def copy_of(tmp_path, name):
    target = tmp_path / name
    shutil.copytree(SAVED / name, target)
    return target


def edit_cfg(path, **changes):
    cfg = json.loads(path.read_text())
    cfg.update(changes)
    path.write_text(json.dumps(cfg))


def truncate(path, size=100):
    path.write_bytes(path.read_bytes()[:size])


DAMAGE = {
    "truncated type vectors": ("span_ner", lambda p: truncate(p / "span_ner" / "type_vectors.safetensors"),
                               "span_ner/type_vectors.safetensors: damaged: cannot be read"),
    "invalid cfg": ("span_ner", lambda p: truncate(p / "span_ner" / "cfg", 40),
                    "span_ner/cfg: damaged: not the JSON settings of span_ner"),
    "truncated head weights": ("contrastive_ner", lambda p: truncate(p / "contrastive_ner" / "model", 2000),
                               "contrastive_ner/model: damaged: the weights cannot be read"),
    "truncated transformer": ("span_ner", lambda p: truncate(p / "transformer" / "model", 5000),
                              "transformer/model: damaged: cannot be read"),
    "transformer cfg": ("token_ner", lambda p: truncate(p / "transformer" / "cfg", 5),
                        "transformer/cfg: damaged: cannot be read"),
    "token_ner cfg": ("token_ner", lambda p: truncate(p / "token_ner" / "cfg", 10),
                      "token_ner/cfg: damaged: cannot be read"),
    "tokenizer": ("token_ner", lambda p: truncate(p / "tokenizer", 50), "/tokenizer: damaged: cannot be read"),
    "labels and vectors": ("span_ner", lambda p: edit_cfg(p / "span_ner" / "cfg", labels=["LOC", "ORG"],
                                                          descriptions={"LOC": "LOC", "ORG": "ORG"}),
                           "type_vectors.safetensors: damaged: it holds vectors of shape (3, 384) for 2 labels"),
    "temperature 0": ("contrastive_ner", lambda p: edit_cfg(p / "contrastive_ner" / "cfg", calibration_temperature=0),
                      "contrastive_ner/cfg: damaged: calibration_temperature must be a positive finite number, not 0"),
    "empty description": ("span_ner", lambda p: edit_cfg(p / "span_ner" / "cfg", descriptions={"LOC": "", "ORG": "ORG",
                                                                                               "PER": "PER"}),
                          "span_ner/cfg, label 'LOC': the description must be a non-empty string"),
    "token_ner labels and tag layer": ("token_ner", lambda p: edit_cfg(p / "token_ner" / "cfg", labels=["LOC", "ORG"]),
                                       "token_ner/cfg: damaged: its 2 labels make 5 BIO tags, but the saved model has 7"),
    "no config": ("span_ner", lambda p: (p / "config.cfg").unlink(), "not a spaCy pipeline folder (no config.cfg)"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_pipeline_fails_to_load_naming_the_file(tmp_path, damage):
    name, spoil, message = DAMAGE[damage]
    path = copy_of(tmp_path, name)
    spoil(path)
    with pytest.raises(UserInputError) as caught:
        load_pipeline(path)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    if damage != "no config":
        assert isinstance(caught.value, DamagedPipelineError) and str(path) in str(caught.value)


def test_nested_span_scores_follow_the_spans_they_belong_to(tmp_path, monkeypatch):
    nlp = spacy.load(SAVED / "span_ner")
    pipe = nlp.get_pipe("span_ner")
    monkeypatch.setitem(pipe.cfg, "spans_key", "sc")
    doc = Doc(nlp.vocab, words=["paris", "\n", "is", "big"])
    # (1, 2) is whitespace alone; (0, 2) and (0, 1) are one span once trimmed: its best score stays.
    predictions = [(0, 2, 0, 0.6), (1, 2, 1, 0.99), (0, 1, 0, 0.8), (2, 4, 2, 0.7)]
    monkeypatch.setattr(pipe, "predict", lambda docs: [predictions for _ in docs])
    group = nlp(doc).spans["sc"]
    assert [(s.start, s.end, s.label_) for s in group] == [(0, 1, pipe.labels[0]), (2, 4, pipe.labels[2])]
    assert group.attrs["scores"] == [0.8, 0.7] == [s._.ner_score for s in group]


def test_threshold_tuning_counts_the_entities_the_pipeline_sets(monkeypatch):
    """Its dev F1 is evaluate's F1, whitespace trimming included."""
    from spacy.training import Example

    from spacy_ner_ext.evaluation.evaluate import evaluate_pipeline
    from spacy_ner_ext.evaluation.threshold_tuning import DevScores, Setting

    nlp = spacy.load(SAVED / "span_ner")
    pipe = nlp.get_pipe("span_ner")
    loc = pipe.labels.index("LOC")
    words, spaces = ["paris", "\n", "is", "big", "\n"], [False, False, True, False, False]
    reference = Doc(nlp.vocab, words=words, spaces=spaces, ents=["B-LOC", "O", "O", "O", "O"])
    examples = [Example(Doc(nlp.vocab, words=words, spaces=spaces), reference)]
    # A decoder that ends "paris" on the newline after it: right once trimmed.
    monkeypatch.setattr(pipe, "decode_scores", lambda scores, thresholds: [[(0, 2, loc, 0.9)] for _ in scores])
    tuned = DevScores(nlp, examples, "span_ner").outcome(Setting(pipe.threshold, {}, 1.0))
    evaluated, _ = evaluate_pipeline(nlp, examples)
    assert tuned.f1 == evaluated["test_metrics"]["f1"] == 1.0
