"""The one kind of error that means "your input cannot be used": a file, a line, an
example, a setting or a saved pipeline that is wrong. Its message names where the problem
is and what it is, in one line; the command line prints that line and exits non-zero, as
spaCy's CLI does with `msg.fail`, and never shows a traceback for it.

Everything else that goes wrong is a bug, and keeps its traceback."""


class UserInputError(ValueError):
    """Bad input, named in one line: `<where>: <problem>`."""


class DamagedPipelineError(UserInputError):
    """A saved pipeline whose files cannot be read back: the message names the file."""
