"""The weasel project's `smoke` workflow end to end, on the packaged MiniLM and real data."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
MIRROR = ROOT.parent / "shared" / "data"


@pytest.mark.slow
@pytest.mark.skipif(not (MIRROR / "conll2003").exists(), reason="needs the CoNLL-2003 mirror in ../shared/data")
def test_smoke_workflow(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("project.yml", "configs", "scripts", "corpus"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, project / name)
    env = dict(os.environ, SPACY_NER_EXT_DATA=str(MIRROR), HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    result = subprocess.run([sys.executable, "-m", "spacy", "project", "run", "smoke"], cwd=project, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    smoke, results = project / "training" / "smoke", project / "results" / "smoke"
    for name in ("baseline", "span"):
        run = smoke / name
        scores = json.loads((run / "test_results.json").read_text())
        assert scores["test_metrics"]["gold"] > 100
        assert set(scores["per_type"]) <= {"PER", "ORG", "LOC", "MISC"}
        log = [json.loads(line) for line in (run / "training_log.jsonl").read_text().splitlines()]
        assert [r["step"] for r in log] == [0, 15, 30] and log[-1]["train_words_per_second"] > 0
        assert (run / "run.log").exists() and (run / "model-best").is_dir()
        assert list((run / "tensorboard").glob("events.out.tfevents.*"))
        # The same files as `all`, report with its images included.
        assert (run / "predictions.html").exists() and (run / "training_curves.png").exists()
        report = (run / "report.html").read_text()
        assert "data:image/png;base64," in report and "Scores on the test set" in report
    # Thresholds tuned on dev, saved in the tuned copy; int8 copies, scored on test.
    tuning = json.loads((smoke / "span" / "tuning.json").read_text())
    assert tuning["before_dev"]["f1"] <= tuning["global_dev"]["f1"] <= tuning["after_dev"]["f1"]
    tuned_cfg = json.loads((smoke / "span" / "model-tuned" / "span_ner" / "cfg").read_text())
    assert tuned_cfg["thresholds"] == tuning["after"]["thresholds"]
    assert (smoke / "span" / "tuned_test_results.json").exists()
    for name in ("baseline", "span"):
        assert "int8_quantizer" in (smoke / name / "model-int8" / "config.cfg").read_text()
        assert json.loads((smoke / name / "int8_test_results.json").read_text())["test_metrics"]["gold"] > 100
    benchmark = json.loads((results / "benchmark.json").read_text())
    assert [r["model"] for r in benchmark["inference"]] == [
        "training/smoke/baseline/model-best", "training/smoke/span/model-best", "training/smoke/span/model-int8",
        "training/smoke/baseline/model-int8"]
    assert len(benchmark["training"]) == 2
    for name in ("training_curves.png", "per_type_f1.png", "tensorboard_scalars.csv"):
        assert (results / name).exists(), name
    # Nothing written where `all` keeps its own outputs.
    assert not (project / "training" / "baseline").exists() and not (project / "results" / "benchmark.json").exists()
