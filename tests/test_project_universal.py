"""`spacy project run universal` end to end, as a small run: the mixture of three corpora, a
20-step pretraining on the packaged MiniLM, zero-shot scores on the five left-out datasets, the
export as universal weights."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
MIRROR = ROOT.parent / "shared" / "data"
LEFT_OUT = ["mit-restaurant", "bc5cdr", "ncbi-disease", "TweetNER7", "re3d"]


@pytest.mark.slow
@pytest.mark.skipif(not (MIRROR / "conll2003").exists(), reason="needs the data mirror in ../shared/data")
def test_universal_workflow_small_run(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    for name in ("project.yml", "configs", "scripts"):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, project / name)
    shutil.copytree(ROOT / "corpus" / "descriptions", project / "corpus" / "descriptions")
    env = dict(os.environ, SPACY_NER_EXT_DATA=str(MIRROR), HF_HUB_OFFLINE="1")
    command = [sys.executable, "-m", "spacy", "project", "run", "universal", ".", "--vars.universal_dir", "small",
               "--vars.universal_steps", "20", "--vars.universal_train_docs", "800", "--vars.universal_test_docs", "100",
               "--vars.universal_only", "conll2003,wikigold,wikiann"]
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    manifest = json.loads((project / "corpus" / "small" / "manifest.json").read_text())
    assert [s["dataset"] for s in manifest["sources"]] == ["conll2003", "wikigold", "wikiann"]  # in --only order
    assert manifest["train_docs"] == 800
    # BioRED goes with BC5CDR and NCBI-disease, which share its abstracts.
    assert set(manifest["left_out"]) == set(LEFT_OUT) | {"BioRED"}
    assert all(manifest["left_out_test_sets"][d]["docs"] == 100 for d in LEFT_OUT)
    summary = json.loads((project / "training" / "small" / "pretrain_summary.json").read_text())
    assert summary["step"] == 20 and summary["runs"] == 1
    assert "step 20/20" in result.stdout and "words/s" in result.stdout
    tuning = json.loads((project / "results" / "small" / "tuning.json").read_text())
    assert (project / "training" / "small" / "model-tuned" / "config.cfg").exists() and "after" in tuning
    table = json.loads((project / "results" / "small" / "zeroshot_summary.json").read_text())
    assert sorted(table["datasets"]) == sorted(LEFT_OUT)
    assert all(set(row) == {"descriptions", "names"} for row in table["datasets"].values())
    # The names run gives each type by its bare name.
    names = json.loads((project / "results" / "small" / "zeroshot" / "mit-restaurant-names.json").read_text())
    assert names["config"]["texts"]["Restaurant_Name"] == "restaurant name"
    # The export: weights for load_universal, with a card naming what they saw.
    card = json.loads((project / "training" / "small" / "weights" / "universal.json").read_text())
    assert [s["dataset"] for s in card["trained_on"]] == ["conll2003", "wikigold", "wikiann"]
    assert card["pretraining"]["step"] == 20
    # The recipe takes non-commercial corpora (the project's default), and none of these three is
    # one: the weights carry the package's licence.
    assert card["mixture"]["settings"]["exclude_non_commercial"] is False
    assert card["licence"] == "MIT" and card["commercial_use"] is True
    # Two trained layers of six: 32 of the transformer's tensors changed, none below layer 4.
    assert len(card["changed_tensors"]) == 32
    assert all(name.startswith(("encoder.layer.4.", "encoder.layer.5.")) for name in card["changed_tensors"])
