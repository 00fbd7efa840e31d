"""One exception root for everything muxsim rejects."""


class MuxsimError(ValueError):
    """Bad input to muxsim: the message names the value and where it came from."""


class LogFormatError(MuxsimError):
    """A sample log that cannot be read: the message gives file:line and what is wrong."""


class MuxsimWarning(UserWarning):
    """A value muxsim could not compute and left as NaN: the message says which and why."""
