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
    for name in ("baseline", "span"):
        scores = json.loads((project / "training" / "smoke" / name / "test_results.json").read_text())
        assert scores["test_metrics"]["gold"] > 100
        assert set(scores["per_type"]) <= {"PER", "ORG", "LOC", "MISC"}
        log = [json.loads(line) for line in (project / "training" / "smoke" / name / "training_log.jsonl").open()]
        assert log[-1]["step"] > 0 and log[-1]["train_words_per_second"] > 0
        assert (project / "training" / "smoke" / name / "run.log").exists()
        assert list((project / "training" / "smoke" / name / "tensorboard").glob("events.out.tfevents.*"))
    smoke = project / "training" / "smoke"
    assert (smoke / "span" / "predictions.html").exists() and (smoke / "span" / "report.html").exists()
    assert (smoke / "training_curves.png").exists() and (smoke / "per_type_f1.png").exists()
