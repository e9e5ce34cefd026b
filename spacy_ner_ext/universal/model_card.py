"""What the shipped weights saw, for their card: the mixture's datasets with their licences and
public sources (from build-mixture's manifest.json), the pretraining's cost (pretrain_summary.json),
and the licence that follows from them. The card is JSON beside the weights; MODEL_CARD.md says
the same for people."""
from pathlib import Path
from typing import Dict, List, Optional

import srsly

LICENCE_NOTE = (
    "Trained on no corpus whose licence forbids commercial use: those (MultiNERD, WikiNeural, "
    "pile-ner-slimer, PGxCorpus, E-NER, HIPE-2022, GUM) were left out of the mixture "
    "(build-mixture --non-commercial exclude). Several corpora that went in state no licence, "
    "or research use only (marked below): check them before commercial use. The weights are "
    "released under this package's licence, subject to those terms."
)


def training_card(manifest: Optional[Dict], summary: Optional[Dict]) -> Dict:
    card: Dict = {"licence_note": LICENCE_NOTE}
    if manifest is not None:
        card["mixture"] = {
            "settings": manifest["settings"],
            "left_out": manifest["left_out"],
            "train_docs": manifest["train_docs"], "train_words": manifest["train_words"],
            "types": manifest["types"],
            "non_commercial_sources": manifest.get("non_commercial_sources", []),
        }
        card["trained_on"] = [{key: source.get(key) for key in
                               ("dataset", "url", "licence", "non_commercial", "domain", "train_docs", "words")}
                              for source in manifest["sources"]]
    if summary is not None:
        card["pretraining"] = {key: summary.get(key) for key in
                               ("step", "words", "train_seconds", "words_per_second", "peak_rss_mb", "runs")}
    return card


def _needs_checking(licence: str) -> bool:
    text = (licence or "").lower()
    return "none stated" in text or "research" in text or "check" in text or "no licence" in text


def write_model_card(card: Dict, path: Path) -> None:
    lines: List[str] = [
        "# The universal span_ner weights", "",
        "span_ner pretrained on a many-type mixture of public NER corpora, shipped as the differences of "
        "the top transformer layers from the packaged all-MiniLM-L6-v2 and the span heads "
        "(safetensors, fp16). Load with `spacy_ner_ext.load_universal(labels)`.", "",
        "## Licence", "", card.get("licence_note", LICENCE_NOTE), "",
    ]
    if "mixture" in card:
        m = card["mixture"]
        lines += ["## Training data", "",
                  f"{m['train_docs']:,} Docs ({m['train_words']:,} words, {m['types']} types) drawn from "
                  f"{len(card['trained_on'])} corpora; never seen (the zero-shot check): "
                  f"{', '.join(m['left_out'])}.", "",
                  "| dataset | licence | train Docs | source |", "|---|---|---|---|"]
        for source in card["trained_on"]:
            mark = " (check)" if _needs_checking(source["licence"]) else ""
            lines.append(f"| {source['dataset']} | {source['licence']}{mark} | {source['train_docs']:,} | "
                         f"{source['url']} |")
        lines.append("")
    if "pretraining" in card:
        p = card["pretraining"]
        lines += ["## Pretraining", "",
                  f"{p['step']} steps, {p['words']:,} words, {p['train_seconds'] / 60:.1f} training minutes on "
                  f"2 CPU cores ({p['words_per_second']} words/s), peak RSS {p['peak_rss_mb']:.0f} MB.", ""]
    lines += [f"Threshold (tuned on the mixture's dev set): {card['span_ner']['threshold']}.", ""]
    path.write_text("\n".join(lines), encoding="utf8")


def read_json_or_none(path: Optional[Path]) -> Optional[Dict]:
    return None if path is None else srsly.read_json(path)
