"""Type encoders: how entity types become vectors inside a model.

Input is a `TypeInput`: the types' description texts and their frozen sentence-transformers
vectors, in label order. `FrozenTypeEncoder` passes the frozen vectors on (the model's own
projection learns on top of them; fast, and new types cost one embedding). 
`TransformerTypeEncoder` reads the texts with a transformer that is fine-tuned jointly with
the token encoder: the original dual-encoder design, slower, and it needs the transformer's
weights (the packaged MiniLM by default) wherever the pipeline is built.
"""
from typing import List, NamedTuple

import torch
from spacy.util import registry
from thinc.api import ArgsKwargs, Model, PyTorchWrapper_v3, torch2xp
from thinc.types import Floats2d

from .backbone import DEFAULT_MODEL_NAME, model_load_error, resolve_model_name
from .torch_bridge import deserialize_torch_model, serialize_torch_model


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
    """A Hugging Face encoder, mean-pooled over each description's word pieces."""

    def __init__(self, path: str):
        super().__init__()
        from transformers import AutoConfig, AutoModel

        try:
            self.transformer = AutoModel.from_config(AutoConfig.from_pretrained(path))
        except (OSError, ValueError) as err:
            raise model_load_error(path, err) from err

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)


@registry.architectures("spacy_ner_ext.TransformerTypeEncoder.v1")
def transformer_type_encoder(name: str = DEFAULT_MODEL_NAME, max_length: int = 64) -> Model[TypeInput, Floats2d]:
    """name: the transformer that reads the descriptions ("default": the packaged MiniLM)."""
    from transformers import AutoTokenizer

    path = resolve_model_name(name)
    tokenizer = AutoTokenizer.from_pretrained(path)

    def convert_inputs(model: Model, X: TypeInput, is_train: bool):
        batch = tokenizer(list(X.texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        device = model.shims[0].device
        args = (batch["input_ids"].to(device), batch["attention_mask"].to(device))
        return ArgsKwargs(args=args, kwargs={}), lambda d_inputs: []

    def convert_outputs(model: Model, X_Ytorch, is_train: bool):
        _, Ytorch = X_Ytorch

        def reverse(dY):
            from thinc.api import xp2torch

            return ArgsKwargs(args=(Ytorch,), kwargs={"grad_tensors": xp2torch(dY, device=model.shims[0].device)})

        return torch2xp(Ytorch.detach()), reverse

    def init(model: Model, X=None, Y=None):
        from transformers import AutoModel

        module = model.shims[0]._model
        module.transformer.load_state_dict(AutoModel.from_pretrained(path).state_dict())

    wrapper = PyTorchWrapper_v3(
        DescriptionTransformer(path), convert_inputs=convert_inputs, convert_outputs=convert_outputs,
        serialize_model=serialize_torch_model, deserialize_model=deserialize_torch_model,
    )
    wrapper.init = init
    wrapper.attrs["name"] = name
    return wrapper
