"""Training you can watch: run.log, TensorBoard events read back, plots, report, GLiNER script."""
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

from spacy_ner_ext.tests.util import TRAIN_DATA, make_doc

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def tiny_run(tiny_transformer, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("run")
    nlp = spacy.blank("en")
    DocBin(docs=[make_doc(nlp, w, e) for w, e in TRAIN_DATA]).to_disk(tmp / "d.spacy")
    out = tmp / "span"
    result = subprocess.run(
        [sys.executable, "-m", "spacy_ner_ext", "train", str(ROOT / "configs" / "span.cfg"), str(out),
         "--paths.train", str(tmp / "d.spacy"), "--paths.dev", str(tmp / "d.spacy"),
         "--paths.descriptions", str(ROOT / "corpus" / "descriptions" / "conll2003.json"),
         "--components.transformer.model.name", tiny_transformer, "--training.max_steps", "6",
         "--training.eval_frequency", "2", "--components.span_ner.model.hidden_width", "32"],
        capture_output=True, text=True, cwd=tmp)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    result = subprocess.run([sys.executable, "-m", "spacy_ner_ext", "evaluate", str(out / "model-last"),
                             str(tmp / "d.spacy"), "--output", str(out / "test_results.json"),
                             "--displacy-page", str(out / "predictions.html")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return out


@pytest.mark.slow
def test_run_folder_keeps_everything(tiny_run):
    lines = (tiny_run / "run.log").read_text().splitlines()
    assert lines[0].split(" ", 1)[1].startswith("$ ") and any("Saved pipeline" in line for line in lines)
    assert all(line[:4].isdigit() and "T" in line[:20] for line in lines)  # every line timestamped
    assert spacy.util.load_config(tiny_run / "config.cfg")["training"]["max_steps"] == 6
    assert (tiny_run / "model-best").is_dir() and (tiny_run / "model-last").is_dir()


@pytest.mark.slow
def test_tensorboard_events_read_back_to_the_logged_values(tiny_run, tmp_path):
    from spacy_ner_ext.training.tensorboard_logger import export_csv

    n = export_csv(tiny_run / "tensorboard", tmp_path / "scalars.csv")
    rows = list(csv.DictReader((tmp_path / "scalars.csv").read_text().splitlines()))
    assert len(rows) == n > 0
    logged = [json.loads(line) for line in (tiny_run / "training_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in logged] == [0, 2, 4, 6]
    by_key = {(int(r["step"]), r["metric"]): float(r["value"]) for r in rows}
    for record in logged:
        assert by_key[(record["step"], "loss/span_ner")] == pytest.approx(record["losses"]["span_ner"], rel=1e-6)
        assert by_key[(record["step"], "score/ents_f")] == pytest.approx(record["scores"]["ents_f"], rel=1e-6)
        assert (record["step"], "train/learn_rate") in by_key and (record["step"], "train/words_per_second") in by_key


@pytest.mark.slow
def test_plots_and_report(tiny_run, tmp_path):
    from spacy_ner_ext.evaluation.plots import plot_per_type_f1, plot_training_curves
    from spacy_ner_ext.evaluation.report import write_report

    plot_training_curves([tiny_run], tiny_run / "training_curves.png")
    plot_per_type_f1({"a": tiny_run / "test_results.json", "b": tiny_run / "test_results.json"}, tmp_path / "t.png")
    for png in (tiny_run / "training_curves.png", tmp_path / "t.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    page = write_report(tiny_run).read_text()
    assert "Scores on the test set" in page and "data:image/png;base64," in page
    assert "predictions.html" in page and "[components.span_ner]" in page


@pytest.mark.slow
def test_train_meeting_a_bad_corpus_line_prints_one_line(tiny_transformer, tmp_path):
    """spacy train reading a JSONL corpus through this package's reader: a record it cannot
    read stops the wrapper with the reader's one line (file, line, problem), not a traceback."""
    import re

    good = {"text": "Alice lives in Paris.", "char_spans": [{"start": 0, "end": 5, "label": "PER"}]}
    (tmp_path / "train.jsonl").write_text(json.dumps(good) + "\n" + json.dumps({"text": 7, "char_spans": []}) + "\n")
    config = (ROOT / "configs" / "span.cfg").read_text()
    for corpus in ("train", "dev"):  # spaCy's .spacy reader swapped for this package's JSONL reader
        config = re.sub(rf"\[corpora\.{corpus}\]\n.*?\n\n",
                        f'[corpora.{corpus}]\n@readers = "spacy_ner_ext.JsonlCorpus.v1"\npath = ${{paths.{corpus}}}\n\n',
                        config, flags=re.S)
    (tmp_path / "jsonl.cfg").write_text(config)
    result = subprocess.run(
        [sys.executable, "-m", "spacy_ner_ext", "train", str(tmp_path / "jsonl.cfg"), str(tmp_path / "out"),
         "--paths.train", str(tmp_path / "train.jsonl"), "--paths.dev", str(tmp_path / "train.jsonl"),
         "--paths.descriptions", str(ROOT / "corpus" / "descriptions" / "conll2003.json"),
         "--components.transformer.model.name", tiny_transformer, "--training.max_steps", "2"],
        capture_output=True, text=True, cwd=tmp_path)
    shown = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)  # wasabi's colours
    assert result.returncode == 1, shown[-3000:]
    assert "Traceback" not in shown
    assert shown.strip().splitlines()[-1] == "\u2718 " + f"{tmp_path / 'train.jsonl'}, line 2: 'text' must be a string"


@pytest.mark.slow
def test_gliner_script_fails_in_one_line_without_a_model(tmp_path):
    from spacy.tokens import DocBin

    DocBin().to_disk(tmp_path / "test.spacy")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "evaluate_gliner.py"), str(tmp_path / "model"),
                             str(tmp_path / "test.spacy")], capture_output=True, text=True)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    try:
        import gliner  # noqa: F401
        expected = f"evaluate_gliner: {tmp_path / 'model'}: not a saved GLiNER model"
    except ImportError:
        expected = "evaluate_gliner: the 'gliner' package is not installed"
    assert expected in result.stderr.strip().splitlines()[-1]


def test_the_run_log_keeps_finished_lines_not_progress_redraws(tmp_path):
    from spacy_ner_ext.training.run_log import _LineLog

    with (tmp_path / "run.log").open("w") as log:
        lines = _LineLog(log)
        for chunk in ["E    #  LOSS\r\n", "  0%|    | 0/100\r 50%|##  | 50/1", "00\r", "\r  0    100  1.23\n", "last"]:
            lines.feed(chunk)
        lines.close()
    kept = [line.split(" ", 1)[1] for line in (tmp_path / "run.log").read_text().splitlines()]
    assert kept == ["E    #  LOSS", "  0    100  1.23", "last"]


@pytest.mark.slow
def test_a_terminal_gets_the_progress_bar_and_the_log_gets_the_lines(tmp_path):
    """On a terminal the command runs on a pseudo-terminal: tqdm (spaCy's progress bar) draws."""
    import os
    import pty

    from spacy_ner_ext.training.run_log import run_logged

    code = ("import sys, time; from tqdm import tqdm; print('tty', sys.stderr.isatty(), flush=True)\n"
            "for _ in tqdm(range(3), disable=None): time.sleep(0.01)\nprint('done')")
    master, slave = pty.openpty()
    with os.fdopen(slave, "w") as terminal:
        assert run_logged([sys.executable, "-c", code], tmp_path / "run.log", echo=terminal) == 0
    shown = b""
    os.set_blocking(master, False)
    try:
        while chunk := os.read(master, 65536):
            shown += chunk
    except (BlockingIOError, OSError):
        pass
    os.close(master)
    assert b"3/3" in shown  # the bar was drawn
    kept = [line.split(" ", 1)[1] for line in (tmp_path / "run.log").read_text().splitlines()]
    assert kept[0].startswith("$ ") and "tty True" in kept and kept[-1] == "done"


@pytest.mark.parametrize("config", sorted((ROOT / "configs").glob("*.cfg")), ids=lambda p: p.name)
def test_runs_keep_their_logs_in_their_own_folder(config, tmp_path):
    """The wrapper and the few-shot/ablation runs point every log into the run's folder, so
    nothing lands in ./training of wherever the command runs."""
    from spacy_ner_ext.training.run_log import log_overrides

    overrides = log_overrides(spacy.util.load_config(config, interpolate=False), tmp_path / "run")
    assert overrides["training.logger.log_dir"] == str(tmp_path / "run" / "tensorboard")
    assert overrides["training.logger.console.path"] == str(tmp_path / "run" / "training_log.jsonl")
    resolved = spacy.util.load_config(config, overrides=overrides, interpolate=False)["training"]["logger"]
    assert resolved["log_dir"].startswith(str(tmp_path)) and resolved["console"]["path"].startswith(str(tmp_path))
