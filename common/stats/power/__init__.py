"""Design-time power for A/B/n tests: sample size, detectable effect or power, and days.

``model`` holds the question and the answer, ``proportions`` and ``means`` reduce each method
to a test statistic, ``relative`` is the delta method for lifts, ``sequential`` widens it for
always-valid inference, ``rejection`` turns a statistic into power, ``search`` is the bounded
root search, ``solve`` ties them together and ``request`` parses POST /ab/power.
"""

from common.stats.power.model import PowerQuery, PowerResult
from common.stats.power.solve import solve

__all__ = ["PowerQuery", "PowerResult", "solve"]
