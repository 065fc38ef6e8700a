"""Events between the functions: a versioned JSON envelope carried by Pub/Sub messages.

``envelope`` defines the event and its wire format, ``publishers`` sends events (Pub/Sub or the
local bus), ``local_bus`` delivers them locally as real Pub/Sub CloudEvents, and ``consumer``
handles a received CloudEvent idempotently.
"""
