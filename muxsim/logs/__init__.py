"""Logged samples: the JSON Lines format (one reader, one writer) and importers."""

from muxsim.logs.format import FORMAT, Sample, read_samples, write_samples, append_sample

__all__ = ["FORMAT", "Sample", "read_samples", "write_samples", "append_sample"]
