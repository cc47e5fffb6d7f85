"""Benchmarks (not timed tests). Each module has ``main(argv) -> int`` and prints its figures.

Run one with ``depot bench NAME [args]`` or ``python -m bench NAME [args]``; ``python -m bench``
lists them.
"""
