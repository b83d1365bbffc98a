"""`make bench` material: side-by-side benchmarks of seghelpers against the guide's baselines.

Run ``python -m benchmarks.run [--quick]`` from the repository root; it writes ``benchmarks/RESULTS.md``.
"""
