"""What the shipped weights saw, for their card: the mixture's datasets with their licences and
public sources (from build-mixture's manifest.json), the pretraining's cost (pretrain_summary.json),
and the licence that follows from them. The card is JSON beside the weights; MODEL_CARD.md says
the same for people."""
from pathlib import Path
from typing import Dict, List, Optional

import srsly

# Weights learned from corpora under CC BY-NC(-SA) are released under the strictest of those
# terms: the mixture's non-commercial sources are NC-SA (MultiNERD, WikiNeural, E-NER, HIPE-2022,
# GUM's parts) or NC (pile-ner-slimer, PGxCorpus).
NON_COMMERCIAL_LICENCE = "CC BY-NC-SA 4.0"
CLEAN_NOTE = (
    "Trained on no corpus whose licence forbids commercial use: those were left out of the mixture "
    "(build-mixture --non-commercial exclude). Several corpora that went in state no licence, "
    "or research use only, and some carry share-alike (CC BY-SA) or copyleft (GPL) terms, whose "
    "reach to weights trained on them is unsettled (all marked below): check them before commercial "
    "use. The weights are released under this package's licence (MIT), subject to those terms."
)
UNKNOWN_NOTE = "The mixture these weights were trained on is not recorded: their licence is unknown."


def weights_licence(manifest: Optional[Dict]) -> Dict:
    """The licence the weights carry, from the licences of what they saw."""
    if manifest is None:
        return {"licence": "unknown", "commercial_use": None, "licence_note": UNKNOWN_NOTE}
    non_commercial = [s["dataset"] for s in manifest["sources"] if s.get("non_commercial")]
    if not non_commercial:
        return {"licence": "MIT", "commercial_use": True, "licence_note": CLEAN_NOTE}
    note = (f"For non-commercial use only: released under {NON_COMMERCIAL_LICENCE}, the strictest terms "
            f"among the corpora they learned from. {len(non_commercial)} of them forbid commercial use "
            f"({', '.join(non_commercial)}); several others state no licence, or research use only, "
            "and some carry share-alike (CC BY-SA) or copyleft (GPL) terms, whose reach to weights "
            "trained on them is unsettled (all marked below). For weights you may use commercially, pretrain without them: "
            "`spacy project run universal --vars.universal_non_commercial exclude` "
            "(build-mixture --non-commercial exclude). This package's code stays MIT.")
    return {"licence": NON_COMMERCIAL_LICENCE, "commercial_use": False, "licence_note": note}


def combined_licence(current: Optional[str], weights_licence: str) -> str:
    """A pipeline's licence once it holds the weights: theirs added to what it had (an
    en_core_web_sm's MIT), not put in its place."""
    if not current:
        return weights_licence
    return current if weights_licence in current else f"{current} AND {weights_licence}"


def mark_pipeline_licence(meta: Dict, card: Dict) -> None:
    """A pipeline that holds (or was trained from) weights not for commercial use says so in its
    meta, which `spacy package` writes into the wheel's licence field."""
    if card.get("commercial_use") is False:
        meta["license"] = combined_licence(meta.get("license"), card["licence"])


def training_card(manifest: Optional[Dict], summary: Optional[Dict]) -> Dict:
    card: Dict = weights_licence(manifest)
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
    """Terms a user of the weights should read: none stated, research only, or share-alike and
    copyleft terms (CC BY-SA, GPL) that NC-SA or MIT weights may not satisfy."""
    text = (licence or "").lower()
    return any(mark in text for mark in ("none stated", "research", "check", "no licence", "by-sa", "gpl"))


def write_model_card(card: Dict, path: Path) -> None:
    lines: List[str] = [
        "# The universal span_ner weights", "",
        "span_ner pretrained on a many-type mixture of public NER corpora, shipped as the differences of "
        "the top transformer layers from the packaged all-MiniLM-L6-v2 and the span heads "
        "(safetensors, fp16). Load with `spacy_ner_ext.load_universal(labels)`.", "",
        "## Licence", "", f"**{card.get('licence', 'unknown')}.** {card.get('licence_note', UNKNOWN_NOTE)}", "",
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
