"""How many Docs each dataset gives the mixture: temperature sampling with caps.

A dataset of n Docs gets a share proportional to n ** alpha (alpha = 1: as large as it is;
alpha = 0: every dataset the same; between, the small ones are raised), never more than `cap`
nor more than it has; what a capped or exhausted dataset cannot take goes to the others in
the same proportions. Docs are drawn without replacement, seeded.
"""
import random
from typing import Dict, List, Sequence, TypeVar

T = TypeVar("T")


def mixture_counts(sizes: Dict[str, int], total: int, alpha: float, cap: int) -> Dict[str, int]:
    if alpha < 0 or cap < 1 or total < 0:
        raise ValueError("alpha must be >= 0, cap >= 1 and total >= 0")
    limits = {name: min(n, cap) for name, n in sizes.items()}
    counts = {name: 0 for name in sizes}
    open_ = [name for name in sizes if limits[name] > 0]
    left = min(total, sum(limits.values()))
    # Water-filling: share what is left among the datasets that can still take Docs.
    while left > 0 and open_:
        weights = {name: sizes[name] ** alpha for name in open_}
        norm = sum(weights.values())
        given = 0
        for name in open_:
            share = max(1, int(left * weights[name] / norm))
            take = min(share, limits[name] - counts[name], left - given)
            counts[name] += take
            given += take
            if given >= left:
                break
        left -= given
        open_ = [name for name in open_ if counts[name] < limits[name]]
        if given == 0:
            break
    return counts


def draw(items: Sequence[T], k: int, rng: random.Random) -> List[T]:
    """k items without replacement, in their original order (so a Doc's neighbours stay)."""
    if k >= len(items):
        return list(items)
    return [items[i] for i in sorted(rng.sample(range(len(items)), k))]
