"""Bad input through the commands a user runs: one `✘` line on stderr, no traceback, a
non-zero exit, and nothing lost. The fast tests run the command line in-process (the same
code path as `python -m spacy_ner_ext`); the slow ones run it as a user does, in a process of
its own with torch's default threads."""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin
from typer.testing import CliRunner

from spacy_ner_ext.cli import app

SAVED = Path(__file__).parent / "data" / "pipelines_0.1.0"
SPAN = SAVED / "span_ner"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
CONLL = "john B-PER\nsmith I-PER\nvisited O\nparis B-LOC\n\nmary B-PER\njones I-PER\n"


def the_one_line(stderr: str) -> str:
    lines = [line for line in ANSI.sub("", stderr).splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("✘ ")
    return lines[0]


def assert_fails(result, code: int, *expected: str) -> str:
    """A failed command: its exit code, one line on stderr that says each of `expected`, no traceback."""
    stdout, stderr = result.stdout, result.stderr
    exit_code = result.returncode if hasattr(result, "returncode") else result.exit_code
    assert exit_code == code, stdout + stderr
    assert "Traceback" not in stdout + stderr and "╭" not in stdout + stderr
    line = the_one_line(stderr)
    for text in expected:
        assert text in line, line
    return line


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def files(tmp_path):
    (tmp_path / "good.conll").write_text(CONLL, encoding="utf8")
    (tmp_path / "folder").mkdir()
    (tmp_path / "list.json").write_text('["PER", "LOC"]')
    (tmp_path / "invalid.json").write_text('{"PER": "a person",')
    (tmp_path / "empty_description.json").write_text('{"PER": "a person", "LOC": ""}')
    (tmp_path / "corrupt.spacy").write_bytes(b"not a docbin at all")
    nlp = spacy.blank("en")
    DocBin().to_disk(tmp_path / "empty.spacy")
    DocBin(docs=[nlp("john smith visited paris")]).to_disk(tmp_path / "no_entities.spacy")
    (tmp_path / "foo.conll").write_text("x B-FOO\ny O\n", encoding="utf8")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "training_log.jsonl").write_text('{"step": 0, "score": 0.1, "losses": {}}\n{"step": 1, "sc\n')
    (tmp_path / "run" / "test_results.json").write_text('{"per_type": {}, \n "test_metrics": ')
    return tmp_path


ARGUMENT_CASES = {
    "dev ratio over 1": (["convert", "{good.conll}", "{o.spacy}", "--dev-ratio", "1.5"], 2,
                         "'--dev-ratio': 1.5 is not between 0 and 1"),
    "no sentences per doc": (["convert", "{good.conll}", "{o.spacy}", "--n-sents", "0"], 2, "'--n-sents'"),
    "unknown scheme": (["convert", "{good.conll}", "{o.spacy}", "--scheme", "foo"], 2,
                       "'--scheme': 'foo' is not one of"),
    "unknown format": (["convert", "{good.conll}", "{o.spacy}", "--format", "foo"], 2,
                       "'--format': 'foo' is not one of conll, jsonl, gliner, raw"),
    "negative limit": (["convert", "{good.conll}", "{o.spacy}", "--limit", "-1"], 2, "'--limit'"),
    "output is a folder": (["convert", "{good.conll}", "{folder}"], 2, "folder' is a directory"),
    "output suffix": (["convert", "{good.conll}", "{o.txt}"], 1, "o.txt: the output must end in one of .spacy"),
    "annotate: descriptions a list": (["annotate", SPAN, "{good.conll}", "{out}", "--input-format", "txt",
                                       "--descriptions", "{list.json}"], 1,
                                      "list.json: expected a non-empty JSON object {label: description}"),
    "annotate: invalid descriptions": (["annotate", SPAN, "{good.conll}", "{out}", "--input-format", "txt",
                                        "--descriptions", "{invalid.json}"], 1, "invalid.json, line 1: invalid JSON"),
    "annotate: empty description": (["annotate", SPAN, "{good.conll}", "{out}", "--input-format", "txt",
                                     "--descriptions", "{empty_description.json}"], 1,
                                    "empty_description.json, label 'LOC': the description must be a non-empty string"),
    "zeroshot: descriptions a list": (["zeroshot", SPAN, "{no_entities.spacy}", "--descriptions", "{list.json}"], 1,
                                      "list.json: expected a non-empty JSON object"),
    "zeroshot: invalid descriptions": (["zeroshot", SPAN, "{no_entities.spacy}", "--descriptions", "{invalid.json}"],
                                       1, "invalid.json, line 1: invalid JSON"),
    "zeroshot: empty description": (["zeroshot", SPAN, "{no_entities.spacy}", "--descriptions",
                                     "{empty_description.json}"], 1, "label 'LOC': the description must be"),
    "evaluate: missing model": (["evaluate", "{no-model}", "{good.conll}"], 1,
                                "no-model: no such pipeline folder or installed package"),
    "evaluate: corrupt .spacy": (["evaluate", SPAN, "{corrupt.spacy}"], 1,
                                 "corrupt.spacy: not a readable .spacy file"),
    "evaluate: bad CoNLL": (["evaluate", SPAN, "{bad.conll}"], 1, "bad.conll, line 2: 3 columns where line 1 has 2"),
    "evaluate: no docs": (["evaluate", SPAN, "{empty.spacy}"], 1, "empty.spacy: holds no docs"),
    "tune: empty dev set": (["tune-thresholds", SPAN, "{empty.spacy}", "{tuned}"], 1,
                            "empty.spacy: the dev set holds no docs"),
    "tune: no entities": (["tune-thresholds", SPAN, "{no_entities.spacy}", "{tuned}"], 1,
                          "no entity of the component's types (LOC, ORG, PER) in the dev set (it holds no entities)"),
    "tune: other types": (["tune-thresholds", SPAN, "{foo.conll}", "{tuned}"], 1, "(its entity types are FOO)"),
    "annotate: batch size 0": (["annotate", SPAN, "{good.conll}", "{out}", "--batch-size", "0"], 2, "'--batch-size'"),
    "a missing argument": (["convert"], 2, "Missing argument"),
    "evaluate: scores over the data": (["evaluate", SPAN, "{good.conll}", "--output", "{good.conll}"], 1,
                                       "--output would be written over the input"),
    "evaluate: two outputs, one file": (["evaluate", SPAN, "{good.conll}", "--output", "{x.json}", "--displacy-page",
                                         "{x.json}"], 1, "would be written to the same place"),
    "evaluate: an output below a file": (["evaluate", SPAN, "{good.conll}", "--output", "{good.conll}/x.json"], 1,
                                         "which is a file, not a folder"),
    "evaluate: a gpu id below -1": (["evaluate", SPAN, "{good.conll}", "--gpu-id", "-2"], 2, "'--gpu-id'"),
    "tune: summary over the dev set": (["tune-thresholds", SPAN, "{no_entities.spacy}", "{tuned}", "--summary",
                                        "{no_entities.spacy}"], 1, "--summary would be written over the input"),
    "tune: a component without thresholds": (["tune-thresholds", SPAN, "{foo.conll}", "{tuned}", "--component",
                                              "transformer"], 1, "transformer (Transformer) has no thresholds"),
    "tune: into a folder of other files": (["tune-thresholds", SPAN, "{foo.conll}", "{run}"], 1,
                                           "a folder that holds files but no pipeline"),
    "annotate: summary over the input": (["annotate", SPAN, "{good.conll}", "{out}", "--input-format", "txt",
                                          "--summary", "{good.conll}"], 1, "--summary would be written over"),
    "annotate: an empty label": (["annotate", SPAN, "{good.conll}", "{out}", "--labels", "LOC,,PER"], 1,
                                 "an empty label"),
    "annotate: a Ray it cannot reach": (["annotate", SPAN, "{good.conll}", "{out}", "--input-format", "txt",
                                         "--ray", "bogus://nowhere"], 1, "--ray bogus://nowhere: cannot start or reach"),
    "benchmark: results over the data": (["benchmark", SPAN, "--data", "{empty.spacy}", "--output", "{empty.spacy}"],
                                         1, "--output would be written over the input"),
    "benchmark: data not .spacy": (["benchmark", SPAN, "--data", "{good.conll}", "--output", "{x.json}"], 1,
                                   "the benchmark reads .spacy files"),
    "plot-types: not scores": (["plot-types", "a={list.json}", "--output", "{o.png}"], 1,
                               "list.json: not the scores `evaluate` writes"),
    "plot-curves: not an image": (["plot-curves", "{run}", "--output", "{o.txt}"], 2, "an image file name ending in"),
    "report: not a run": (["report", "{folder}"], 1, "not a training run folder"),
    "tune: over the original": (["tune-thresholds", SPAN, "{good.conll}", SPAN], 1,
                                "OUTPUT would be written over the input"),
    "quantize: into the original": (["quantize", SPAN, SPAN / "span_ner"], 1,
                                    "OUTPUT would be written over the input"),
    "scores to a folder": (["evaluate", SPAN, "{good.conll}", "--output", "{folder}"], 2, "is a directory"),
    "empty separator": (["convert", "{good.conll}", "{o.spacy}", "--separator", ""], 1,
                        "separator must be a non-empty string"),
    "unknown language": (["convert", "{good.conll}", "{o.spacy}", "--lang", "xx1"], 1, "--lang xx1: "),
    "report: malformed results": (["report", "{run}", "--output", "{o.html}"], 1,
                                  "run/test_results.json, line 2: invalid JSON"),
    "plot-types: malformed results": (["plot-types", "span={run}/test_results.json", "--output", "{o.png}"], 1,
                                      "test_results.json, line 2: invalid JSON"),
    "plot-curves: malformed log": (["plot-curves", "{run}", "--output", "{o.png}"], 1,
                                   "run/training_log.jsonl, line 2: invalid JSON"),
}


@pytest.mark.parametrize("case", list(ARGUMENT_CASES))
def test_bad_arguments_and_files_give_one_line_before_any_work(files, case):
    args, code, expected = ARGUMENT_CASES[case]
    (files / "bad.conll").write_text("john B-PER\nsmith NNP I-PER\n", encoding="utf8")
    args = [re.sub(r"\{([^}]+)\}", lambda m: str(files / m.group(1)), a) if isinstance(a, str) else a for a in args]
    before = {p.name: p.read_bytes() for p in files.iterdir() if p.is_file()}
    assert_fails(invoke(*args), code, expected)
    assert {p.name: p.read_bytes() for p in files.iterdir() if p.is_file()} == before  # every input as it was
    # Nothing was written: no output file, no output folder left empty.
    assert not any((files / name).exists()
                   for name in ("o.spacy", "o.txt", "o.png", "o.html", "x.json", "out", "tuned", "test_results.json",
                                "folder/report.html"))


def test_a_gpu_id_without_a_gpu_is_one_line(files):
    try:
        import cupy  # noqa: F401 (only whether it imports)

        pytest.skip("this machine has CuPy: --gpu-id 0 may work here")
    except ImportError:
        pass
    assert_fails(invoke("evaluate", SPAN, files / "good.conll", "--gpu-id", "0"), 1, "--gpu-id 0: ",
                 "or run on the CPU with --gpu-id -1")


def test_a_run_that_annotates_nothing_fails_naming_the_first_reason(files):
    (files / "a.jsonl").write_text(json.dumps({"id": 1, "text": "john smith"}) + "\n")
    assert_fails(invoke("annotate", SPAN, files / "a.jsonl", files / "out", "--text-field", "body"), 1,
                 "no record could be annotated (1 errors, the first: no 'body' field)")


def test_zeroshot_warns_when_gold_and_descriptions_share_no_type(files):
    (files / "other.json").write_text('{"DISEASE": "a disease"}')
    result = invoke("zeroshot", SPAN, files / "foo.conll", "--descriptions", files / "other.json",
                    "--output", files / "z.json")
    assert result.exit_code == 0, result.output
    shown = " ".join(ANSI.sub("", result.stdout).split())
    assert "share no entity type: gold types FOO; described DISEASE" in shown


def test_evaluate_warns_when_gold_and_model_share_no_type(files):
    result = invoke("evaluate", SPAN, files / "foo.conll", "--output", files / "scores.json")
    assert result.exit_code == 0, result.output
    shown = " ".join(ANSI.sub("", result.stdout).split())
    assert "share no entity type: gold types FOO; the pipeline's LOC, ORG, PER" in shown


def cli(*args, timeout=300):
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    return subprocess.run([sys.executable, "-m", "spacy_ner_ext", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=timeout)


def fingerprint(folder: Path):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text(encoding="utf8").splitlines()]


@pytest.mark.slow
def test_annotate_refuses_to_write_where_its_input_lives(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text(json.dumps({"id": "1", "text": "john smith visited paris"}) + "\n")
    before = fingerprint(tmp_path / "in")
    assert_fails(cli("annotate", SPAN, tmp_path / "in", tmp_path / "in"), 1, "the output folder is the input folder")
    assert_fails(cli("annotate", SPAN, tmp_path / "in", tmp_path / "in" / "out"), 1, "is inside the input")
    assert_fails(cli("annotate", SPAN, tmp_path / "in" / "a.jsonl", tmp_path / "in"), 1, "holds the input")
    assert fingerprint(tmp_path / "in") == before


@pytest.mark.slow
def test_annotate_lists_bad_records_and_adds_up(tmp_path):
    (tmp_path / "in").mkdir()
    lines = ['{"id": "a", "text": "john smith visited paris"}', '{"id": "surrogate", "text": "bad \\ud800 text"}',
             '{"id": "c", "text": "mary jones"}']
    (tmp_path / "in" / "x.jsonl").write_text("\n".join(lines) + "\n", encoding="utf8")
    (tmp_path / "in" / "y.txt").write_bytes(b"john smith\rvisited paris\nmary jones\n")
    (tmp_path / "in" / "z.jsonl").write_bytes(bytes(range(256)) * 4)  # a binary file named .jsonl
    before = fingerprint(tmp_path / "in")
    result = cli("annotate", SPAN, tmp_path / "in", tmp_path / "out", "--summary", tmp_path / "summary.json")
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    errors = read_jsonl(tmp_path / "out" / "errors.jsonl")
    assert summary["records_in"] == 3 + 2 + (bytes(range(256)) * 4).count(b"\n") + 1
    assert summary["records_in"] == summary["records_out"] + summary["errors"] and summary["errors"] == len(errors)
    assert {"id": "surrogate", "line": 2} == {k: errors[0][k] for k in ("id", "line")}
    assert [r["id"] for r in read_jsonl(tmp_path / "out" / "x.jsonl")] == ["a", "c"]
    assert [r["id"] for r in read_jsonl(tmp_path / "out" / "y.jsonl")] == ["y.txt:1", "y.txt:2"]
    assert fingerprint(tmp_path / "in") == before


@pytest.mark.slow
def test_a_record_that_fails_inside_the_pipeline_costs_it_alone_with_two_processes(tmp_path):
    """A user's run: nlp.pipe(n_process=2) in a process of its own, default torch threads."""
    shutil.copytree(SPAN, tmp_path / "model")
    rows = [{"id": f"r{i}", "text": "john smith visited paris" if i != 7 else "paris boom"} for i in range(40)]
    (tmp_path / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    script = textwrap.dedent(f"""
        import json, sys
        from pathlib import Path
        from spacy.language import Language
        from spacy_ner_ext.annotation import annotate as module
        from spacy_ner_ext.annotation.annotate import AnnotateOptions, annotate
        from spacy_ner_ext.annotation.records import ReadOptions

        @Language.component("fails_on_boom")
        def fails_on_boom(doc):
            if "boom" in doc.text:
                raise RuntimeError("cannot handle " + doc.text)
            return doc

        load = module.load_pipeline
        def with_failure(*args, **kwargs):
            nlp = load(*args, **kwargs)
            nlp.add_pipe("fails_on_boom")
            return nlp
        module.load_pipeline = with_failure
        summary = annotate({str(tmp_path / 'model')!r}, {str(tmp_path / 'a.jsonl')!r}, Path({str(tmp_path / 'out')!r}),
                           ReadOptions(None), AnnotateOptions(n_process=2, batch_size=4))
        print(json.dumps([summary.records_in, summary.records_out, summary.errors]))
    """)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [40, 39, 1]
    (error,) = read_jsonl(tmp_path / "out" / "errors.jsonl")
    assert error["id"] == "r7" and "RuntimeError: cannot handle paris boom" in error["reason"]
    assert [r["id"] for r in read_jsonl(tmp_path / "out" / "a.jsonl")] == [f"r{i}" for i in range(40) if i != 7]


@pytest.mark.slow
def test_convert_and_tune_refuse_what_they_would_misread(files):
    (files / "short.conll").write_text("EU NNP B-NP B-ORG\nLEICESTERSHIRE NNP B-NP\n", encoding="utf8")
    assert_fails(cli("convert", files / "short.conll", files / "o.spacy"), 1,
                 "short.conll, line 2: 3 columns where line 1 has 4")
    assert_fails(cli("convert", files / "good.conll", files / "o.spacy", "--limit", "-1"), 2, "'--limit'")
    assert_fails(cli("tune-thresholds", SPAN, files / "empty.spacy", files / "tuned"), 1, "the dev set holds no docs")
    assert not (files / "o.spacy").exists() and not (files / "tuned").exists()


@pytest.mark.slow
def test_a_damaged_pipeline_is_named_by_the_command(tmp_path, files):
    shutil.copytree(SPAN, tmp_path / "damaged")
    data = (tmp_path / "damaged" / "span_ner" / "type_vectors.safetensors").read_bytes()
    (tmp_path / "damaged" / "span_ner" / "type_vectors.safetensors").write_bytes(data[: len(data) // 2])
    assert_fails(cli("evaluate", tmp_path / "damaged", files / "good.conll"), 1,
                 "damaged/span_ner/type_vectors.safetensors: damaged: cannot be read")
    assert_fails(cli("annotate", tmp_path / "damaged", files / "good.conll", tmp_path / "out", "--input-format", "txt"),
                 1, "type_vectors.safetensors: damaged")


def test_a_plot_may_go_into_the_run_folder_it_reads(files):
    """As the project's plots step does: the run folder (config.cfg, training_log.jsonl, as the
    train wrapper leaves it) is read, and the plot written beside."""
    (files / "run" / "config.cfg").write_text("[nlp]\nlang = \"en\"\n")
    (files / "run" / "training_log.jsonl").write_text(
        '{"step": 0, "score": 0.1, "scores": {"ents_f": 0.1}, "losses": {"span_ner": 2.0}}\n'
        '{"step": 2, "score": 0.3, "scores": {"ents_f": 0.3}, "losses": {"span_ner": 1.0}}\n')
    result = invoke("plot-curves", files / "run", "--output", files / "run" / "training_curves.png")
    assert result.exit_code == 0, result.output
    assert (files / "run" / "training_curves.png").read_bytes()[:4] == b"\x89PNG"
    assert_fails(invoke("evaluate", SPAN, files / "good.conll", "--output", SPAN / "scores.json"), 1,
                 "--output would be written over the input")  # but never into a pipeline folder
    assert not (SPAN / "scores.json").exists()


# -- the universal recipe: build-mixture and pretrain ---------------------------------------
def test_build_mixture_refuses_an_unknown_dataset_to_leave_out(tmp_path):
    result = invoke("build-mixture", tmp_path / "mix", "--data", tmp_path, "--leave-out", "mit-movie")
    line = assert_fails(result, 1, "--leave-out: unknown dataset(s) mit-movie")
    assert "conll2003" in line
    assert not (tmp_path / "mix").exists()


def test_build_mixture_names_a_file_missing_from_the_mirror(tmp_path):
    (tmp_path / "conll2003").mkdir()
    result = invoke("build-mixture", tmp_path / "mix", "--data", tmp_path, "--only", "conll2003")
    assert_fails(result, 1, str(tmp_path / "conll2003" / "train.txt"), "no such file", "conll2003")


def test_build_mixture_names_a_label_the_mapping_does_not_decide(tmp_path):
    data = tmp_path / "data" / "wikigold"
    data.mkdir(parents=True)
    (data / "wikigold.conll.txt").write_text("john I-PER\nvisited O\nacme I-SPACESHIP\n")
    result = invoke("build-mixture", tmp_path / "mix", "--data", tmp_path / "data", "--only", "wikigold")
    assert_fails(result, 1, "type_mapping.json", "dataset 'wikigold'", "no universal type for label(s) SPACESHIP")


def test_pretrain_refuses_a_checkpoint_interval_over_15_minutes(tmp_path):
    result = invoke("pretrain", "configs/universal.cfg", tmp_path / "run", "--checkpoint-minutes", "20")
    assert_fails(result, 2, "--checkpoint-minutes")
