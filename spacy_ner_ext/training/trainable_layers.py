"""Which transformer weights train: all of them, or only the top layers.

Freezing the embeddings and the lower layers saves their backward pass, the larger part of an
update's cost on a CPU, and keeps the general-purpose features of the pretrained encoder. The
freeze is set again at every step (it costs a walk over the parameter names), so that a
pipeline loaded from a checkpoint is frozen the same way.
"""
import re
from typing import Any, Callable, Dict, Optional

from spacy.language import Language
from spacy.util import registry

from ..errors import UserInputError

_LAYER = re.compile(r"(?:^|\.)(?:layer|layers|h|block)\.(\d+)\.")


def freeze_lower_layers(nlp: Language, trainable_layers: int) -> int:
    """Freeze every transformer parameter below the top `trainable_layers` layers (the
    embeddings too); returns the number of frozen parameter tensors. -1: all train."""
    from thinc.shims import PyTorchShim

    frozen = 0
    for _, pipe in nlp.pipeline:
        model = getattr(pipe, "model", None)
        if not hasattr(model, "walk"):
            continue
        for node in model.walk():
            for shim in node.shims:
                module = getattr(shim, "_model", None)
                if not isinstance(shim, PyTorchShim) or module is None:
                    continue
                named = list(module.named_parameters())
                layers = [int(m.group(1)) for name, _ in named for m in [_LAYER.search(name)] if m]
                if not layers:
                    continue  # not a layered encoder (the span scorer, say): it trains
                first_trained = max(layers) + 1 - trainable_layers if trainable_layers >= 0 else 0
                for name, param in named:
                    m = _LAYER.search(name)
                    trains = (m is not None and int(m.group(1)) >= first_trained) or \
                             (m is None and "embeddings" not in name and trainable_layers != 0)
                    if trainable_layers < 0:
                        trains = True
                    param.requires_grad_(trains)
                    frozen += not trains
    return frozen


@registry.callbacks("spacy_ner_ext.train_top_layers.v1")
def train_top_layers_v1(trainable_layers: int = -1,
                        then: Optional[Callable[[Language, Dict[str, Any]], None]] = None
                        ) -> Callable[[Language, Dict[str, Any]], None]:
    """A `[training.before_update]` callback: only the top `trainable_layers` transformer
    layers train (-1: all); `then`: another callback called after it (the memory release,
    say). To train no transformer weight at all, freeze the component instead
    (`[training] frozen_components`): with none of its weights trainable its backward pass
    has nothing to run back into."""
    if trainable_layers == 0 or trainable_layers < -1:
        raise UserInputError(f"trainable_layers must be -1 (all) or at least 1, not {trainable_layers}")

    def before_update(nlp: Language, info: Dict[str, Any]) -> None:
        freeze_lower_layers(nlp, trainable_layers)
        if then is not None:
            then(nlp, info)

    return before_update
