"""The evaluations, one package each as inspect_evals keeps them: the task file (thin wiring of
dataset, solvers and scorer), what only that evaluation uses, and a README.

Run one as ``inspect eval tasks/<name>`` (the folder) or, once installed, ``inspect eval msm/<name>``.
"""
