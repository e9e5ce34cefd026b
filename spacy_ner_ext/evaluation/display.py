"""A displaCy page of sample predictions beside the gold entities, with the errors marked."""
import html
from pathlib import Path
from typing import Iterable, Optional, Union

from spacy import displacy
from spacy.training import Example

from .metrics import entity_set

MISSED = "MISSED"
WRONG = "WRONG"


def _render(doc, spans, mark: Optional[set], tag: str) -> str:
    ents = []
    for start, end, label in sorted(spans):
        shown = label if mark is None or (start, end, label) not in mark else f"{label} {tag}"
        ents.append({"start": doc[start].idx, "end": doc[end - 1].idx + len(doc[end - 1]), "label": shown})
    labels = {e["label"] for e in ents}
    colors = {label: "#f4a6a6" for label in labels if label.endswith(f" {tag}")}
    return displacy.render({"text": doc.text, "ents": ents}, style="ent", manual=True,
                           options={"colors": colors})


def render_examples(examples: Iterable[Example], limit: int = 50, spans_key: Optional[str] = None) -> str:
    """An HTML page: for each example, gold (missed entities marked) above predicted
    (wrong entities marked). Examples with errors come first."""
    rows = []
    for example in examples:
        gold, pred = entity_set(example, spans_key)
        rows.append((len(gold ^ pred) == 0, example, gold, pred))
    rows.sort(key=lambda r: r[0])
    parts = []
    for i, (correct, example, gold, pred) in enumerate(rows[:limit]):
        ref = example.reference
        status = "correct" if correct else f"{len(gold - pred)} missed, {len(pred - gold)} wrong"
        parts.append(
            f"<section><h3>Example {i + 1} &middot; {html.escape(status)}</h3>"
            f"<p><b>Gold</b></p>{_render(ref, gold, gold - pred, MISSED)}"
            f"<p><b>Predicted</b></p>{_render(ref, pred, pred - gold, WRONG)}</section><hr>"
        )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>NER predictions</title></head>"
        "<body style='font-family: sans-serif; max-width: 1100px; margin: auto'>"
        f"<h1>Predictions beside gold entities</h1><p>Entities marked {MISSED} are gold entities "
        f"the pipeline did not predict; {WRONG} marks predictions that are not in the gold data.</p>"
        + "".join(parts) + "</body></html>"
    )


def write_page(examples: Iterable[Example], path: Union[str, Path], limit: int = 50, spans_key: Optional[str] = None) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(render_examples(examples, limit, spans_key), encoding="utf8")
