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
    # A 7-step schedule, stopped after 4 steps (as a kill would stop it), then run again.
    schedule = dict(tiny_mixture, **{"training.max_steps": 7})
    first = pretrain(CONFIG, out, schedule, PretrainSettings(max_steps=4, log_every=2), log=lines.append)
    assert first.step == 4 and first.runs == 1
    assert find_checkpoint(out) == out / "checkpoint"
    assert (out / "model-last" / "config.cfg").exists()
    # Progress lines give the step, words/s and the time left.
    assert any(l.startswith("step 2/4 ·") and "words/s" in l and "min left" in l for l in lines)
    lines.clear()
    second = pretrain(CONFIG, out, {}, PretrainSettings(max_steps=7, log_every=1), log=lines.append)
    assert second.step == 7 and second.runs == 2
    assert lines[0].startswith(f"Going on from {out / 'checkpoint'} at step 4")
    restored = [l.split() for l in lines if l.startswith("Restored the optimizer state of")]
    assert restored and restored[0][5] == restored[0][7] and int(restored[0][5]) > 0  # "N of N parameters"
    assert [l.split(" ·")[0] for l in lines if l.startswith("step ")] == ["step 5/7", "step 6/7", "step 7/7"]
    # The same batches and learning rate as one run of 7 steps: the resumed run skipped the
    # batches it had trained on and took the schedule up where it stopped.
    straight = pretrain(CONFIG, tmp_path / "straight", schedule, PretrainSettings(max_steps=7, log_every=7),
                        log=lambda line: None)
    assert second.words == straight.words and second.epoch == straight.epoch
    assert second.learn_rate == pytest.approx(straight.learn_rate)
    assert srsly.read_json(out / "pretrain_summary.json")["step"] == 7


def test_a_resumed_run_refuses_other_data_and_steps_past_its_schedule(tmp_path, tiny_mixture):
    from spacy_ner_ext.errors import UserInputError

    out = tmp_path / "run"
    pretrain(CONFIG, out, tiny_mixture, PretrainSettings(max_steps=2, log_every=2), log=lambda line: None)
    with pytest.raises(UserInputError, match="learning-rate schedule of 2 steps"):
        pretrain(CONFIG, out, {}, PretrainSettings(max_steps=5), log=lambda line: None)
    train = Path(tiny_mixture["paths.train"])
    train.write_bytes(train.read_bytes() + b"")  # the same bytes, a new modification time
    import os

    os.utime(train, ns=(train.stat().st_atime_ns, train.stat().st_mtime_ns + 10**9))
    with pytest.raises(UserInputError, match="trained on other corpus files"):
        pretrain(CONFIG, out, {}, PretrainSettings(max_steps=2), log=lambda line: None)


def test_a_checkpoint_swap_killed_halfway_leaves_a_complete_checkpoint(tmp_path, tiny_mixture):
    from spacy_ner_ext.training.pretrain import CHECKPOINT, STATE

    out = tmp_path / "run"
    pretrain(CONFIG, out, dict(tiny_mixture, **{"training.max_steps": 4}), PretrainSettings(max_steps=2),
             log=lambda line: None)
    # Killed after the new checkpoint was written, before it was renamed into place: the old
    # one moved aside, the new one complete beside it.
    (out / CHECKPOINT).rename(out / (CHECKPOINT + ".new"))
    assert find_checkpoint(out) == out / (CHECKPOINT + ".new")
    # A half-deleted folder (its state removed first) is never taken.
    (out / (CHECKPOINT + ".new") / STATE).rename(tmp_path / "state.json")
    assert find_checkpoint(out) is None
    (tmp_path / "state.json").rename(out / (CHECKPOINT + ".new") / STATE)
    state = pretrain(CONFIG, out, {}, PretrainSettings(max_steps=4), log=lambda line: None)
    assert state.step == 4 and find_checkpoint(out) == out / CHECKPOINT
    assert not (out / (CHECKPOINT + ".new")).exists() and not (out / (CHECKPOINT + ".old")).exists()


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


@pytest.mark.slow
def test_benchmark_pretraining_measures_each_lever_in_its_own_process(tmp_path, tiny_mixture):
    from spacy_ner_ext.experiments.pretrain_levers import measure_levers

    result = measure_levers(CONFIG, ["recipe", "max_span_length 12"], steps=3, base_overrides=tiny_mixture,
                            workdir=tmp_path, log=lambda line: None)
    rows = {r["lever"]: r for r in result["levers"]}
    assert set(rows) == {"recipe", "max_span_length 12"}
    assert all(r["steps"] == 3 and r["words"] > 0 and r["peak_rss_mb"] > 100 for r in rows.values())
    assert rows["recipe"]["speed_vs_recipe"] == 1.0
    # Each ran with its own setting: the saved pipeline says so.
    cfg = (tmp_path / "max_span_length_12" / "model-last" / "config.cfg").read_text()
    assert "max_span_length = 12" in cfg
