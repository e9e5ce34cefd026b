"""Model building blocks: the transformer backbone, torch bridging, type encoders, losses."""
