"""muxsim: exact theory, simulation and calibration for SLM orchestration."""

__version__ = "0.1.0"
