"""Errors of the harness: all are MuxsimError (a ValueError) with a message that
names the bad value and where it came from."""

from muxsim.errors import MuxsimError


class ConfigError(MuxsimError):
    """A run configuration that cannot be used as written."""


class ManifestMismatch(MuxsimError):
    """The output already holds a run with another configuration."""


class RequestFailed(MuxsimError):
    """A request that cannot succeed (4xx), or failed after all retries."""
