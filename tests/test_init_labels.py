"""spaCy's own route for labels: `spacy init labels` writes each component's label_data, and
`[initialize.components.<name>.labels]` reads it back, descriptions included."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import spacy
from spacy.tokens import DocBin

from spacy_ner_ext.tests.util import TRAIN_DATA, make_doc

CONFIGS = Path(__file__).parent.parent / "configs"


@pytest.mark.slow
@pytest.mark.parametrize("config,component", [("span.cfg", "span_ner"), ("contrastive.cfg", "contrastive_ner"),
                                              ("crf.cfg", "token_ner")])
def test_init_labels_then_train_from_them(tiny_transformer, tmp_path, config, component):
    nlp = spacy.blank("en")
    DocBin(docs=[make_doc(nlp, w, e) for w, e in TRAIN_DATA]).to_disk(tmp_path / "train.spacy")
    descriptions = {"PER": "People, by their names.", "LOC": "Places on a map.", "ORG": "Companies and agencies."}
    (tmp_path / "descriptions.json").write_text(json.dumps(descriptions))
    common = ["--paths.train", str(tmp_path / "train.spacy"), "--paths.dev", str(tmp_path / "train.spacy"),
              "--components.transformer.model.name", tiny_transformer,
              "--components.transformer.model.get_spans.window", "32",
              "--components.transformer.model.get_spans.stride", "24"]
    described = component != "token_ner"
    run = lambda *args: subprocess.run([sys.executable, "-m", "spacy", *args], capture_output=True, text=True)  # noqa
    result = run("init", "labels", str(CONFIGS / config), str(tmp_path / "labels"), *common,
                 *(["--paths.descriptions", str(tmp_path / "descriptions.json")] if described else []))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    written = json.loads((tmp_path / "labels" / f"{component}.json").read_text())
    assert (written == descriptions) if described else (sorted(written) == ["LOC", "ORG", "PER"])

    # Train with the labels file alone (no descriptions file), named in the config as the
    # spaCy docs show it.
    cfg = spacy.util.load_config(CONFIGS / config, interpolate=False)
    cfg["initialize"]["components"].setdefault(component, {})["labels"] = {
        "@readers": "spacy.read_labels.v1", "path": str(tmp_path / "labels" / f"{component}.json")}
    cfg.to_disk(tmp_path / "with_labels.cfg")
    result = run("train", str(tmp_path / "with_labels.cfg"), "--output", str(tmp_path / "out"), *common,
                 *(["--paths.descriptions", "null"] if described else []),
                 "--training.max_steps", "2", "--training.eval_frequency", "1",
                 "--training.logger", json.dumps({"@loggers": "spacy.ConsoleLogger.v3"}))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    pipe = spacy.load(tmp_path / "out" / "model-last").get_pipe(component)
    assert sorted(pipe.labels) == ["LOC", "ORG", "PER"]
    if described:
        assert pipe.descriptions == descriptions
