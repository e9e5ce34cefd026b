"""Speed of the shipped universal pipeline with 8, 64 and 512 entity types on the same texts,
beside a spaCy `ner` pipeline: `python -m spacy_ner_ext benchmark` (words/s and peak RSS, each
pipeline in its own process) on copies of `load_universal(...)` saved with that many types
(names drawn from a types file, e.g. the mixture's types.json). The types are embedded once,
when they are set, so what grows with them is only the scorer's last product."""
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List

import srsly
import typer


def main(baseline: Path = typer.Argument(..., exists=True, file_okay=False, help="A spaCy ner pipeline to compare with"),
         data: Path = typer.Option(..., exists=True, dir_okay=False, help="Texts (.spacy)"),
         types: Path = typer.Option(..., exists=True, dir_okay=False, help="JSON whose keys are type names"),
         count: List[int] = typer.Option([8, 64, 512], help="Numbers of types"),
         max_words: int = typer.Option(0, help="At most this many words (0: all)"),
         output: Path = typer.Option(Path("results/universal_speed.json"), dir_okay=False)):
    from spacy_ner_ext import load_universal

    names = list(srsly.read_json(types))
    if max(count) > len(names):
        sys.exit(f"{types}: {len(names)} types, fewer than {max(count)}")
    with tempfile.TemporaryDirectory() as tmp:
        pipelines = []
        for n in count:
            path = Path(tmp) / f"universal-{n}-types"
            load_universal(names[:n]).to_disk(path)
            pipelines.append(str(path))
        command = [sys.executable, "-m", "spacy_ner_ext", "benchmark", str(baseline), *pipelines, "--data", str(data),
                   "--output", str(output), "--max-words", str(max_words)]
        sys.exit(subprocess.run(command).returncode)


if __name__ == "__main__":
    typer.run(main)
