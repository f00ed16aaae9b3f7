"""Evaluation: video-level metrics, the test report and its figures."""
