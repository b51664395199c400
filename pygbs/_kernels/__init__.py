"""Numba kernels of :mod:`pygbs`: arrays in, arrays out; no pandas, objects or ``None``.

The Python entry points (:mod:`pygbs.neighbours`, :mod:`pygbs.ssi`, :mod:`pygbs.sri`)
validate their input and call these functions. Every kernel is compiled with
``cache=True`` so the compile cost is paid once per machine.
"""
