"""Where the samples are.

Scales, the degrees-to-unit-vector conversion, the neighbour search
(:class:`~pygbs.geo.neighbours.SphereIndex`) and the background of SRI.
"""
