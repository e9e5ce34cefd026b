"""int8 dynamic quantization of the torch layers inside Thinc models, for CPU inference.

Dynamic quantization stores each Linear layer's weights as int8 and quantizes the activations
on the fly, batch by batch: no calibration data, and the transformer's matrix products (most
of the time on CPU) run on int8 kernels. Quantized modules cannot be trained or saved as
safetensors, so a pipeline is quantized after loading its float weights (see
`pipeline/int8_quantizer.py`) and refuses to be saved again.
"""
import re
import warnings
from typing import List, Sequence

import torch
from thinc.api import Model
from thinc.shims import PyTorchShim
from torch.nn.modules.lazy import LazyModuleMixin


class QuantizationError(ValueError):
    pass


# The down projection of each feed-forward block of a BERT-like encoder (not the attention's
# `attention.output.dense`). Its input, after GELU, has outliers that per-tensor int8 activations
# clip: quantizing it cost all-MiniLM-L6-v2 on CoNLL-2003 dev about 1.6 F1, the other layers 0.2.
# A whole-name pattern with no `$`: spaCy's config writes `$` as `$$` (interpolation escape).
FFN_DOWN_PROJECTIONS = r"(.*\.)?layer\.\d+\.output\.dense"


def _finish_lazy_layers(module: torch.nn.Module) -> None:
    """Lazy layers whose weights were loaded but that never ran forward keep their Lazy class,
    which quantize_dynamic does not recognize; give them the class they would take on their
    first call (what torch itself does then)."""
    for layer in module.modules():
        if isinstance(layer, LazyModuleMixin) and not layer.has_uninitialized_params():
            layer._initialize_hook.remove()
            layer._load_hook.remove()
            if layer.cls_to_become is not None:
                layer.__class__ = layer.cls_to_become


def quantize_module(module: torch.nn.Module, keep_float: Sequence[str] = ()) -> torch.nn.Module:
    """A copy of `module` with its Linear layers int8 dynamically quantized, except those whose
    whole name (as in `named_modules`) matches one of the regular expressions in `keep_float`."""
    from torch.ao.quantization import quantize_dynamic

    _finish_lazy_layers(module)
    patterns = [re.compile(p) for p in keep_float]
    names = {name for name, layer in module.named_modules() if isinstance(layer, torch.nn.Linear)
             and not any(p.fullmatch(name) for p in patterns)}
    if not names:
        return module
    with warnings.catch_warnings():
        # torch.ao's eager quantization announces its move to the torchao package; the API
        # is unchanged in torch 2.x.
        warnings.simplefilter("ignore")
        return quantize_dynamic(module.eval(), names, dtype=torch.qint8)


def _refuse_to_save(*args, **kwargs):
    raise QuantizationError("This pipeline's torch layers are int8-quantized and cannot be saved: save the "
                            "float pipeline instead (`quantize` writes the float weights and quantizes on load)")


def quantize_model(model: Model, keep_float: Sequence[str] = ()) -> List[str]:
    """Quantize every torch shim inside a Thinc model, in place (but the Linear layers named by
    `keep_float`, see `quantize_module`); the names of the quantized nodes.

    Raises QuantizationError for a model on a GPU: dynamic int8 kernels are CPU kernels."""
    quantized = []
    for node in model.walk():
        for shim in node.shims:
            if not isinstance(shim, PyTorchShim) or getattr(shim, "int8_quantized", False):
                continue
            if shim._model is None:
                continue
            device = next((p.device for p in shim._model.parameters()), torch.device("cpu"))
            if device.type != "cpu":
                raise QuantizationError(
                    f"int8 dynamic quantization runs on CPU only, and {node.name} is on {device}: load the float "
                    "pipeline for GPU inference (without the int8_quantizer component)")
            shim._model = quantize_module(shim._model, keep_float)
            shim.int8_quantized = True
            shim.to_bytes = _refuse_to_save
            quantized.append(node.name)
    return quantized
