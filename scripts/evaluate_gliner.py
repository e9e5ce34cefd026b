"""Score a saved GLiNER model with this project's scorer (exact character spans and types), on
the same test data as the pipelines: a model `compare-gliner` trained (results/gliner/gliner/model)
or one downloaded elsewhere (this machine has no hub access). Needs the `gliner` extra
(pip install -e ".[gliner]"); without it, or without the model, it says so in one line and
exits with status 1.

    python scripts/evaluate_gliner.py MODEL_DIR corpus/conll2003/test.spacy \
        --descriptions corpus/descriptions/conll2003.json --output results/gliner.json
"""
import sys
from pathlib import Path
from typing import Optional

import srsly
import typer

from spacy_ner_ext.corpus.descriptions import load_descriptions
from spacy_ner_ext.errors import UserInputError
from spacy_ner_ext.evaluation.evaluate import print_table
from spacy_ner_ext.experiments.gliner_comparison import read_docs, score_char_spans, type_prompts

app = typer.Typer(add_completion=False)


@app.command()
def main(
    model: Path = typer.Argument(..., help="Local folder of a saved GLiNER model"),
    data: Path = typer.Argument(..., help="Test data (.spacy)"),
    descriptions: Optional[Path] = typer.Option(None, help="Give GLiNER each type's description: {label: description} "
                                                "(default: its name in words)"),
    threshold: float = typer.Option(0.5, help="GLiNER's score threshold"),
    output: Path = typer.Option(Path("results/gliner.json"), help="JSON results"),
):
    from spacy_ner_ext.gliner_baseline.model import load_gliner, predict_char_spans, require_gliner

    require_gliner()
    if not data.is_file():
        raise UserInputError(f"{data}: no such file")
    gliner = load_gliner(model)
    references = read_docs(data)
    labels = sorted({e.label_ for doc in references for e in doc.ents})
    prompts = (type_prompts(labels, "descriptions", load_descriptions(descriptions, labels)) if descriptions
               else type_prompts(labels, "names"))
    predicted = predict_char_spans(gliner, [doc.text for doc in references], prompts, threshold=threshold, batch_size=32)
    result = score_char_spans(references, predicted)
    result["config"] = {"model": str(model), "data": str(data), "threshold": threshold, "labels": prompts}
    print_table(result, f"GLiNER {model} on {data}")
    output.parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(output, result)


if __name__ == "__main__":
    try:
        app(standalone_mode=False)
    except UserInputError as err:
        print(f"\u2718 evaluate_gliner: {err}", file=sys.stderr)
        sys.exit(1)
