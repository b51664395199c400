"""The statistics: the registry of scores and one module per family (SSI, SRI, graphs)."""
