"""Experiment effect models on per-user rows: the covariate-adjusted average effect
(``adjusted``), heterogeneous effects by segment (``segments``), read from the warehouse
(``users``) and answered by POST /ml/effects (``answer``).

Nothing here imports more than numpy until a model is fitted: xgboost is loaded by the segment
search only, scipy's special functions by the first interval.
"""
