"""A one-page HTML report of a training run: config, scores, plots and displaCy sample."""
import base64
import os
import html
from pathlib import Path
from typing import Optional, Union

from ..errors import UserInputError
from .metrics import read_test_results

PathLike = Union[str, Path]


def _image(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"<img alt='{html.escape(path.name)}' style='max-width:100%' src='data:image/png;base64,{data}'>"


def _scores_table(results: dict) -> str:
    rows = [(t, s) for t, s in results["per_type"].items()]
    m = results["test_metrics"]
    rows.append(("micro", {"gold": m["gold"], "predicted": m["predicted"], "correct": m["correct"],
                           "precision": m["precision"], "recall": m["recall"], "f1": m["f1"]}))
    body = "".join(
        f"<tr><td>{html.escape(t)}</td><td>{s['gold']}</td><td>{s['predicted']}</td><td>{s['correct']}</td>"
        f"<td>{100 * s['precision']:.2f}</td><td>{100 * s['recall']:.2f}</td><td>{100 * s['f1']:.2f}</td></tr>"
        for t, s in rows
    )
    return ("<table border='1' cellpadding='4' style='border-collapse:collapse'><tr><th>type</th><th>gold</th>"
            "<th>predicted</th><th>correct</th><th>P</th><th>R</th><th>F1</th></tr>" + body +
            f"</table><p>Macro F1: {100 * m['macro_f1']:.2f}</p>")


def write_report(run_dir: PathLike, output: Optional[PathLike] = None) -> Path:
    """Reads what a run left in its folder (config.cfg or model-best/config.cfg,
    test_results.json, *.png, predictions.html) and writes report.html beside it."""
    run_dir = Path(run_dir)
    output = Path(output) if output else run_dir / "report.html"
    parts = [f"<h1>Training run: {html.escape(run_dir.name)}</h1>"]
    results_path = run_dir / "test_results.json"
    if results_path.exists():
        results = read_test_results(results_path)
        speed = results.get("speed", {})
        parts.append("<h2>Scores on the test set</h2>" + _scores_table(results))
        calibration = results.get("calibration")
        if calibration:
            parts.append(f"<p>Expected calibration error of the entity scores: {100 * calibration['ece']:.2f} "
                         f"({calibration['entities']} predicted entities, {calibration['n_bins']} score bins; "
                         f"0 would mean that entities scored p are right with probability p).</p>")
        if speed:
            parts.append(f"<p>{speed['words']} words in {speed['seconds']} s: "
                         f"{speed['words_per_second']} words per second.</p>")
    for png in sorted(run_dir.glob("*.png")):
        parts.append(f"<h2>{html.escape(png.stem.replace('_', ' '))}</h2>{_image(png)}")
    if (run_dir / "predictions.html").exists():
        rel = os.path.relpath(run_dir / "predictions.html", output.parent)
        parts.append(f"<h2>Sample predictions</h2><iframe src='{html.escape(str(rel))}' "
                     "style='width:100%;height:600px;border:1px solid #ccc'></iframe>")
    config = next((p for p in (run_dir / "config.cfg", run_dir / "model-best" / "config.cfg") if p.exists()), None)
    if not results_path.exists() and config is None and not list(run_dir.glob("*.png")):
        raise UserInputError(f"{run_dir}: not a training run folder (no test_results.json, config.cfg or plots)")
    if config:
        parts.append(f"<h2>Config</h2><pre style='background:#f6f6f6;padding:8px'>"
                     f"{html.escape(config.read_text(encoding='utf8'))}</pre>")
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Run report</title></head>"
            "<body style='font-family:sans-serif;max-width:1100px;margin:auto'>" + "".join(parts) + "</body></html>")
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(page, encoding="utf8")
    return output
