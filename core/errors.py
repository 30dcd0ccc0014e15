class BaogongError(Exception):
    """The one error type services raise: its message is for a person, in the person's language.

    ``errors`` optionally maps field names to messages so forms and the API can place them;
    ``status_code`` is the HTTP status the API answers with (400 bad input, 404 not yours or
    unknown, 409 a conflict with the state of things: capacity gone, cycle closed, limit reached).
    """

    status_code = 400

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        if status_code is not None:
            self.status_code = status_code


def field_error(field: str, message: str) -> BaogongError:
    """A refusal of one field's value: the message for the person, placed on that field."""
    return BaogongError(message, errors={field: [message]})


class Conflict(BaogongError):
    status_code = 409


class NotFound(BaogongError):
    status_code = 404


class WrongAnswer(BaogongError):
    """A wrong password or one-time code: counted by the guard against guessing (core/guard.py)."""

    status_code = 400


class TooManyAttempts(BaogongError):
    """Locked out for a while after too many wrong answers."""

    status_code = 429
