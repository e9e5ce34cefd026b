"""Annotate on a simulated two-node Ray cluster, one node killed mid-run; writes what came out.

    python scripts/simulate_cluster.py MODEL corpus/annotate_bench results/cluster_simulation.json
"""
import json
import tempfile
from pathlib import Path

import typer

from spacy_ner_ext.experiments.cluster_simulation import simulate


def main(model: str, input_path: Path = typer.Argument(..., exists=True, file_okay=False),
         output: Path = typer.Argument(..., dir_okay=False), records_per_unit: int = 2000, batch_size: int = 64,
         kill_after_units: int = 2):
    with tempfile.TemporaryDirectory() as tmp:
        result = simulate(model, input_path, Path(tmp) / "annotated", records_per_unit, batch_size, kill_after_units)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "log_tail"}, indent=1))
    if result["returncode"] != 0 or result.get("duplicated") or result.get("missing"):
        raise SystemExit(1)


if __name__ == "__main__":
    typer.run(main)
