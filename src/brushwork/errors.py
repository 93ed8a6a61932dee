"""The one exception type for problems a user can cause (bad file, bad option).

The CLI prints its message as a single line and exits non-zero; anything else is a bug
and keeps its traceback.
"""


class BrushworkError(Exception):
    """A user-facing error whose message names the file or option and the problem."""
