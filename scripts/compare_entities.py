"""Entities of two pipelines side by side on a .spacy file (an ONNX or int8 copy beside its float
original), as JSON.

    python scripts/compare_entities.py training/span/model-best training/span/model-onnx \
        corpus/conll2003/test.spacy results/onnx_agreement.json
"""
import json
from pathlib import Path

import typer

from spacy_ner_ext.experiments.prediction_agreement import entity_agreement


def main(model_a: str, model_b: str, data: Path = typer.Argument(..., exists=True, dir_okay=False),
         output: Path = typer.Argument(..., dir_okay=False)):
    result = entity_agreement(model_a, model_b, data)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    typer.run(main)
