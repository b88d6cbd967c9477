"""Checkpoint side: synthetic spec documents, midtraining, alignment fine-tuning, the micro world."""
