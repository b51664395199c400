"""Reading prediction tables and reading back stored results."""
