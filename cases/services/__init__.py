"""Writes of the cases app: cases, logged searches, judgments. Each owns its transaction."""
