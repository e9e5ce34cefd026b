"""Saved by spacy-ner-ext 0.1.0 at commit 7a9162e (before the package layout moved), so that a
test can show that pipelines saved then still load and predict the same after it."""
import json, sys, tempfile
from pathlib import Path
sys.path.insert(0, ".")
import spacy
from spacy.tokens import Doc
from tests.util import make_tiny_transformer, build_pipeline, train_pipeline, TRAIN_DATA

out = Path("tests/data/pipelines_0.1.0")
out.mkdir(parents=True, exist_ok=True)
tmp = Path(tempfile.mkdtemp())
tiny = str(make_tiny_transformer(tmp))
expected = {}
for factory, cfg in [("span_ner", {"model": {"hidden_width": 16, "max_span_length": 4}}),
                     ("contrastive_ner", {"model": {"hidden_width": 16}}),
                     ("token_ner", {"model": {"hidden_width": 16}})]:
    nlp = build_pipeline(tiny, factory, cfg)
    train_pipeline(nlp, 40)
    nlp.to_disk(out / factory)
    expected[factory] = [[(e.start, e.end, e.label_, round(e._.ner_score, 5)) for e in nlp(Doc(nlp.vocab, words=w)).ents]
                         for w, _ in TRAIN_DATA]
(out / "expected.json").write_text(json.dumps(expected, indent=1))
print(expected)
