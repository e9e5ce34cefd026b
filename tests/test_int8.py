import pytest
import spacy
import torch
from spacy.tokens import Doc
from thinc.api import PyTorchWrapper_v3
from typer.testing import CliRunner

from spacy_ner_ext.cli import app
from spacy_ner_ext.ml.quantization import QuantizationError, quantize_model
from spacy_ner_ext.tests.util import TRAIN_DATA, build_pipeline, ents, train_pipeline


def quantized_layers(nlp):
    """{component: number of int8 Linear layers}, and the names of the float Linear layers left."""
    from torch.ao.nn.quantized.dynamic import Linear as DynamicQuantizedLinear

    found, left = {}, []
    for name, component in nlp.pipeline:
        model = getattr(component, "model", None)
        for node in (model.walk() if model is not None else []):
            for shim in node.shims:
                modules = dict(shim._model.named_modules())
                found[name] = found.get(name, 0) + sum(isinstance(m, DynamicQuantizedLinear) for m in modules.values())
                left += [f"{name}: {n}" for n, m in modules.items() if type(m) is torch.nn.Linear]
    return found, left


def test_quantized_copy_loads_int8_and_predicts_like_the_float_one(tiny_transformer, tmp_path):
    nlp = build_pipeline(tiny_transformer, "span_ner", {"model": {"hidden_width": 32, "max_span_length": 4}})
    train_pipeline(nlp, 60)
    nlp.to_disk(tmp_path / "float")
    result = CliRunner().invoke(app, ["quantize", str(tmp_path / "float"), str(tmp_path / "int8")])
    assert result.exit_code == 0, result.output
    int8 = spacy.load(tmp_path / "int8")
    assert int8.pipe_names == ["transformer", "span_ner", "int8_quantizer"]
    # 2 BERT layers x 6 Linear layers (+ the pooler), and the span scorer's heads; by default the
    # feed-forward down projection of each layer stays float.
    counts, left = quantized_layers(int8)
    assert counts["transformer"] == 2 * 5 + 1 and counts["span_ner"] >= 6
    assert sorted(left) == ["transformer: encoder.layer.0.output.dense", "transformer: encoder.layer.1.output.dense"]
    # The saved weights are the float ones: loading the copy without the quantizer gives floats.
    assert spacy.load(tmp_path / "int8", exclude=["int8_quantizer"]).pipe_names == ["transformer", "span_ner"]
    for words, gold in TRAIN_DATA:
        a, b = nlp(Doc(nlp.vocab, words=words)), int8(Doc(int8.vocab, words=words))
        assert ents(a) == ents(b) == sorted(gold)
        assert [e._.ner_score for e in b.ents] == pytest.approx([e._.ner_score for e in a.ents], abs=0.05)
    with pytest.raises(QuantizationError, match="cannot be saved"):
        int8.to_disk(tmp_path / "again")
    result = CliRunner().invoke(app, ["quantize", str(tmp_path / "int8"), str(tmp_path / "twice")])
    assert result.exit_code == 1 and "quantizes itself already" in result.output
    # Every layer, or a chosen set, on request; a pattern that is no regular expression is refused.
    assert CliRunner().invoke(app, ["quantize", str(tmp_path / "float"), str(tmp_path / "all"), "--all-layers"]).exit_code == 0
    assert quantized_layers(spacy.load(tmp_path / "all")) == ({"transformer": 13, "span_ner": counts["span_ner"]}, [])
    result = CliRunner().invoke(app, ["quantize", str(tmp_path / "float"), str(tmp_path / "some"), "--keep-float",
                                      r".*attention\.self\.(query|key)"])
    assert result.exit_code == 0, result.output
    assert quantized_layers(spacy.load(tmp_path / "some"))[0]["transformer"] == 13 - 4
    result = CliRunner().invoke(app, ["quantize", str(tmp_path / "float"), str(tmp_path / "bad"), "--keep-float", "(*"])
    assert result.exit_code == 1 and "not a regular expression" in " ".join(result.output.split()) and not (tmp_path / "bad").exists()


def test_quantization_refuses_a_model_off_the_cpu():
    model = PyTorchWrapper_v3(torch.nn.Linear(4, 2))
    # As on a GPU: the module's weights are on another device than the CPU.
    model.shims[0]._model = torch.nn.Linear(4, 2, device="meta")
    with pytest.raises(QuantizationError, match="runs on CPU only"):
        quantize_model(model)
