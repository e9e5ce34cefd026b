"""Export a pipeline's transformer and scoring heads to ONNX, and int8 copies of the graphs.

What is exported: the Hugging Face model inside the `transformer` component (wordpiece ids in,
last hidden state out) and the scorer of each `span_ner` / `contrastive_ner` (padded token
vectors and type vectors in, logits out), each with dynamic batch, length and type axes. What
stays torch: the type encoder, which runs only when descriptions change (so types can still be
added after export), and everything around the graphs (tokenization, alignment, decoding).

int8 is onnxruntime's dynamic quantization: int8 weights (per output channel), activations
quantized on the fly; the layers matched by `keep_float` (regular expressions over the torch
module names, as the torch int8 path takes them) stay float. Unlike torch's per-tensor int8,
per-channel weights keep every layer int8 at little cost (CoNLL-2003 test, the README's span_ner:
88.49 F1 float, 88.42 with every layer int8), and keeping the feed-forward down projections
float halved the transformer's int8 speed-up over float (1.5x instead of 3.1x on one batch
shape), so the default keeps none.
"""
import re
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import torch
from spacy.language import Language
from thinc.shims import PyTorchShim

from ..errors import UserInputError

# The scorer modules that export: their forward is (tokens [B, L, W], types [T, D]) -> tuple.
SCORERS = ("SpanScorer", "ContrastiveTokenScorer")
OPSET = 17


class OnnxExportError(UserInputError):
    pass


def export_targets(nlp: Language) -> Tuple[PyTorchShim, Dict[str, PyTorchShim]]:
    """The transformer's shim and {component: scorer shim} of a pipeline."""
    if "transformer" not in nlp.pipe_names:
        raise OnnxExportError(f"export-onnx needs a transformer component; the pipeline is {nlp.pipe_names}")
    transformer = nlp.get_pipe("transformer").model
    hf_shims = [s for node in transformer.walk() for s in node.shims if hasattr(s, "_hfmodel")]
    if len(hf_shims) != 1:
        raise OnnxExportError("the transformer component holds no Hugging Face model to export")
    scorers = {}
    for name, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if name == "transformer" or model is None or not hasattr(model, "walk"):
            continue
        for node in model.walk():
            for shim in node.shims:
                if isinstance(shim, PyTorchShim) and type(shim._model).__name__ in SCORERS:
                    scorers[name] = shim
    if not scorers:
        raise OnnxExportError(f"export-onnx exports the scorers of span_ner and contrastive_ner; the pipeline "
                              f"{nlp.pipe_names} has neither")
    return hf_shims[0], scorers


@contextmanager
def _quiet_export():
    """torch's legacy (TorchScript) exporter announces its deprecation and warns about constants
    the trace keeps (transformers' mask arithmetic, which is constant): neither is the user's
    business. The legacy exporter is the one that needs no onnxscript and names nodes after
    their modules, which keep_float relies on."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


class _LastHiddenState(torch.nn.Module):
    def __init__(self, model: torch.nn.Module, with_token_types: bool):
        super().__init__()
        self.model, self.with_token_types = model, with_token_types

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        kwargs = {"token_type_ids": token_type_ids} if self.with_token_types else {}
        return self.model(input_ids=input_ids, attention_mask=attention_mask, **kwargs).last_hidden_state


def transformer_inputs(model: torch.nn.Module, batch: int, length: int) -> Dict[str, torch.Tensor]:
    """Wordpiece inputs of a shape, in the order of the model's forward. The last row is padded:
    transformers skips the attention mask when it is all ones, and a trace of that branch would
    ignore the mask of every later batch."""
    ids = torch.randint(0, model.config.vocab_size, (batch, length))
    mask = torch.ones_like(ids)
    mask[-1, length // 2:] = 0
    inputs = {"input_ids": ids, "attention_mask": mask}
    if getattr(model.config, "type_vocab_size", 0) > 0:
        inputs["token_type_ids"] = torch.zeros_like(ids)
    return inputs


def scorer_inputs(widths: Tuple[int, int], batch: int, length: int, types: int) -> Dict[str, torch.Tensor]:
    """Padded token vectors and type vectors of a shape; widths: (token width, type width)."""
    return {"tokens": torch.randn(batch, length, widths[0]), "types": torch.randn(types, widths[1])}


def export_transformer(model: torch.nn.Module, path: Path) -> None:
    inputs = transformer_inputs(model.eval().cpu(), 2, 7)
    names = list(inputs)
    with _quiet_export():
        torch.onnx.export(_LastHiddenState(model, "token_type_ids" in inputs), tuple(inputs.values()), str(path),
                          input_names=names, output_names=["last_hidden_state"], opset_version=OPSET, dynamo=False,
                          dynamic_axes={**{n: {0: "batch", 1: "wordpieces"} for n in names},
                                        "last_hidden_state": {0: "batch", 1: "wordpieces"}})


def export_scorer(module: torch.nn.Module, path: Path, widths: Tuple[int, int]) -> None:
    tokens, types = scorer_inputs(widths, 2, 9, 3).values()
    with torch.no_grad():
        outputs = module.eval().cpu()(tokens, types)
    names = [f"logits_{i}" for i in range(len(outputs))]
    axes = {"tokens": {0: "batch", 1: "length"}, "types": {0: "types"}}
    for name, output in zip(names, outputs):
        # Every output is [batch, length, ..., types (+ the null column)]: batch and length vary.
        axes[name] = {0: "batch", 1: "length", output.dim() - 1: "types_out"}
    with _quiet_export():
        torch.onnx.export(module, (tokens, types), str(path), input_names=["tokens", "types"], output_names=names,
                          opset_version=OPSET, dynamo=False, dynamic_axes=axes)


def float_layers(graph_path: Path, keep_float: Sequence[str]) -> List[str]:
    """The MatMul/Gemm nodes of an exported graph whose torch module name matches keep_float.
    The legacy exporter names nodes after their module path: /encoder/layer.0/output/dense/MatMul
    is the module encoder.layer.0.output.dense."""
    import onnx

    patterns = [re.compile(p) for p in keep_float]
    graph = onnx.load(str(graph_path), load_external_data=False).graph
    kept = []
    for node in graph.node:
        if node.op_type in ("MatMul", "Gemm") and any(p.fullmatch(module_name(node.name)) for p in patterns):
            kept.append(node.name)
    return kept


def module_name(node_name: str) -> str:
    """The torch module a legacy-exported node belongs to. Scopes are attribute names, but a
    called container's children repeat its name (/start_head/start_head.0/MatMul is start_head.0),
    and the wrapper of the transformer adds model."""
    parts: List[str] = []
    for scope in node_name.strip("/").split("/")[:-1]:
        if parts and scope.startswith(parts[-1] + "."):
            parts[-1] = scope
        else:
            parts.append(scope)
    return ".".join(parts).removeprefix("model.")


def quantize_graph(source: Path, target: Path, keep_float: Sequence[str]) -> List[str]:
    """int8 dynamic quantization (int8 weights per channel, uint8 activations); the nodes left
    float."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    kept = float_layers(source, keep_float)
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                     nodes_to_exclude=kept, op_types_to_quantize=["MatMul", "Gemm"])
    return kept
