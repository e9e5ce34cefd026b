"""The torch module behind token_ner: per-token tag scores, and CRF transition scores."""
from typing import Dict, Tuple

import torch
from torch import nn

from .crf import FORBIDDEN


class TokenTagger(nn.Module):
    """Token vectors -> tag scores [batch, length, n_tags] through an MLP. With `crf`, also the
    transition, start and end scores, with the forbidden ones (a 0/1 matrix given as input)
    pushed to FORBIDDEN.

    The number of tags comes from the labels; `set_n_tags` sizes the output layer and the
    transitions, and a saved model is sized from its saved shapes.
    """

    def __init__(self, hidden_width: int, dropout: float, crf: bool):
        super().__init__()
        self.crf = crf
        self.hidden_width = hidden_width
        self.hidden = nn.Sequential(nn.Dropout(dropout), nn.LazyLinear(hidden_width), nn.GELU(), nn.Dropout(dropout))
        self.output = None
        self.transitions = self.start_transitions = self.end_transitions = None

    def set_n_tags(self, n_tags: int) -> None:
        """Size the output layer (and the CRF's transitions) for n_tags. Tags are only ever
        appended (a new label adds its tags at the end), so the rows already trained are kept
        and only the new ones start from scratch."""
        old = self.output
        if old is not None and old.out_features == n_tags:
            return
        self.output = nn.Linear(self.hidden_width, n_tags)
        if old is not None:
            self.output.to(old.weight.device)
        new_transitions = [torch.zeros(n_tags, n_tags), torch.zeros(1, n_tags), torch.zeros(1, n_tags)]
        if old is not None:
            keep = min(old.out_features, n_tags)
            with torch.no_grad():
                self.output.weight[:keep] = old.weight[:keep]
                self.output.bias[:keep] = old.bias[:keep]
                if self.crf and self.transitions is not None:
                    new_transitions[0][:keep, :keep] = self.transitions[:keep, :keep]
                    new_transitions[1][:, :keep] = self.start_transitions[:, :keep]
                    new_transitions[2][:, :keep] = self.end_transitions[:, :keep]
        if self.crf:
            device = self.output.weight.device
            self.transitions, self.start_transitions, self.end_transitions = (
                nn.Parameter(values.to(device)) for values in new_transitions)

    def prepare_state(self, state: Dict[str, torch.Tensor]) -> None:
        self.set_n_tags(state["output.weight"].shape[0])

    def forward(self, tokens: torch.Tensor, allowed: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """allowed: [n_tags + 2, n_tags], rows: transitions from each tag, then start, then end
        (as a column read across)."""
        emissions = self.output(self.hidden(tokens))
        if not self.crf:
            return (emissions,)
        n = emissions.shape[-1]
        penalty = (1.0 - allowed) * FORBIDDEN
        transitions = self.transitions + penalty[:n]
        start = self.start_transitions + penalty[n : n + 1]
        end = self.end_transitions + penalty[n + 1 : n + 2]
        return emissions, transitions, start, end
