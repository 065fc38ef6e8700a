"""Drift of the conversion model: population stability of its features and score between the
champion's training rows and the latest feature snapshot, and its calibration there."""
