"""Everything a config names is found through entry points, and pipelines saved by earlier
versions of the package keep loading."""
import ast
import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Doc

from spacy_ner_ext.tests.util import TRAIN_DATA

PACKAGE = Path(__file__).parent.parent / "spacy_ner_ext"
SAVED = Path(__file__).parent / "data" / "pipelines_0.1.0"


def registered_in_source(decorator: str):
    """Names given to @registry.<decorator>("...") anywhere in the package's source."""
    names = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf8"))):
            func = getattr(node, "func", None)
            if not (isinstance(node, ast.Call) and isinstance(func, ast.Attribute) and func.attr == decorator):
                continue
            owner = func.value
            if getattr(owner, "id", getattr(owner, "attr", None)) == "registry" and node.args \
                    and isinstance(node.args[0], ast.Constant):
                names.add(node.args[0].value)
    return names


@pytest.mark.parametrize("decorator,group", [
    ("losses", "thinc_losses"), ("architectures", "spacy_architectures"), ("readers", "spacy_readers"),
    ("loggers", "spacy_loggers"), ("scorers", "spacy_scorers"),
])
def test_every_registered_function_has_an_entry_point(decorator, group):
    """The registry reads entry points by group: thinc's `losses` registry reads `thinc_losses`
    (a `spacy_losses` group is never consulted)."""
    in_source = registered_in_source(decorator)
    assert in_source, f"no @registry.{decorator} found"
    listed = {ep.name for ep in entry_points(group=group)}
    assert in_source <= listed, f"registered but without an entry point in {group}: {sorted(in_source - listed)}"


@pytest.mark.slow
def test_a_loss_resolves_in_a_process_that_imported_nothing():
    code = """
import sys
from spacy.util import registry
assert not any(m.startswith("spacy_ner_ext") for m in sys.modules)
for name in ["spacy_ner_ext.focal.v1", "spacy_ner_ext.embedding_label_smoothing.v1", "spacy_ner_ext.span_bce.v1"]:
    registry.resolve({"loss": {"@losses": name}})
print("resolved")
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and "resolved" in result.stdout, result.stderr[-2000:]


@pytest.mark.parametrize("factory", ["span_ner", "contrastive_ner", "token_ner"])
def test_pipelines_saved_by_0_1_0_load_and_predict_the_same(factory):
    """Saved before the modules moved (tests/data/pipelines_0.1.0/README.md)."""
    expected = json.loads((SAVED / "expected.json").read_text())[factory]
    nlp = spacy.load(SAVED / factory)
    got = [[(e.start, e.end, e.label_, e._.ner_score) for e in nlp(Doc(nlp.vocab, words=words)).ents]
           for words, _ in TRAIN_DATA]
    assert [[tuple(e[:3]) for e in doc] for doc in got] == [[tuple(e[:3]) for e in doc] for doc in expected]
    assert [e[3] for doc in got for e in doc] == pytest.approx([e[3] for doc in expected for e in doc], abs=1e-4)
