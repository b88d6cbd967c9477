"""Inspect task files: thin wiring of dataset, solvers and scorer.

Run one as ``inspect eval tasks/<file>.py`` or, once installed, ``inspect eval msm/<task>``.
"""
