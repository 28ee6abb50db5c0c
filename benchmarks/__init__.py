"""Side-by-side benchmarks of dasf-jupyter against the reference DASF stack.

Run ``python -m benchmarks`` (``--quick`` for a short run); see ``benchmarks/README.md``.
"""
