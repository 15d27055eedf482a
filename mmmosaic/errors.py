"""The one exception type for mistakes a user can make (paths, config values).

Its message is a single sentence that names the file, key or value and says
what to do. ``tools/train.py`` prints it without a traceback.
"""


class MosaicError(Exception):
    """A problem with the user's input, explained in one sentence."""
