"""Pretraining that is stopped goes on from its last checkpoint, counting its steps on."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import spacy
import srsly
from spacy.tokens import DocBin

from spacy_ner_ext.corpus.annotated_types import set_annotated_types
from spacy_ner_ext.tests.util import TRAIN_DATA, make_doc
from spacy_ner_ext.training.pretrain import PretrainSettings, find_checkpoint, pretrain

CONFIG = Path(__file__).parent.parent / "configs" / "universal.cfg"


@pytest.fixture
def tiny_mixture(tmp_path, tiny_transformer):
    nlp = spacy.blank("en")
    docs = []
    for i in range(24):
        words, ents = TRAIN_DATA[i % len(TRAIN_DATA)]
        doc = make_doc(nlp, words, [e for e in ents if i % 2 == 0 or e[2] != "ORG"])
        set_annotated_types(doc, ["PER", "ORG", "LOC"] if i % 2 == 0 else ["PER", "LOC"])
        docs.append(doc)
    DocBin(docs=docs, store_user_data=True).to_disk(tmp_path / "train.spacy")
    DocBin(docs=docs[:4], store_user_data=True).to_disk(tmp_path / "dev.spacy")
    srsly.write_json(tmp_path / "types.json", {"PER": ["A person.", "Names of people."], "ORG": ["A company."],
                                               "LOC": ["A place."]})
    return {"paths.train": str(tmp_path / "train.spacy"), "paths.dev": str(tmp_path / "dev.spacy"),
            "paths.descriptions": str(tmp_path / "types.json"), "components.transformer.model.name": str(tiny_transformer),
            "components.span_ner.model.hidden_width": 32, "training.batcher.size": 40}


def test_a_second_run_goes_on_from_the_checkpoint(tmp_path, tiny_mixture):
    out = tmp_path / "run"
    lines = []
    first = pretrain(CONFIG, out, tiny_mixture, PretrainSettings(max_steps=4, log_every=2), log=lines.append)
    assert first.step == 4 and first.runs == 1
    assert find_checkpoint(out) == out / "checkpoint"
    assert (out / "model-last" / "config.cfg").exists()
    # Progress lines give the step, words/s and the time left.
    assert any(l.startswith("step 2/4 ·") and "words/s" in l and "min left" in l for l in lines)
    lines.clear()
    second = pretrain(CONFIG, out, {}, PretrainSettings(max_steps=7, log_every=1), log=lines.append)
    assert second.step == 7 and second.runs == 2 and second.words > first.words
    assert lines[0].startswith(f"Going on from {out / 'checkpoint'} at step 4")
    restored = [l for l in lines if l.startswith("Restored the optimizer state of")]
    assert restored and int(restored[0].split()[5]) > 0
    assert [l.split(" ·")[0] for l in lines if l.startswith("step ")] == ["step 5/7", "step 6/7", "step 7/7"]
    assert srsly.read_json(out / "pretrain_summary.json")["step"] == 7


def test_the_data_order_is_a_shuffle_seeded_per_epoch_the_same_in_every_run():
    """What lets a resumed run skip the batches it already trained on."""
    from spacy_ner_ext.training.pretrain import epoch_batches

    batcher = spacy.registry.batchers.get("spacy.batch_by_words.v1")(size=12, tolerance=0.2, discard_oversize=False)
    examples = [(i,) * 3 for i in range(30)]  # an "example" of 3 words

    def order(seed, epoch):
        return [tuple(x[0] for x in batch) for batch in epoch_batches(examples, batcher, seed=seed, epoch=epoch)]

    assert order(0, 0) == order(0, 0)
    assert order(0, 0) != order(0, 1) and order(0, 0) != order(1, 0)
    assert sorted(i for batch in order(0, 0) for i in batch) == list(range(30))
    assert all(len(batch) == 4 for batch in order(0, 0)[:-1])


@pytest.mark.slow
def test_a_run_killed_by_sigkill_resumes_and_counts_its_steps_on(tmp_path, tiny_mixture):
    """The user's case: the command in a subprocess (default torch threads), killed without
    warning after its first checkpoint, then the same command again."""
    out = tmp_path / "run"
    overrides = [arg for key, value in tiny_mixture.items() for arg in (f"--{key}", str(value))]
    command = [sys.executable, "-m", "spacy_ner_ext", "pretrain", str(CONFIG), str(out), "--max-steps", "100000",
               "--checkpoint-minutes", "0.1", "--log-every", "1", *overrides]
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    log = (tmp_path / "first.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + 300
    while time.time() < deadline and not (out / "checkpoint" / "state.json").exists():
        assert process.poll() is None, (tmp_path / "first.log").read_text()
        time.sleep(0.5)
    time.sleep(2)  # a few steps past the checkpoint, which the resumed run trains again
    process.send_signal(signal.SIGKILL)
    process.wait()
    checkpoint = find_checkpoint(out)
    assert checkpoint is not None
    at = json.loads((checkpoint / "state.json").read_text())["step"]
    assert 0 < at < 100000
    result = subprocess.run(command[:7] + [str(at + 5)] + command[8:], capture_output=True,
                            text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Going on from {checkpoint} at step {at}" in result.stdout
    steps = [line.split(" ·")[0] for line in result.stdout.splitlines() if line.startswith("step ")]
    assert steps == [f"step {s}/{at + 5}" for s in range(at + 1, at + 6)]
    summary = srsly.read_json(out / "pretrain_summary.json")
    assert summary["step"] == at + 5 and summary["runs"] == 2
