from .metrics import EntityScores, score_entities

__all__ = ["EntityScores", "score_entities"]
