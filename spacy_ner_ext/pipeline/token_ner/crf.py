"""A linear-chain CRF over tag sequences, with impossible transitions forbidden.

pytorch-crf has no way to forbid transitions, so this is the small module the design asks
for: the forward algorithm for the log-partition, the gold path score, and Viterbi. The
forbidden entries carry a large negative score (added to whatever was learned), so no
decoded path ever takes them and the likelihood puts no mass on them.
"""
from typing import List, Optional, Sequence, Tuple

import numpy
import torch

FORBIDDEN = -1e4
# Scores of tags ruled out by the gold annotation: far below any path that is allowed.
UNREACHABLE = -1e9


def allowed_transitions(tags: Sequence[str], scheme: str) -> Tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """(transitions [from, to], start [to], end [from]) as booleans: True where allowed.

    BIO: I-X only after B-X or I-X. BILUO: I-X and L-X only after B-X or I-X; after B-X
    or I-X only I-X or L-X; a sequence starts outside an entity or at B/U and ends at O, L or U.
    """
    def split(tag):
        return ("O", None) if tag == "O" else tuple(tag.split("-", 1))

    parts = [split(t) for t in tags]
    n = len(tags)
    trans = numpy.ones((n, n), dtype=bool)
    start = numpy.ones(n, dtype=bool)
    end = numpy.ones(n, dtype=bool)
    for j, (p_to, l_to) in enumerate(parts):
        continues = p_to in ("I", "L")
        start[j] = not continues
        for i, (p_from, l_from) in enumerate(parts):
            inside = p_from in ("B", "I") and scheme == "biluo"
            if continues:
                trans[i, j] = p_from in ("B", "I") and l_from == l_to
            elif inside:
                trans[i, j] = False  # an open BILUO entity must continue with I- or L-
    if scheme == "biluo":
        for i, (p_from, _) in enumerate(parts):
            end[i] = p_from not in ("B", "I")
    return trans, start, end


def log_partition(emissions: torch.Tensor, mask: torch.Tensor, transitions: torch.Tensor, start: torch.Tensor,
                  end: torch.Tensor) -> torch.Tensor:
    """log of the summed exp-scores of every tag path, by the forward algorithm: [batch]."""
    length = emissions.shape[1]
    alpha = start[None] + emissions[:, 0]
    for t in range(1, length):
        nxt = torch.logsumexp(alpha[:, :, None] + transitions[None] + emissions[:, t, None, :], dim=1)
        alpha = torch.where(mask[:, t, None], nxt, alpha)
    return torch.logsumexp(alpha + end[None], dim=1)


def crf_log_likelihood(emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor, transitions: torch.Tensor,
                       start: torch.Tensor, end: torch.Tensor, known: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Log-likelihood of the gold tags for each sequence: [batch].

    emissions [batch, length, n_tags]; tags [batch, length] (long); mask [batch, length]
    (bool, a prefix of each row). Sequences of length 0 have likelihood 1 (log 0).
    known [batch, length] (bool, default: mask): the tokens whose gold tag is known. Under
    partial annotation the others are not "O": the likelihood is that of every path agreeing
    with the known tags (the sum over the unknown ones), so no tag is pushed on them.
    """
    known = mask if known is None else known & mask
    has_tokens = mask.long().sum(1) > 0
    gold = torch.nn.functional.one_hot(tags, emissions.shape[-1]).bool()
    # A token with a known tag allows that tag alone; any other token allows every tag.
    allowed = gold | ~known[..., None]
    constrained = emissions.masked_fill(~allowed, UNREACHABLE)
    log_gold = log_partition(constrained, mask, transitions, start, end)
    log_z = log_partition(emissions, mask, transitions, start, end)
    return torch.where(has_tokens, log_gold - log_z, torch.zeros_like(log_z))


def viterbi(emissions: numpy.ndarray, transitions: numpy.ndarray, start: numpy.ndarray, end: numpy.ndarray) -> List[int]:
    """Best tag sequence for one sequence: emissions [length, n_tags]."""
    length = emissions.shape[0]
    if length == 0:
        return []
    score = start + emissions[0]
    back = numpy.zeros((length, emissions.shape[1]), dtype=numpy.int64)
    for t in range(1, length):
        candidates = score[:, None] + transitions
        back[t] = candidates.argmax(0)
        score = candidates.max(0) + emissions[t]
    best = [int((score + end).argmax())]
    for t in range(length - 1, 0, -1):
        best.append(int(back[t, best[-1]]))
    return best[::-1]
