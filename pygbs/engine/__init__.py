"""Engines that score batches of centres.

In this process or on a Dask cluster, with identical results.
"""
