"""Events between the functions: a versioned JSON envelope carried by Pub/Sub messages.

``envelope`` defines the event and its wire format, ``publishers`` sends events (Pub/Sub, or the
local bus server of ``scripts/local/bus.py``, which stays out of deployed code), and ``consumer``
handles a received CloudEvent idempotently.
"""
