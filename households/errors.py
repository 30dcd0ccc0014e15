class BaogongError(Exception):
    """The one error type services raise: its message is for a person, in the person's language.

    ``errors`` optionally maps field names to messages so forms and the API can place them.
    """

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
