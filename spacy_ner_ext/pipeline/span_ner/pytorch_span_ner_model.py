"""The torch module behind span_ner: token and type vectors in, start/end/span logits out."""
from typing import Tuple

import torch
from torch import nn


class SpanScorer(nn.Module):
    """Scores every span of up to `max_span_length` tokens against every entity type.

    A span is represented by an MLP over [start vector; end vector; width embedding]; its first
    layer is applied as separate projections of the start token, the end token and the width
    (the same function as on the concatenation), so each token is projected once rather than
    once per span. Scores are cosine similarities with the projected type vectors, divided
    by a learned temperature, plus a learned bias per head.

    Input widths are inferred on the first call (lazy layers), so the same module fits any
    transformer and any description encoder.
    """

    def __init__(self, hidden_width: int, max_span_length: int, dropout: float, temperature: float):
        super().__init__()
        self.max_span_length = max_span_length
        self.start_head = nn.Sequential(nn.LazyLinear(hidden_width), nn.GELU(), nn.Dropout(dropout),
                                        nn.Linear(hidden_width, hidden_width))
        self.end_head = nn.Sequential(nn.LazyLinear(hidden_width), nn.GELU(), nn.Dropout(dropout),
                                      nn.Linear(hidden_width, hidden_width))
        self.span_from_start = nn.LazyLinear(hidden_width)
        self.span_from_end = nn.LazyLinear(hidden_width, bias=False)
        self.width_embedding = nn.Embedding(max_span_length, hidden_width)
        self.span_out = nn.Sequential(nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden_width, hidden_width))
        # One projection of the type vectors per head: start, end, span.
        self.type_projection = nn.Sequential(nn.LazyLinear(hidden_width), nn.GELU(),
                                             nn.Linear(hidden_width, 3 * hidden_width))
        self.log_temperature = nn.Parameter(torch.tensor([float(temperature)]).log())
        # Entities are rare: starting the biases low keeps the first updates from being
        # spent on pushing every score down.
        self.bias = nn.Parameter(torch.full((3,), -4.0))
        self.dropout = nn.Dropout(dropout)

    def forward(self, tokens: torch.Tensor, types: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """tokens: [batch, length, width]; types: [n_types, type_width].

        Returns start and end logits [batch, length, n_types] and span logits
        [batch, length, max_span_length, n_types], where span (i, w) runs from token i to i + w.
        """
        batch, length, _ = tokens.shape
        tokens = self.dropout(tokens)
        type_start, type_end, type_span = nn.functional.normalize(
            self.type_projection(types).view(types.shape[0], 3, -1), dim=-1
        ).unbind(1)
        scale = 1.0 / self.log_temperature.exp()

        def score(vectors, type_vectors, bias):
            return torch.matmul(nn.functional.normalize(vectors, dim=-1), type_vectors.t()) * scale + bias

        start_logits = score(self.start_head(tokens), type_start, self.bias[0])
        end_logits = score(self.end_head(tokens), type_end, self.bias[1])

        from_start = self.span_from_start(tokens)  # [B, L, H]
        from_end = self.span_from_end(tokens)
        width = self.max_span_length
        # End token of span (i, w) is i + w; past the end of the batch it is clamped, and the
        # component masks those spans out.
        end_index = (torch.arange(length, device=tokens.device)[:, None]
                     + torch.arange(width, device=tokens.device)[None, :]).clamp(max=length - 1)
        spans = from_start[:, :, None, :] + from_end[:, end_index, :] + self.width_embedding.weight[None, None]
        span_logits = score(self.span_out(spans), type_span, self.bias[2])
        return start_logits, end_logits, span_logits
