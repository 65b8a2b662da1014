"""The domain: plain Python services. Nothing here imports Reflex."""
