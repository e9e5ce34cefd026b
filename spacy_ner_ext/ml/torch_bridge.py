"""Thinc <-> PyTorch plumbing shared by the components: padding lists of token vectors,
safetensors serialization, and torch losses whose gradients go back to Thinc."""
from typing import Callable, List, Optional, Sequence, Tuple

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors
from thinc.api import ArgsKwargs, Model, PyTorchWrapper_v3, torch2xp, xp2torch
from thinc.types import Floats2d


def serialize_torch_model(module: torch.nn.Module) -> bytes:
    return save_safetensors({k: v.contiguous() for k, v in module.state_dict().items()})


def deserialize_torch_model(module: torch.nn.Module, data: bytes, device) -> torch.nn.Module:
    state = load_safetensors(data)
    # Modules whose sizes depend on the data (the number of tags, the width of the type
    # vectors) build those layers from the saved shapes first.
    if hasattr(module, "prepare_state"):
        module.prepare_state(state)
    module.load_state_dict(state)
    return module.to(device)


def pad_token_vectors(ops, arrays: Sequence[Floats2d]) -> Tuple[Floats2d, List[int]]:
    """[batch, max_len, width] with zeros past each doc's end (at least one row)."""
    lengths = [len(a) for a in arrays]
    # An empty doc comes back from the transformer as a (0, 0) array: take the width from the others.
    width = max((a.shape[1] for a in arrays), default=0)
    padded = ops.alloc3f(len(arrays), max(max(lengths, default=0), 1), width)
    for i, a in enumerate(arrays):
        if len(a):
            padded[i, : len(a)] = a
    return padded, lengths


def padded_inputs_converter(side_learns: bool) -> Callable:
    """convert_inputs for X = (token vector list, a matrix: the type vectors, or the allowed
    tag transitions). Torch sees a padded leaf tensor, so its gradient comes back whole and is
    cut into the per-doc gradients Thinc expects. The matrix gets a gradient only when
    `side_learns` (a type encoder that trains); frozen type vectors and the transition mask
    are constants."""

    def convert_padded_inputs(model: Model, X, is_train: bool):
        arrays, side = X
        device = model.shims[0].device
        padded, lengths = pad_token_vectors(model.ops, arrays)
        tokens = xp2torch(padded, requires_grad=is_train, device=device)
        side_t = xp2torch(model.ops.asarray2f(side), requires_grad=is_train and side_learns, device=device)

        def reverse(d_inputs: ArgsKwargs):
            # ops=: the gradients go back as the model's own array type (cupy on GPU) whatever
            # device torch left them on.
            d_padded = torch2xp(d_inputs.args[0], ops=model.ops)
            d_side = d_inputs.args[1]
            return ([d_padded[i, :n] for i, n in enumerate(lengths)],
                    None if d_side is None else torch2xp(d_side, ops=model.ops))

        return ArgsKwargs(args=(tokens, side_t), kwargs={}), reverse

    return convert_padded_inputs


def wrap_torch_scorer(module: torch.nn.Module, side_learns: bool) -> Model:
    """A torch module over (padded token vectors, side matrix) returning a tuple of tensors,
    as a Thinc layer saved in safetensors."""
    return PyTorchWrapper_v3(module, convert_inputs=padded_inputs_converter(side_learns),
                             convert_outputs=convert_tuple_outputs, serialize_model=serialize_torch_model,
                             deserialize_model=deserialize_torch_model)


def convert_tuple_outputs(model: Model, X_Ytorch, is_train: bool):
    _, Ytorch = X_Ytorch
    Y = tuple(torch2xp(y.detach()) for y in Ytorch)

    def reverse(dY):
        device = model.shims[0].device
        grads = [xp2torch(d, device=device) for d in dY]
        return ArgsKwargs(args=(list(Ytorch),), kwargs={"grad_tensors": grads})

    return Y, reverse


def loss_and_gradients(loss_fn: Callable, scores: Sequence, *targets) -> Tuple[float, list]:
    """Run a torch loss on Thinc arrays; return its value and d(loss)/d(scores) as arrays."""
    logits = [xp2torch(s, requires_grad=True) for s in scores]
    # Targets are built on the CPU with numpy; they go to the device the scores are on.
    device = logits[0].device
    loss = loss_fn(*logits, *[torch.as_tensor(t, device=device) for t in targets])
    loss.backward()
    return float(loss.detach()), [torch2xp(x.grad) for x in logits]


def set_dropout_rate(model: Model, drop: Optional[float]) -> None:
    """spaCy's set_dropout_rate, and the same rate for every torch Dropout inside the model."""
    from thinc.api import set_dropout_rate as set_thinc_dropout_rate
    from thinc.shims import PyTorchShim

    if drop is None:
        return
    set_thinc_dropout_rate(model, drop)
    for node in model.walk():
        for shim in node.shims:
            if isinstance(shim, PyTorchShim):
                for module in shim._model.modules():
                    if isinstance(module, torch.nn.Dropout):
                        module.p = drop
