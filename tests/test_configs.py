"""Every shipped config validates and builds its pipeline through the entry points alone."""
from pathlib import Path

import pytest
from spacy import util

CONFIGS = sorted((Path(__file__).parent.parent / "configs").glob("*.cfg"))
# The configs compared on CoNLL-2003 share one budget; universal.cfg is the pretraining recipe.
COMPARED = [p for p in CONFIGS if p.name != "universal.cfg"]


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_config_builds(path):
    config = util.load_config(path)
    nlp = util.load_model_from_config(config, auto_fill=False, validate=True)
    assert nlp.pipe_names[0] == "transformer" and len(nlp.pipe_names) == 2
    assert config["components"]["transformer"]["model"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    if path in COMPARED:
        assert config["training"]["max_steps"] == 500
    else:
        assert config["training"]["batcher"]["@batchers"] == "spacy.batch_by_padded.v1"
        assert config["components"]["span_ner"]["training_type_texts"] == "variants"


def test_configs_share_the_training_budget():
    def budget(path):
        cfg = util.load_config(path)
        return (cfg["training"]["batcher"], cfg["training"]["optimizer"], cfg["training"]["max_steps"],
                cfg["components"]["transformer"])

    baseline = budget(Path(CONFIGS[0]).parent / "baseline_ner.cfg")
    assert all(budget(p) == baseline for p in COMPARED)
