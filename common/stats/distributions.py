"""The distribution functions the engine needs, from scipy, loaded on first use.

``scipy.special`` alone adds about as much to a cold import as functions_framework itself, and
``scipy.stats`` several times that, so neither is imported with the engine: the first analysis
loads them.

All functions are numpy ufuncs: they take floats or arrays. A z-test is a t-test with infinite
degrees of freedom (``stdtr(inf, x)`` is the normal CDF), so one code path serves both.
"""

from __future__ import annotations

from functools import cache
from types import ModuleType

import numpy as np


@cache
def special() -> ModuleType:
    import scipy.special

    return scipy.special


@cache
def stats() -> ModuleType:
    """scipy.stats, for the tests that need raw data or exact tables (Mann-Whitney, Fisher)."""
    import scipy.stats

    return scipy.stats


def t_cdf(df, x):
    return special().stdtr(df, x)


def t_ppf(df, q):
    return special().stdtrit(df, q)


def nct_cdf(df, nc, x):
    """Noncentral t CDF. scipy answers NaN far in the lower tail (checked for df >= 2: only where
    the non-centrality exceeds 5.7 times a positive x, or 7.8 when x <= 0): read as 0."""
    return np.nan_to_num(special().nctdtr(df, nc, x), nan=0.0)


def norm_cdf(x):
    return special().ndtr(x)


def norm_ppf(q):
    return special().ndtri(q)


def chi2_sf(df, x):
    return special().chdtrc(df, x)
