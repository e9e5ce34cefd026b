"""Zero-shot scores of a pretrained pipeline on every dataset its mixture left out (the
`--leave-out`s build-mixture was given, from its manifest.json): each dataset's types given as
descriptions and as bare names (`python -m spacy_ner_ext zeroshot`), then the table
(scripts/zeroshot_summary.py). A mixture that left nothing out (trained on everything) has
nothing to score zero-shot: the summary says so."""
import subprocess
import sys
from pathlib import Path

import srsly
import typer
from wasabi import msg


def main(model: Path = typer.Argument(..., exists=True, file_okay=False, help="The pretrained (tuned) pipeline"),
         mixture: Path = typer.Argument(..., exists=True, file_okay=False, help="The mixture's folder (manifest.json, left_out/)"),
         descriptions: Path = typer.Option(Path("corpus/descriptions"), exists=True, file_okay=False,
                                           help="Folder of <dataset>.json descriptions"),
         results: Path = typer.Option(..., file_okay=False, help="Folder for <dataset>-descriptions.json and -names.json"),
         summary: Path = typer.Option(..., dir_okay=False, help="The summary JSON"),
         gpu_id: int = typer.Option(-1, help="GPU id, -1 for CPU")):
    manifest = srsly.read_json(mixture / "manifest.json")
    asked = manifest["settings"]["leave_out"]
    if not asked:
        summary.parent.mkdir(parents=True, exist_ok=True)
        srsly.write_json(summary, {"datasets": {}, "average_f1": None,
                                   "note": "the mixture left no dataset out: nothing to score zero-shot"})
        msg.info(f"{mixture} left no dataset out: no zero-shot scores ({summary})")
        return
    for dataset in asked:
        test = Path(manifest["left_out_test_sets"][dataset]["path"])
        if not test.is_absolute() and not test.exists():
            test = mixture / "left_out" / dataset / "test.spacy"
        for given_as, flag in (("descriptions", []), ("names", ["--as-names"])):
            command = [sys.executable, "-m", "spacy_ner_ext", "zeroshot", str(model), str(test),
                       "--descriptions", str(descriptions / f"{dataset}.json"), "--gpu-id", str(gpu_id),
                       "--output", str(results / f"{dataset}-{given_as}.json"), *flag]
            if subprocess.run(command).returncode != 0:
                sys.exit(1)
    sys.exit(subprocess.run([sys.executable, str(Path(__file__).parent / "zeroshot_summary.py"), str(results),
                             "--output", str(summary)]).returncode)


if __name__ == "__main__":
    typer.run(main)
