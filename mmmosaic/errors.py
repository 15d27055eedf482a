"""The one exception type for mistakes a user can make (paths, config values).

Its message is a single sentence that names the file, key or value and says
what to do. Every tool prints it as ``error: ...`` without a traceback and
exits with status 2 (:mod:`mmmosaic.cli`).
"""


class MosaicError(Exception):
    """A problem with the user's input, explained in one sentence."""
