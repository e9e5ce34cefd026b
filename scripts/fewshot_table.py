"""The few-shot table of one dataset from the JSON files `python -m spacy_ner_ext fewshot` writes:
F1 mean and std over seeds per config and K, and each config's gap to a baseline config on the
same samples. Runs split over several files (one per seed, so that a stop loses one run at most)
are merged; a seed given twice for a config and K is refused, unless --rerun-replaces: then a
run of a later file replaces the earlier files' run of the same config, K and seed (one config
rerun on the same samples, after the universal weights changed, say).

    python scripts/fewshot_table.py results/fewshot_bc5cdr-k10-seed*.json --output results/fewshot_bc5cdr.json
"""
from pathlib import Path
from typing import List

import srsly
import typer
from wasabi import msg

from spacy_ner_ext.errors import UserInputError
from spacy_ner_ext.experiments.fewshot import summarize_runs


def main(results: List[Path] = typer.Argument(..., exists=True, dir_okay=False, help="fewshot JSON results"),
         output: Path = typer.Option(..., dir_okay=False, help="Merged runs and summary (JSON)"),
         baseline: str = typer.Option("configs/baseline_ner.cfg", help="Config the others are compared with"),
         rerun_replaces: bool = typer.Option(False, "--rerun-replaces",
                                             help="A later file's run replaces an earlier file's of the same "
                                                  "config, K and seed")):
    runs, steps = [], set()
    for path in results:
        result = srsly.read_json(path)
        if not isinstance(result, dict) or "runs" not in result:
            msg.fail(f"{path}: not a fewshot result (no 'runs')", exits=1)
        if rerun_replaces:
            rerun = {(run["config"], run["k"], run["seed"]) for run in result["runs"]}
            runs = [run for run in runs if (run["config"], run["k"], run["seed"]) not in rerun]
        runs.extend(dict(run, source=str(path)) for run in result["runs"])
        steps.add(result.get("steps"))
    if len(steps) > 1:
        msg.fail(f"{', '.join(map(str, results))}: runs of different step budgets {sorted(map(str, steps))}", exits=1)
    try:
        summary = summarize_runs(runs)
    except UserInputError as error:
        msg.fail(str(error), exits=1)
    base = {row["k"]: row["f1_mean"] for row in summary if row["config"] == baseline}
    for row in summary:
        row["vs_baseline"] = row["f1_mean"] - base[row["k"]] if row["k"] in base else None
    msg.table([(row["config"], row["k"], row["seeds"], f"{100 * row['f1_mean']:.2f}", f"{100 * row['f1_std']:.2f}",
                "-" if row["vs_baseline"] is None else f"{100 * row['vs_baseline']:+.2f}") for row in summary],
              header=("config", "K", "seeds", "F1 mean", "F1 std", f"vs {Path(baseline).stem}"), divider=True,
              max_col=80)
    output.parent.mkdir(parents=True, exist_ok=True)
    srsly.write_json(output, {"steps": steps.pop(), "baseline": baseline, "runs": runs, "summary": summary})
    msg.good(f"Written to {output}")


if __name__ == "__main__":
    typer.run(main)
