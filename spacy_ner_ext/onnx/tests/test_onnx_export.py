"""export-onnx: the copy predicts what the torch original predicts (empty, short and longer than
the window texts), its int8 graphs stay near the float logits, it loads in a fresh process with
HF_HUB_OFFLINE=1, `annotate` runs it, and new types can be described after export."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
import spacy

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

PIPELINES = Path(__file__).parents[3] / "tests" / "data" / "pipelines_0.1.0"
TEXTS = ["", "john smith visited paris today", "mary jones works at acme corp in london",
         # far longer than the tiny BERT's window of wordpieces: read in strided windows
         " ".join(["reuters said google met the united nations in berlin and new york"] * 60)]


def entities(docs):
    return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs]


def scores(docs):
    return [[round(float(e._.ner_score), 3) for e in doc.ents] for doc in docs]


@pytest.fixture(scope="module", params=["span_ner", "contrastive_ner"])
def exported(request, tmp_path_factory):
    from spacy_ner_ext.onnx.pipeline_copy import export_pipeline

    folder = tmp_path_factory.mktemp(f"onnx-{request.param}")
    nlp = spacy.load(PIPELINES / request.param)
    info = export_pipeline(nlp, folder / "float")
    int8_info = export_pipeline(nlp, folder / "int8", int8=True)
    return request.param, folder, info, int8_info


def test_keep_float_leaves_the_layers_it_names_float(tmp_path):
    from spacy_ner_ext.ml.quantization import FFN_DOWN_PROJECTIONS
    from spacy_ner_ext.onnx.pipeline_copy import export_pipeline

    info = export_pipeline(spacy.load(PIPELINES / "span_ner"), tmp_path / "kept", int8=True,
                           keep_float=[FFN_DOWN_PROJECTIONS])
    float_nodes = info["graphs"]["transformer"]["float_nodes"]
    # The tiny BERT's two feed-forward down projections, not the attention's output projections.
    assert len(float_nodes) == 2 and all("/output/dense/" in n and "attention" not in n for n in float_nodes)


def test_the_float_copy_predicts_what_the_torch_pipeline_predicts(exported):
    name, folder, _, _ = exported
    torch_docs = list(spacy.load(PIPELINES / name).pipe(TEXTS, batch_size=4))
    copy = spacy.load(folder / "float")
    assert copy.pipe_names[-1] == "onnx_runtime"
    onnx_docs = list(copy.pipe(TEXTS, batch_size=4))
    assert sum(len(d.ents) for d in torch_docs) >= 3  # something to compare
    assert entities(onnx_docs) == entities(torch_docs)
    assert scores(onnx_docs) == scores(torch_docs)
    # The swapped-in modules are onnxruntime's, not torch's.
    from spacy_ner_ext.onnx.ort_modules import OrtModule

    shims = [s for _, c in copy.pipeline if hasattr(c, "model") and hasattr(c.model, "walk")
             for n in c.model.walk() for s in n.shims]
    assert sum(isinstance(getattr(s, "_model", None), OrtModule) for s in shims) == 2


def span_logits(nlp, text):
    doc = nlp.get_pipe("transformer")(nlp.make_doc(text))
    return nlp.get_pipe("span_ner").predict_logits([doc])[0]


def test_int8_logits_stay_near_the_float_ones(exported):
    name, folder, _, int8_info = exported
    if name != "span_ner":
        pytest.skip("span_ner's logits are checked; contrastive_ner's int8 copy is run by annotate below")
    float_logits = span_logits(spacy.load(folder / "float"), TEXTS[2])
    int8_logits = span_logits(spacy.load(folder / "int8"), TEXTS[2])
    for f, q in zip(float_logits, int8_logits):
        # Within a tenth of the float logits' spread: int8 moves logits, it does not scramble them.
        assert numpy.abs(f - q).max() < 0.1 * f.std() + 0.05
    assert float(numpy.abs(float_logits[2] - int8_logits[2]).max()) > 0  # int8 graphs did run
    assert int8_info["graphs"]["transformer"]["float_nodes"] == []  # by default every layer is int8
    float_graph = folder / "float" / "onnx_runtime" / "transformer.float.onnx"
    assert int8_info["graphs"]["transformer"]["bytes"] < float_graph.stat().st_size


def test_new_types_can_be_described_after_export(exported):
    name, folder, _, _ = exported
    copy = spacy.load(folder / "float")
    original = spacy.load(PIPELINES / name)
    for nlp in (copy, original):
        pipe = nlp.get_pipe(name)
        pipe.set_descriptions({**pipe.descriptions, "CITY": "the name of a city"})
    assert entities(copy.pipe(TEXTS)) == entities(original.pipe(TEXTS))


def test_saving_the_swapped_pipeline_is_refused_with_one_line(exported, tmp_path):
    from spacy_ner_ext.errors import UserInputError

    _, folder, _, _ = exported
    with pytest.raises(UserInputError, match="cannot be saved"):
        spacy.load(folder / "float").to_disk(tmp_path / "again")


def test_a_pipeline_without_a_scorer_to_export_is_named(tmp_path):
    from spacy_ner_ext.onnx.export import OnnxExportError
    from spacy_ner_ext.onnx.pipeline_copy import export_pipeline

    with pytest.raises(OnnxExportError, match="has neither"):
        export_pipeline(spacy.load(PIPELINES / "token_ner"), tmp_path / "out")


@pytest.mark.slow
def test_the_copy_loads_in_a_fresh_process_offline_and_annotate_runs_it(exported, tmp_path):
    name, folder, _, _ = exported
    rows = [{"id": str(i), "text": t} for i, t in enumerate(TEXTS) if t]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf8")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    result = subprocess.run([sys.executable, "-m", "spacy_ner_ext", "annotate", str(folder / "int8"),
                             str(tmp_path / "in.jsonl"), str(tmp_path / "out")], env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = entities(spacy.load(folder / "int8").pipe([r["text"] for r in rows]))
    written = [json.loads(line) for line in (tmp_path / "out" / "in.jsonl").read_text().splitlines()]
    assert [[(e["start_char"], e["end_char"], e["label"]) for e in r["entities"]] for r in written] == expected


def test_entity_agreement_counts_what_two_pipelines_share_and_do_not(exported, tmp_path):
    from spacy.tokens import DocBin

    from spacy_ner_ext.experiments.prediction_agreement import entity_agreement

    name, folder, _, _ = exported
    nlp = spacy.load(PIPELINES / name)
    DocBin(docs=[nlp.make_doc(t) for t in TEXTS[1:]]).to_disk(tmp_path / "texts.spacy")
    same = entity_agreement(str(PIPELINES / name), str(folder / "float"), tmp_path / "texts.spacy")
    expected = sum(len(d.ents) for d in nlp.pipe(TEXTS[1:]))
    assert (same["docs"], same["docs_differing"], same["entities_both"]) == (3, 0, expected)
    other = "contrastive_ner" if name == "span_ner" else "span_ner"
    apart = entity_agreement(str(PIPELINES / name), str(PIPELINES / other), tmp_path / "texts.spacy")
    assert apart["docs_differing"] > 0 and apart["entities_only_a"] + apart["entities_only_b"] > 0


def test_export_onnx_names_a_contradiction_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from spacy_ner_ext.cli import app

    result = CliRunner().invoke(app, ["export-onnx", str(PIPELINES / "span_ner"), str(tmp_path / "out"),
                                      "--keep-float", "layer"])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--keep-float chooses the int8 graphs' float layers: give --int8 too" in lines[0]
    assert not (tmp_path / "out").exists()


def test_node_names_map_back_to_torch_module_names():
    from spacy_ner_ext.onnx.export import module_name

    assert module_name("/model/encoder/layer.0/output/dense/MatMul") == "encoder.layer.0.output.dense"
    assert module_name("/start_head/start_head.0/MatMul") == "start_head.0"
    assert module_name("/span_out/span_out.2/Gemm") == "span_out.2"
    assert module_name("/span_from_start/MatMul") == "span_from_start"
