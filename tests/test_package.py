"""`spacy package` turns a trained pipeline into a wheel that installs and loads with spacy.load."""
import os
import shutil
import subprocess
import sys

import pytest
from spacy.tokens import Doc

from spacy_ner_ext.tests.util import TRAIN_DATA, build_pipeline, train_pipeline


def package_install_and_run(pipeline, tmp_path, name: str, code: str) -> str:
    """`spacy package` the pipeline as a wheel, install it into a folder of its own, and run
    `code` (which loads it by package name) in a fresh process; its standard output."""
    (tmp_path / "packages").mkdir()
    run = lambda *args, **kw: subprocess.run(args, capture_output=True, text=True, **kw)  # noqa: E731
    result = run(sys.executable, "-m", "spacy", "package", str(pipeline), str(tmp_path / "packages"),
                 "--name", name, "--version", "0.0.1", "--build", "wheel", "--force")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (wheel,) = (tmp_path / "packages").glob("*/dist/*.whl")
    result = run(sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(tmp_path / "site"), str(wheel))
    assert result.returncode == 0, result.stderr[-2000:]
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "site"), HF_HUB_OFFLINE="1")
    result = run(sys.executable, "-c", code, env=env, cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.slow
def test_spacy_package_wheel_installs_and_loads(tiny_transformer, tmp_path):
    nlp = build_pipeline(tiny_transformer, "span_ner", {"model": {"hidden_width": 32, "max_span_length": 4}})
    train_pipeline(nlp, 60)
    nlp.to_disk(tmp_path / "pipeline")
    expected = [(e.text, e.label_) for e in nlp(Doc(nlp.vocab, words=TRAIN_DATA[0][0])).ents]
    assert expected

    words = " ".join(TRAIN_DATA[0][0])
    code = ("import spacy; nlp = spacy.load('en_ner_ext_test'); "
            f"print([(e.text, e.label_) for e in nlp({words!r}).ents])")
    assert package_install_and_run(tmp_path / "pipeline", tmp_path, "ner_ext_test", code).strip() == str(expected)


@pytest.mark.slow
def test_spacy_package_takes_a_universal_pipeline(tiny_transformer, tmp_path):
    import spacy
    from transformers import BertModel

    from spacy_ner_ext.universal.shipped_weights import export_weights
    from spacy_ner_ext.universal.tests.test_universal_weights import SPAN, universal_config

    trained = build_pipeline(tiny_transformer, "span_ner", dict(SPAN, threshold=0.3))
    train_pipeline(trained, 60)
    export_weights(trained, tmp_path / "weights", base=BertModel.from_pretrained(tiny_transformer))
    nlp = spacy.blank("en")
    # The texts the tiny model was trained on: its labels, as initialize described them.
    trained_on = {label: label for label in ("PER", "LOC", "ORG")}
    nlp.add_pipe("universal_ner", config=universal_config(tiny_transformer, tmp_path / "weights", labels=trained_on))
    nlp.to_disk(tmp_path / "pipeline")
    words = " ".join(TRAIN_DATA[0][0])
    expected = [(e.text, e.label_, round(e._.ner_score, 4)) for e in nlp(words).ents]
    assert expected
    # The wheel carries the weights: the folder they came from is not on the machine it goes to.
    shutil.rmtree(tmp_path / "weights")

    code = ("import spacy; nlp = spacy.load('en_universal_test'); "
            f"print([(e.text, e.label_, round(e._.ner_score, 4)) for e in nlp({words!r}).ents])")
    out = package_install_and_run(tmp_path / "pipeline", tmp_path, "universal_test", code)
    assert out.strip().splitlines()[-1] == str(expected)
