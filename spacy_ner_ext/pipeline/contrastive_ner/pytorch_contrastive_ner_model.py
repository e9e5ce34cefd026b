"""The torch module behind contrastive_ner: tokens projected into the description space."""
from typing import Dict, Tuple

import torch
from torch import nn

from ...errors import UserInputError


class ContrastiveTokenScorer(nn.Module):
    """Cosine similarity of each projected token with each type's description vector, and
    with a "no entity" vector, divided by a learned temperature.

    The description vectors are compared as they are (no learned projection on the type
    side), so a description written after training lands in the space the tokens were
    trained to meet: that is what makes new types work without retraining.

    projection: "linear" or "mlp". learned_null: the "no entity" vector is a parameter;
    otherwise it comes in as the first row of the type matrix (a described class).
    """

    def __init__(self, projection: str, hidden_width: int, dropout: float, temperature: float, learned_null: bool):
        super().__init__()
        if projection not in ("linear", "mlp"):
            raise UserInputError(f"projection must be 'linear' or 'mlp', not {projection!r}")
        self.projection_kind = projection
        self.hidden_width = hidden_width
        self.learned_null = learned_null
        self.dropout = nn.Dropout(dropout)
        self.hidden = nn.Sequential(nn.LazyLinear(hidden_width), nn.GELU(), nn.Dropout(dropout)) if projection == "mlp" else None
        self.output = None  # to the description width, known from the first type matrix
        self.null_vector = None
        self.log_temperature = nn.Parameter(torch.tensor([float(temperature)]).log())

    def ensure_output(self, type_width: int, device=None) -> None:
        if self.output is not None:
            return
        self.output = nn.LazyLinear(type_width) if self.hidden is None else nn.Linear(self.hidden_width, type_width)
        if self.learned_null:
            self.null_vector = nn.Parameter(torch.randn(1, type_width) * 0.02)
        if device is not None:
            self.to(device)

    def prepare_state(self, state: Dict[str, torch.Tensor]) -> None:
        self.ensure_output(state["output.weight"].shape[0])

    def forward(self, tokens: torch.Tensor, types: torch.Tensor) -> Tuple[torch.Tensor]:
        """tokens [batch, length, width], types [n, type_width] -> a 1-tuple of logits
        [batch, length, 1 + n] where column 0 is "no entity" (n counts the null row when it is
        described)."""
        self.ensure_output(types.shape[1], tokens.device)
        x = self.dropout(tokens)
        if self.hidden is not None:
            x = self.hidden(x)
        projected = nn.functional.normalize(self.output(x), dim=-1)
        classes = torch.cat([self.null_vector, types], 0) if self.learned_null else types
        classes = nn.functional.normalize(classes, dim=-1)
        return (torch.matmul(projected, classes.t()) / self.log_temperature.exp(),)
