"""Result objects: one model's scores, comparisons, per-region results."""
