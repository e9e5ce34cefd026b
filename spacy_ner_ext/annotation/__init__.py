"""Annotating corpora at scale: streaming readers, complete output shards, a manifest to resume from, locally or on Ray."""
