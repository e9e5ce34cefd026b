"""The universal weights' round trip on a tiny random transformer: a trained transformer + span_ner
pipeline -> export-universal's files -> universal_ner (or init_from_universal) gives the same
scores; other base weights and damaged files are refused, named."""
import os
import pickle
import re
import shutil

import numpy
import pytest
import srsly
import spacy
import torch
from spacy.tokens import Doc
from transformers import BertModel

from spacy_ner_ext.errors import DamagedPipelineError, UserInputError
from spacy_ner_ext.tests.util import TRAIN_DATA, build_pipeline, train_examples, train_pipeline, transformer_config
from spacy_ner_ext.universal import shipped_weights
from spacy_ner_ext.universal.loader import load_universal
from spacy_ner_ext.universal.init_from_universal import init_from_universal_v1
from spacy_ner_ext.universal.shipped_weights import export_weights, hf_module_of, read_card

SPAN = {"model": {"hidden_width": 32, "max_span_length": 4}}
LABELS = {"PER": "a person", "LOC": "a place", "ORG": "an organization"}


def universal_config(tiny_transformer, weights, labels=LABELS, **extra):
    return dict({"labels": labels, "weights": str(weights), "threshold": 0.3,
                 "model": {"hidden_width": 32, "max_span_length": 4,
                           "tok2vec": dict(transformer_config(tiny_transformer)["model"],
                                           **{"@architectures": "spacy_ner_ext.Tok2VecTransformer.v1",
                                              "pooling": {"@layers": "reduce_mean.v1"}})}}, **extra)


@pytest.fixture(scope="module")
def trained(tiny_transformer, tmp_path_factory):
    nlp = build_pipeline(tiny_transformer, "span_ner", dict(SPAN, threshold=0.3))
    train_pipeline(nlp, 3)
    nlp.get_pipe("span_ner").set_labels(LABELS)
    folder = tmp_path_factory.mktemp("weights")
    card = export_weights(nlp, folder, card={"note": "tiny"}, base=BertModel.from_pretrained(tiny_transformer))
    return nlp, folder, card


def use(nlp, config):
    """Add universal_ner and run it: weights that cannot be used are refused at the first use
    (the factory defers them so that spacy.load can put saved weights in; see the factory)."""
    nlp.add_pipe("universal_ner", config=config)
    return nlp("Alice went to Paris .")


def logits(nlp, name, words):
    doc = Doc(nlp.vocab, words=words)
    for pipe_name, pipe in nlp.pipeline:
        if pipe_name == name:
            return pipe.predict_logits([doc])[0]
        doc = pipe(doc)


def test_export_keeps_only_what_training_changed(trained, tiny_transformer):
    nlp, folder, card = trained
    base = BertModel.from_pretrained(tiny_transformer).state_dict()
    trained_state = hf_module_of(nlp.get_pipe("transformer").model).state_dict()
    changed = sorted(k for k, v in trained_state.items() if not torch.equal(v, base[k]))
    assert changed and card["changed_tensors"] == changed
    assert read_card(folder)["note"] == "tiny" and read_card(folder)["span_ner"]["max_span_length"] == 4
    assert read_card(folder)["span_ner"]["threshold"] == pytest.approx(0.3)
    # The weight files get the mode of the JSON card beside them (safetensors' own writer: 0600).
    card_mode = (folder / shipped_weights.CARD_FILE).stat().st_mode & 0o777
    assert card_mode & 0o044
    for name in (shipped_weights.TRANSFORMER_FILE, shipped_weights.SCORER_FILE):
        assert (folder / name).stat().st_mode & 0o777 == card_mode, name


def test_universal_ner_scores_as_the_pipeline_it_came_from(trained, tiny_transformer):
    nlp, folder, _ = trained
    universal = spacy.blank("en")
    universal.add_pipe("universal_ner", config=universal_config(tiny_transformer, folder))
    assert universal.pipe_names == ["universal_ner"]
    for words, _ in TRAIN_DATA:
        for a, b in zip(logits(nlp, "span_ner", words), logits(universal, "universal_ner", words)):
            # fp16 heads and differences: about 1e-3 of the logits, far below what moves a decision.
            numpy.testing.assert_allclose(a, b, atol=2e-2)


def test_threshold_defaults_to_the_cards(trained, tiny_transformer):
    _, folder, _ = trained
    universal = spacy.blank("en")
    universal.add_pipe("universal_ner", config=universal_config(tiny_transformer, folder, threshold=None))
    assert universal.get_pipe("universal_ner").threshold == pytest.approx(0.3)


def test_saved_universal_pipeline_reloads_with_identical_predictions(trained, tiny_transformer, tmp_path):
    _, folder, _ = trained
    universal = spacy.blank("en")
    universal.add_pipe("universal_ner", config=universal_config(tiny_transformer, folder))
    pipe = universal.get_pipe("universal_ner")
    pipe.set_labels(["person", "city"])
    pipe.thresholds = {"city": 0.2}
    universal.to_disk(tmp_path / "saved")
    reloaded = spacy.load(tmp_path / "saved")
    assert reloaded.get_pipe("universal_ner").labels == ("person", "city")
    assert reloaded.get_pipe("universal_ner").thresholds == {"city": 0.2}
    for words, _ in TRAIN_DATA:
        for a, b in zip(logits(universal, "universal_ner", words), logits(reloaded, "universal_ner", words)):
            numpy.testing.assert_array_equal(a, b)


def test_set_labels_takes_names_or_descriptions_and_replaces_the_types(trained, tiny_transformer):
    _, folder, _ = trained
    universal = spacy.blank("en")
    universal.add_pipe("universal_ner", config=universal_config(tiny_transformer, folder))
    pipe = universal.get_pipe("universal_ner")
    pipe.thresholds = {"PER": 0.4}
    pipe.set_labels(["restaurant_name", "Dish"])
    assert pipe.labels == ("restaurant_name", "Dish")
    assert pipe.descriptions == {"restaurant_name": "restaurant name", "Dish": "dish"}
    assert pipe.thresholds == {}
    pipe.set_labels({"dish": "a dish or food item"})
    assert pipe.descriptions == {"dish": "a dish or food item"}
    for bad in ([], {}, ["dish", "dish"], "dish", [3]):
        with pytest.raises(UserInputError):
            pipe.set_labels(bad)


def test_init_from_universal_puts_the_weights_into_a_training_pipeline(trained, tiny_transformer):
    nlp, folder, _ = trained
    # What spacy train does with configs/span_from_universal.cfg: initialize, then after_init.
    fresh = build_pipeline(tiny_transformer, "span_ner", dict(SPAN, threshold=0.3))
    examples = train_examples(fresh)
    fresh.initialize(lambda: examples)
    fresh.get_pipe("span_ner").set_labels(LABELS)
    assert not all(numpy.allclose(a, b, atol=2e-2) for a, b in
                   zip(logits(nlp, "span_ner", TRAIN_DATA[0][0]), logits(fresh, "span_ner", TRAIN_DATA[0][0])))
    init_from_universal_v1(weights=str(folder))(fresh)
    for words, _ in TRAIN_DATA:
        for a, b in zip(logits(nlp, "span_ner", words), logits(fresh, "span_ner", words)):
            numpy.testing.assert_allclose(a, b, atol=2e-2)


def test_init_from_universal_takes_the_cards_threshold_when_asked(trained, tiny_transformer):
    _, folder, card = trained
    for asked, expected in ((False, 0.45), (True, card["span_ner"]["threshold"])):
        fresh = build_pipeline(tiny_transformer, "span_ner", dict(SPAN, threshold=0.45))
        examples = train_examples(fresh)
        fresh.initialize(lambda: examples)
        init_from_universal_v1(weights=str(folder), card_threshold=asked)(fresh)
        assert fresh.get_pipe("span_ner").threshold == pytest.approx(expected)
    assert card["span_ner"]["threshold"] == pytest.approx(0.3)  # the exported pipeline's, not 0.45


def test_other_base_weights_are_refused(trained, tiny_transformer):
    _, folder, _ = trained
    other = BertModel.from_pretrained(tiny_transformer)
    with torch.no_grad():
        other.embeddings.word_embeddings.weight.add_(0.01)
    with pytest.raises(UserInputError, match="universal.json: the universal weights apply to"):
        shipped_weights.apply_transformer_delta(other, folder)


@pytest.mark.parametrize("setting,value,trained_with", [("max_span_length", 6, 4), ("hidden_width", 48, 32)])
def test_shapes_other_than_the_weights_are_refused_by_name(trained, tiny_transformer, setting, value, trained_with):
    _, folder, _ = trained
    config = universal_config(tiny_transformer, folder)
    config["model"][setting] = value
    with pytest.raises(UserInputError, match=f"universal_ner: model.{setting} is {value}, .*trained with "
                                             f"{trained_with}: set it to {trained_with}"):
        use(spacy.blank("en"), config)


@pytest.mark.parametrize("damaged", [shipped_weights.CARD_FILE, shipped_weights.TRANSFORMER_FILE,
                                     shipped_weights.SCORER_FILE])
def test_damaged_weight_files_are_named(trained, tiny_transformer, tmp_path, damaged):
    _, folder, _ = trained
    copy = tmp_path / "weights"
    copy.mkdir()
    for name in shipped_weights.FILES:
        (copy / name).write_bytes((folder / name).read_bytes())
    (copy / damaged).write_bytes(b"not what it was")
    with pytest.raises(DamagedPipelineError, match=damaged.replace(".", r"\.")):
        use(spacy.blank("en"), universal_config(tiny_transformer, copy))


def test_weights_that_are_no_folder_are_refused(tiny_transformer, tmp_path):
    with pytest.raises(UserInputError, match="neither \"shipped\" nor a folder"):
        use(spacy.blank("en"), universal_config(tiny_transformer, tmp_path / "nothing"))
    with pytest.raises(UserInputError, match="neither \"shipped\" nor a folder"):
        load_universal(["person"], weights=tmp_path / "nothing")  # at once, before any use


@pytest.mark.parametrize("what_became_of_them", ["gone", "other shapes"])
def test_a_saved_pipeline_loads_whatever_became_of_its_weights_folder(trained, tiny_transformer, tmp_path,
                                                                     what_became_of_them):
    """spacy.load reads the weights saved with the pipeline: the folder it was built from may be
    gone (another machine, a `spacy package` wheel) or hold other weights (a later release)."""
    _, folder, _ = trained
    copy = tmp_path / "weights"
    shutil.copytree(folder, copy)
    universal = spacy.blank("en")
    universal.add_pipe("universal_ner", config=universal_config(tiny_transformer, copy))
    universal.get_pipe("universal_ner").thresholds = {"LOC": 0.2}
    universal.to_disk(tmp_path / "saved")
    if what_became_of_them == "gone":
        shutil.rmtree(copy)
    else:
        card = srsly.read_json(copy / shipped_weights.CARD_FILE)
        card["span_ner"]["max_span_length"] = 6
        srsly.write_json(copy / shipped_weights.CARD_FILE, card)
    reloaded = spacy.load(tmp_path / "saved")
    pipe = reloaded.get_pipe("universal_ner")
    assert pipe.threshold == pytest.approx(0.3) and pipe.thresholds == {"LOC": 0.2}
    for words, _ in TRAIN_DATA:
        for a, b in zip(logits(universal, "universal_ner", words), logits(reloaded, "universal_ner", words)):
            numpy.testing.assert_array_equal(a, b)
    reloaded.to_disk(tmp_path / "saved again")  # and it saves again, as loaded
    again = spacy.load(tmp_path / "saved again")
    numpy.testing.assert_array_equal(logits(reloaded, "universal_ner", TRAIN_DATA[0][0])[0],
                                     logits(again, "universal_ner", TRAIN_DATA[0][0])[0])


def test_int8_quantizes_the_universal_components_own_transformer_and_heads(trained, tiny_transformer, tmp_path):
    from torch.ao.nn.quantized.dynamic import Linear as DynamicQuantizedLinear
    from typer.testing import CliRunner

    from spacy_ner_ext.cli import app

    _, folder, _ = trained
    universal = spacy.blank("en")
    universal.add_pipe("universal_ner", config=universal_config(tiny_transformer, folder))
    universal.to_disk(tmp_path / "float")
    result = CliRunner().invoke(app, ["quantize", str(tmp_path / "float"), str(tmp_path / "int8")])
    assert result.exit_code == 0, result.output
    int8 = spacy.load(tmp_path / "int8")
    modules = {name: module for node in int8.get_pipe("universal_ner").model.walk() for shim in node.shims
               for name, module in shim._model.named_modules()}
    quantized = {name for name, module in modules.items() if isinstance(module, DynamicQuantizedLinear)}
    # The transformer's attention and intermediate layers (2 x 5, and the pooler), and the heads.
    assert {f"encoder.layer.{i}.attention.self.query" for i in (0, 1)} <= quantized
    assert {"start_head.0", "type_projection.2"} <= quantized
    words = TRAIN_DATA[0][0]
    for a, b in zip(logits(universal, "universal_ner", words), logits(int8, "universal_ner", words)):
        assert a.shape == b.shape and numpy.abs(a - b).max() < 0.5


def test_initialize_keeps_the_universal_weights(trained, tiny_transformer):
    # spaCy users call nlp.initialize() after add_pipe: it must not put the untrained weights back.
    _, folder, _ = trained
    universal = spacy.blank("en")
    universal.add_pipe("universal_ner", config=universal_config(tiny_transformer, folder))
    model = universal.get_pipe("universal_ner").model
    before = {k: v.clone() for k, v in hf_module_of(model).state_dict().items()}
    heads = {k: v.clone() for k, v in shipped_weights.scorer_module_of(model).state_dict().items()}
    examples = train_examples(universal)
    universal.initialize(lambda: examples)
    assert all(torch.equal(v, before[k]) for k, v in hf_module_of(model).state_dict().items())
    assert all(torch.equal(v, heads[k]) for k, v in shipped_weights.scorer_module_of(model).state_dict().items())
    assert set(universal.get_pipe("universal_ner").labels) == {"PER", "LOC", "ORG"}


def test_init_from_universal_names_what_does_not_fit(trained, tiny_transformer):
    _, folder, _ = trained
    other_width = build_pipeline(tiny_transformer, "span_ner", {"model": {"hidden_width": 32, "max_span_length": 6}})
    examples = train_examples(other_width)
    other_width.initialize(lambda: examples)
    with pytest.raises(UserInputError, match=r"\[components.span_ner.model\] max_span_length is 6.*trained with 4"):
        init_from_universal_v1(weights=str(folder))(other_width)
    with pytest.raises(UserInputError, match="no component 'ner'"):
        init_from_universal_v1(weights=str(folder), component="ner")(other_width)


def test_export_universal_command_writes_the_files_and_a_card_for_people(trained, tmp_path):
    from typer.testing import CliRunner

    from spacy_ner_ext.cli import app

    nlp, _, _ = trained
    nlp.to_disk(tmp_path / "pipeline")
    runner = CliRunner()
    # The base is the packaged MiniLM by default: the tiny pipeline's transformer is not it.
    result = runner.invoke(app, ["export-universal", str(tmp_path / "pipeline"), str(tmp_path / "weights")])
    assert result.exit_code == 1 and "not in the base model, or another shape" in result.output
    result = runner.invoke(app, ["export-universal", str(tmp_path / "pipeline"), str(tmp_path / "pipeline" / "w")])
    # Never inside the pipeline it reads.
    assert result.exit_code == 1 and "would be written over the input" in result.output
    assert not (tmp_path / "pipeline" / "w").exists()


def manifest_of(*sources):
    return {"settings": {}, "left_out": [], "train_docs": 1, "train_words": 1, "types": 1,
            "sources": [{"dataset": name, "non_commercial": nc, "licence": licence, "url": "u", "train_docs": 1}
                        for name, nc, licence in sources]}


def test_the_weights_licence_follows_the_corpora_they_saw():
    from spacy_ner_ext.universal.model_card import weights_licence

    clean = weights_licence(manifest_of(("wikigold", False, "CC BY 4.0")))
    assert clean["licence"] == "MIT" and clean["commercial_use"] is True
    mixed = weights_licence(manifest_of(("wikigold", False, "CC BY 4.0"), ("MultiNERD", True, "CC BY-NC-SA 4.0")))
    assert mixed["licence"] == "CC BY-NC-SA 4.0" and mixed["commercial_use"] is False
    assert "MultiNERD" in mixed["licence_note"] and "wikigold" not in mixed["licence_note"]
    assert "--vars.universal_non_commercial exclude" in mixed["licence_note"]
    assert weights_licence(None)["commercial_use"] is None


@pytest.fixture
def non_commercial_weights(trained, tmp_path):
    """The tiny weights with the card of a mixture that held a non-commercial corpus."""
    from spacy_ner_ext.universal.model_card import training_card

    _, folder, _ = trained
    nc_folder = tmp_path / "nc"
    shutil.copytree(folder, nc_folder)
    card = srsly.read_json(nc_folder / shipped_weights.CARD_FILE)
    card.update(training_card(manifest_of(("MultiNERD", True, "CC BY-NC-SA 4.0")), None))
    srsly.write_json(nc_folder / shipped_weights.CARD_FILE, card)
    return nc_folder


def test_non_commercial_weights_mark_the_pipeline_that_holds_them(trained, non_commercial_weights,
                                                                   tiny_transformer, tmp_path):
    _, folder, _ = trained
    for weights, licence in ((folder, ""), (non_commercial_weights, "CC BY-NC-SA 4.0")):
        nlp = spacy.blank("en")
        nlp.add_pipe("universal_ner", config=universal_config(tiny_transformer, weights))
        assert nlp.meta["license"] == licence  # spaCy's blank meta says ""
    # Saved in meta.json, the field spacy package copies into the wheel's metadata.
    nlp.to_disk(tmp_path / "saved")
    assert srsly.read_json(tmp_path / "saved" / "meta.json")["license"] == "CC BY-NC-SA 4.0"
    # Added to a pipeline's own licence (an en_core_web_sm's MIT), not put in its place.
    nlp = spacy.blank("en")
    nlp.meta["license"] = "MIT"
    nlp.add_pipe("universal_ner", config=universal_config(tiny_transformer, non_commercial_weights))
    assert nlp.meta["license"] == "MIT AND CC BY-NC-SA 4.0"


def test_nothing_is_unpickled_to_build_or_reload_it(trained, tiny_transformer, tmp_path, monkeypatch):
    _, folder, _ = trained

    def refuse(*args, **kwargs):
        raise AssertionError("unpickled")

    def safe_torch_load(*args, weights_only=None, **kwargs):
        # Thinc and spacy-transformers read torch state dicts with torch.load and no
        # weights_only: from torch 2.6 (this package's floor) that reads weights only.
        assert weights_only is not False, "torch.load with weights_only=False"
        return real_torch_load(*args, weights_only=True, **kwargs)

    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    assert (major, minor) >= (2, 6) and not os.environ.get("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")

    real_torch_load = torch.load
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    monkeypatch.setattr(torch, "load", safe_torch_load)
    universal = spacy.blank("en")
    universal.add_pipe("universal_ner", config=universal_config(tiny_transformer, folder))
    universal.to_disk(tmp_path / "saved")
    reloaded = spacy.load(tmp_path / "saved")
    assert [e.label_ for e in reloaded(" ".join(TRAIN_DATA[0][0])).ents] == \
        [e.label_ for e in universal(" ".join(TRAIN_DATA[0][0])).ents]


def test_labels_that_are_neither_names_nor_descriptions_are_one_line(trained, tiny_transformer):
    _, folder, _ = trained
    for bad, problem in (("person", "labels must be a list of names or a {name: description} dict, not 'person'"),
                         ({"person": 3}, "the description must be a non-empty string, not 3"),
                         ([3], "labels must be a list of names")):
        with pytest.raises(UserInputError, match=re.escape(problem)):
            spacy.blank("en").add_pipe("universal_ner", config=universal_config(tiny_transformer, folder, labels=bad))


def test_init_from_universal_refuses_what_is_no_span_ner_for_its_types(trained, tiny_transformer):
    _, folder, _ = trained
    nlp = build_pipeline(tiny_transformer, "span_ner", SPAN)
    examples = train_examples(nlp)
    nlp.initialize(lambda: examples)
    nlp.get_pipe("span_ner").cfg["description_encoder"] = tiny_transformer
    with pytest.raises(UserInputError, match=r"description_encoder is .*trained with 'sentence-transformers/all"):
        init_from_universal_v1(weights=str(folder))(nlp)
    other = build_pipeline(tiny_transformer, "token_ner", {})
    examples = train_examples(other)
    other.initialize(lambda: examples)
    with pytest.raises(UserInputError, match="component 'token_ner' is a TokenNER; the universal weights are for a span_ner"):
        init_from_universal_v1(weights=str(folder), component="token_ner")(other)


def test_what_is_trained_from_non_commercial_weights_says_so(non_commercial_weights, tiny_transformer):
    for own, expected in (("", "CC BY-NC-SA 4.0"), ("MIT AND CC BY-NC-SA 4.0", "MIT AND CC BY-NC-SA 4.0")):
        nlp = build_pipeline(tiny_transformer, "span_ner", SPAN)
        examples = train_examples(nlp)
        nlp.initialize(lambda: examples)
        nlp.meta["license"] = own
        init_from_universal_v1(weights=str(non_commercial_weights))(nlp)
        assert nlp.meta["license"] == expected  # said once, not twice


def test_tuned_thresholds_and_temperature_hold_on_it_and_reload(trained, tiny_transformer, tmp_path):
    from spacy_ner_ext.evaluation.threshold_tuning import apply_setting, tune

    _, folder, _ = trained
    universal = spacy.blank("en")
    universal.add_pipe("universal_ner", config=universal_config(tiny_transformer, folder))
    result = tune(universal, train_examples(universal), "universal_ner", calibrate=True)
    apply_setting(universal, "universal_ner", result.after)
    pipe = universal.get_pipe("universal_ner")
    universal.to_disk(tmp_path / "tuned")
    reloaded = spacy.load(tmp_path / "tuned").get_pipe("universal_ner")
    assert reloaded.threshold == pytest.approx(result.after.threshold)
    assert reloaded.thresholds == pytest.approx(result.after.thresholds)
    assert reloaded.calibration_temperature == pytest.approx(result.after.temperature)  # JSON: 10 decimals
    found = 0
    for words, _ in TRAIN_DATA:
        before, after = (p.predict([Doc(universal.vocab, words=words)])[0] for p in (pipe, reloaded))
        assert [row[:3] for row in before] == [row[:3] for row in after]
        assert [row[3] for row in before] == pytest.approx([row[3] for row in after], abs=1e-6)
        found += len(before)
    assert found  # entities to compare, not empty lists


def test_the_card_for_people_marks_the_terms_to_check(tmp_path):
    from spacy_ner_ext.universal.model_card import training_card, write_model_card

    card = training_card(manifest_of(("wikigold", False, "CC BY 4.0"), ("MatScholar", False, "GPL-3.0"),
                                     ("AnEM", False, "CC BY-SA 3.0"), ("APTNER", False, "none stated, research use")),
                         None)
    card["span_ner"] = {"threshold": 0.1}
    write_model_card(card, tmp_path / "MODEL_CARD.md")
    rows = {line.split(" | ")[0].lstrip("| "): line
            for line in (tmp_path / "MODEL_CARD.md").read_text().splitlines() if line.startswith("| ")}
    assert "(check)" not in rows["wikigold"]
    assert all("(check)" in rows[name] for name in ("MatScholar", "AnEM", "APTNER"))
