"""Type encoders: how entity types become vectors inside a model.

Input is a `TypeInput`: the types' description texts and their frozen sentence-transformers
vectors, in label order. `FrozenTypeEncoder` passes the frozen vectors on (the model's own
projection learns on top of them; fast, and new types cost one embedding). 
`TransformerTypeEncoder` reads the texts with a transformer that is fine-tuned jointly with
the token encoder: the original dual-encoder design, slower. Its weights, config and tokenizer
are read from `name` once, when training initializes it, and saved with the pipeline, so a
saved pipeline loads on a machine that has neither that folder nor a hub connection.
"""
import tempfile
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional

import srsly
import torch
from spacy.util import registry
from thinc.api import ArgsKwargs, Model, PyTorchWrapper_v3, torch2xp, xp2torch
from thinc.types import Floats2d

from .backbone import DEFAULT_MODEL_NAME, model_load_error, resolve_model_name
from .type_vectors import warn_if_longer


class TypeInput(NamedTuple):
    texts: List[str]
    vectors: Floats2d

    def select(self, indices: List[int]) -> "TypeInput":
        return TypeInput([self.texts[i] for i in indices], self.vectors[indices])


@registry.architectures("spacy_ner_ext.FrozenTypeEncoder.v1")
def frozen_type_encoder() -> Model[TypeInput, Floats2d]:
    def forward(model: Model, X: TypeInput, is_train: bool):
        return model.ops.asarray2f(X.vectors), lambda dY: []

    return Model("frozen_type_encoder", forward)


class DescriptionTransformer(torch.nn.Module):
    """A Hugging Face encoder, mean-pooled over each description's word pieces.

    Built empty: `load(path)` reads a pretrained model and its tokenizer (at training time);
    `to_bytes` / `from_bytes` carry the weights, the config and the tokenizer files, so loading
    a saved pipeline never looks the original name up again.
    """

    def __init__(self):
        super().__init__()
        self.transformer: Optional[torch.nn.Module] = None
        self.tokenizer = None

    def load(self, path: str) -> None:
        from transformers import AutoModel, AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self.transformer = AutoModel.from_pretrained(path)
        except (OSError, ValueError) as err:
            raise model_load_error(path, err) from err

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    def to_bytes(self) -> bytes:
        from safetensors.torch import save

        if self.transformer is None:
            return srsly.msgpack_dumps({})
        with tempfile.TemporaryDirectory() as tmp:
            self.tokenizer.save_pretrained(tmp)
            tokenizer_files = {p.name: p.read_bytes() for p in Path(tmp).iterdir() if p.is_file()}
        state = {k: v.contiguous() for k, v in self.transformer.state_dict().items()}
        return srsly.msgpack_dumps({"config": self.transformer.config.to_dict(), "tokenizer": tokenizer_files,
                                    "weights": save(state)})

    def from_bytes(self, data: bytes, device, name: Optional[str] = None) -> "DescriptionTransformer":
        from safetensors.torch import load
        from transformers import AutoConfig, AutoModel, AutoTokenizer

        if _is_safetensors(data):
            # Saved by 0.1.0: the weights alone; config and tokenizer come from `name` again.
            self.load(resolve_model_name(name or DEFAULT_MODEL_NAME))
            self.load_state_dict(load(data))
            return self.to(device)
        msg = srsly.msgpack_loads(data)
        if not msg:
            return self
        config = dict(msg["config"])
        with tempfile.TemporaryDirectory() as tmp:
            for name, content in msg["tokenizer"].items():
                (Path(tmp) / name).write_bytes(content)
            self.tokenizer = AutoTokenizer.from_pretrained(tmp)
        self.transformer = AutoModel.from_config(AutoConfig.for_model(config.pop("model_type"), **config))
        self.transformer.load_state_dict(load(msg["weights"]))
        return self.to(device)


def _is_safetensors(data: bytes) -> bool:
    """safetensors bytes: an 8-byte little-endian header length, then a JSON header."""
    if len(data) < 9:
        return False
    header = int.from_bytes(data[:8], "little")
    return 0 < header < len(data) and data[8:9] == b"{"


@registry.architectures("spacy_ner_ext.TransformerTypeEncoder.v1")
def transformer_type_encoder(name: str = DEFAULT_MODEL_NAME, max_length: int = 64) -> Model[TypeInput, Floats2d]:
    """name: the transformer that reads the descriptions ("default": the packaged MiniLM).
    It is read when the model is initialized; a saved pipeline carries its own copy."""

    checked = set()  # descriptions already measured against max_length (warned once each)

    def convert_inputs(model: Model, X: TypeInput, is_train: bool):
        module = model.shims[0]._model
        if module.tokenizer is None:
            raise ValueError(f"The description transformer '{name}' is not initialized: initialize the "
                             "pipeline (spacy train does) or load a trained one")
        new = [text for text in X.texts if text not in checked]
        if new:
            warn_if_longer(new, module.tokenizer, max_length, f"the description transformer {name}")
            checked.update(new)
        batch = module.tokenizer(list(X.texts), padding=True, truncation=True, max_length=max_length,
                                 return_tensors="pt")
        device = model.shims[0].device
        args = (batch["input_ids"].to(device), batch["attention_mask"].to(device))
        return ArgsKwargs(args=args, kwargs={}), lambda d_inputs: []

    def convert_outputs(model: Model, X_Ytorch, is_train: bool):
        _, Ytorch = X_Ytorch

        def reverse(dY):
            return ArgsKwargs(args=(Ytorch,), kwargs={"grad_tensors": xp2torch(dY, device=model.shims[0].device)})

        return torch2xp(Ytorch.detach()), reverse

    def init(model: Model, X=None, Y=None):
        shim = model.shims[0]
        shim._model.load(resolve_model_name(name))
        shim._model.to(shim.device)

    wrapper = PyTorchWrapper_v3(
        DescriptionTransformer(), convert_inputs=convert_inputs, convert_outputs=convert_outputs,
        serialize_model=lambda module: module.to_bytes(),
        deserialize_model=lambda module, data, device: module.from_bytes(data, device, name),
    )
    wrapper.init = init
    wrapper.attrs["name"] = name
    wrapper.attrs["learns"] = True
    return wrapper
