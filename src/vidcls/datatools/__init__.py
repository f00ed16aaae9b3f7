"""Offline dataset tools: Kinetics CSVs and downloads, re-encoding (prepare), verification and the synthetic dataset."""
