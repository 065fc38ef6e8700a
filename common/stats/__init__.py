"""The A/B-testing statistics engine: pure numpy, with scipy loaded on first use.

Inputs are sufficient statistics per arm and metric (what SQL aggregates), frozen dataclasses in
and out. ``analyze.analyze`` runs a whole A/B/n experiment; the modules it ties together each do
one job (``frequentist``, ``cuped``, ``sequential``, ``bayesian``, ``srm``, ``corrections``,
``power``, ``decision``). Their arithmetic is elementwise, so the same kernels analyse one
experiment or thousands at once (``analyze.compare_arms`` with numpy arrays).
"""
