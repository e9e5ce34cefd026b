"""The universal model as the package ships it: its files within the size cap and their card,
and, in a fresh process as a user runs it (HF_HUB_OFFLINE=1, torch's default threads): it loads,
finds a person and a disease given only their descriptions, reloads after to_disk with the same
predictions, goes into a blank pipeline by add_pipe, and annotate takes it. A few-shot run starts
from it."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import spacy

from spacy_ner_ext.universal.shipped_weights import FILES, WEIGHTS_DIR, read_card
from spacy_ner_ext.tests.util import make_doc, TRAIN_DATA

ROOT = Path(__file__).parent.parent
# Never trained on: the project's independent check, and the zero-shot datasets of the recipe.
NEVER = {"CrossNER", "MIT Movie", "mit-movie", "WNUT-17", "wnut17", "mit-restaurant", "bc5cdr", "ncbi-disease",
         "BioRED", "TweetNER7", "re3d"}


def test_shipped_files_fit_the_cap_and_name_what_they_saw():
    sizes = {name: (WEIGHTS_DIR / name).stat().st_size for name in FILES}
    assert sum(sizes.values()) <= 10_000_000, sizes  # the cap: 10 MB
    card = read_card()
    seen = [s["dataset"] for s in card["trained_on"]]
    assert len(seen) >= 30 and not NEVER & set(seen)
    # The licence follows what the weights saw: some of their corpora forbid commercial use, so
    # the card (and the README) say the weights are non-commercial.
    non_commercial = {s["dataset"] for s in card["trained_on"] if s["non_commercial"]}
    assert non_commercial >= {"MultiNERD", "pile-ner-slimer"}
    assert card["licence"] == "CC BY-NC-SA 4.0" and card["commercial_use"] is False
    readme = (ROOT / "README.md").read_text()
    assert "CC BY-NC-SA 4.0" in readme[:readme.index("## What is here")]
    assert set(card["mixture"]["left_out"]) >= {"mit-restaurant", "bc5cdr", "ncbi-disease", "TweetNER7", "re3d"}
    # Two top layers of MiniLM's six trained, and nothing else of the transformer.
    assert card["changed_tensors"] and all(n.startswith(("encoder.layer.4.", "encoder.layer.5."))
                                           for n in card["changed_tensors"])
    assert (WEIGHTS_DIR / "MODEL_CARD.md").read_text().count("| ") > len(seen)


def user_env():
    """A user's environment: torch's default threads (not the tests' one), no hub."""
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env["HF_HUB_OFFLINE"] = "1"
    return env


USER_RUN = r"""
import json, sys, spacy, spacy_ner_ext
nlp = spacy_ner_ext.load_universal({"person": "the name of a person",
                                    "disease": "a disease, disorder or syndrome"})
text = "Marie Curie died in 1934 of aplastic anaemia, a disease of the bone marrow."
doc = nlp(text)
nlp.to_disk(sys.argv[1])
again = spacy.load(sys.argv[1])(text)
blank = spacy.blank("en")
blank.add_pipe("universal_ner", config={"labels": ["person", "disease"]})
print(json.dumps({
    "ents": [(e.text, e.label_) for e in doc.ents], "scores": [e._.ner_score for e in doc.ents],
    "reloaded": [(e.text, e.label_) for e in again.ents], "reloaded_scores": [e._.ner_score for e in again.ents],
    "pipe_names": blank.pipe_names, "by_name": [(e.text, e.label_) for e in blank(text).ents],
}))
"""


@pytest.mark.slow
def test_a_user_finds_types_by_description_in_a_fresh_process(tmp_path):
    env = user_env()
    result = subprocess.run([sys.executable, "-c", USER_RUN, str(tmp_path / "saved")], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    out = json.loads(result.stdout.strip().splitlines()[-1])
    # A person and a disease, each given only by its description.
    assert ["Marie Curie", "person"] in out["ents"] and ["aplastic anaemia", "disease"] in out["ents"]
    assert out["reloaded"] == out["ents"] and out["reloaded_scores"] == pytest.approx(out["scores"], abs=1e-6)
    assert out["pipe_names"] == ["universal_ner"] and ["Marie Curie", "person"] in out["by_name"]
    # annotate takes the saved pipeline, with the types to find.
    (tmp_path / "in.jsonl").write_text(json.dumps({"id": 1, "text": "Ada Lovelace had measles as a child."}) + "\n")
    command = [sys.executable, "-m", "spacy_ner_ext", "annotate", str(tmp_path / "saved"), str(tmp_path / "in.jsonl"),
               str(tmp_path / "out"), "--labels", "person,disease"]
    result = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    (shard,) = [p for p in (tmp_path / "out").glob("*.jsonl") if p.name != "errors.jsonl"]
    (record,) = [json.loads(line) for line in shard.read_text().splitlines()]
    assert ("Ada Lovelace", "person") in {(e["text"], e["label"]) for e in record["entities"]}


@pytest.mark.slow
def test_a_few_shot_run_starts_from_the_universal_weights():
    from spacy_ner_ext.experiments.fewshot import run_fewshot

    nlp = spacy.blank("en")
    docs = [make_doc(nlp, words, ents) for words, ents in TRAIN_DATA]
    configs = [ROOT / "configs" / "span_from_universal.cfg", ROOT / "configs" / "span.cfg"]
    # Two steps at the warm-up's first learning rates: what each run knows is where it started.
    results = run_fewshot(configs, docs, docs, ks=[1], seeds=[0], steps=2, overrides={},
                          descriptions=ROOT / "corpus" / "descriptions" / "conll2003.json")
    f1 = {Path(r["config"]).name: r["f1"] for r in results["runs"]}
    # The pretrained model knows persons, places and organizations; MiniLM with new heads does not.
    assert f1["span_from_universal.cfg"] > 0.5 > f1["span.cfg"] + 0.3, f1


@pytest.mark.slow
def test_the_readme_snippet_prints_what_the_readme_says(tmp_path):
    """The issue's "done when": on a fresh install, the README's three lines find the types named."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Find the types you name"):]
    block = section[section.index("```python\n") + len("```python\n"):section.index("```\n", section.index("```python"))]
    code = [line for line in block.splitlines() if line and not line.startswith("#")]
    (promised,) = [line[2:] for line in block.splitlines() if line.startswith("# [")]
    assert len(code) == 3, code
    env = user_env()
    result = subprocess.run([sys.executable, "-c", "\n".join(code)], env=env, cwd=tmp_path, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == promised
