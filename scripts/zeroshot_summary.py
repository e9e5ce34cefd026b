"""The zero-shot table of the universal recipe: test F1 per left-out dataset, its types given as
descriptions and as bare names, and the average over the datasets, from the JSON files that
`python -m spacy_ner_ext zeroshot` writes (<dataset>-descriptions.json, <dataset>-names.json)."""
from pathlib import Path

import srsly
import typer
from wasabi import msg


def main(folder: Path = typer.Argument(..., exists=True, file_okay=False, help="Folder of zeroshot JSON results"),
         output: Path = typer.Option(..., dir_okay=False, help="Summary JSON")):
    rows = {}
    for path in sorted(folder.glob("*.json")):
        dataset, _, given_as = path.stem.rpartition("-")
        if given_as not in ("descriptions", "names"):
            continue
        result = srsly.read_json(path)
        metrics = result["test_metrics"]
        rows.setdefault(dataset, {})[given_as] = {"f1": round(100 * metrics["f1"], 2),
                                                  "p": round(100 * metrics["precision"], 2),
                                                  "r": round(100 * metrics["recall"], 2),
                                                  "per_type_f1": {t: round(100 * s["f1"], 2) for t, s in
                                                                  result.get("per_type", {}).items()}}
    if not rows:
        msg.fail(f"{folder}: no <dataset>-descriptions.json or <dataset>-names.json results", exits=1)
    average = {given_as: round(sum(r[given_as]["f1"] for r in rows.values() if given_as in r)
                               / max(1, sum(given_as in r for r in rows.values())), 2)
               for given_as in ("descriptions", "names")}
    msg.table([(d, r.get("descriptions", {}).get("f1", "-"), r.get("names", {}).get("f1", "-")) for d, r in rows.items()]
              + [("average", average["descriptions"], average["names"])],
              header=("left-out dataset", "F1, descriptions", "F1, names"), divider=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(output, {"datasets": rows, "average_f1": average})
    msg.good(f"Written to {output}")


if __name__ == "__main__":
    typer.run(main)
