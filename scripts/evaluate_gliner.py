"""Score a GLiNER model with this project's scorer, on the same test data as the pipelines.

Needs the `gliner` package and a GLiNER model in a local folder (this machine has no hub
access). When either is missing it says so and exits with status 1.

    python scripts/evaluate_gliner.py MODEL_DIR corpus/conll2003/test.spacy \
        --descriptions corpus/descriptions/conll2003.json --output results/gliner.json
"""
import sys
from pathlib import Path
from typing import Optional

import spacy
import srsly
import typer
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from tqdm import tqdm

from spacy_ner_ext.evaluation.evaluate import print_table
from spacy_ner_ext.evaluation import score_entities

app = typer.Typer(add_completion=False)


def fail(message: str) -> None:
    typer.echo(f"evaluate_gliner: {message}", err=True)
    raise typer.Exit(1)


@app.command()
def main(
    model: Path = typer.Argument(..., help="Local folder of a GLiNER model"),
    data: Path = typer.Argument(..., help="Test data (.spacy)"),
    descriptions: Optional[Path] = typer.Option(None, help="Use these names as GLiNER's labels: {label: description}"),
    threshold: float = typer.Option(0.5, help="GLiNER's score threshold"),
    output: Path = typer.Option(Path("results/gliner.json"), help="JSON results"),
):
    try:
        from gliner import GLiNER
    except ImportError:
        fail("the 'gliner' package is not installed (pip install gliner); nothing was scored")
    if not model.is_dir():
        fail(f"no GLiNER model folder at {model}: download one where you have internet and pass its path")
    if not data.exists():
        fail(f"{data}: no such file")
    gliner = GLiNER.from_pretrained(str(model), local_files_only=True)
    nlp = spacy.blank("en")
    references = list(DocBin().from_disk(data).get_docs(nlp.vocab))
    labels = sorted({e.label_ for doc in references for e in doc.ents})
    # GLiNER matches label *names* against the text; a description's wording can be given instead.
    prompts = srsly.read_json(descriptions) if descriptions else {label: label for label in labels}
    to_label = {prompt: label for label, prompt in prompts.items() if label in labels}
    examples = []
    for ref in tqdm(references, desc="gliner", unit="doc"):
        doc = Doc(nlp.vocab, words=[t.text for t in ref], spaces=[bool(t.whitespace_) for t in ref])
        ents = []
        for ent in gliner.predict_entities(doc.text, list(to_label), threshold=threshold):
            span = doc.char_span(ent["start"], ent["end"], label=to_label[ent["label"]], alignment_mode="expand")
            if span is not None:
                ents.append(span)
        doc.ents = spacy.util.filter_spans(ents)
        examples.append(Example(doc, ref))
    result = score_entities(examples).to_dict()
    result["config"] = {"model": str(model), "data": str(data), "threshold": threshold, "labels": prompts}
    print_table(result, f"GLiNER {model} on {data}")
    output.parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(output, result)


if __name__ == "__main__":
    app()
    sys.exit(0)
