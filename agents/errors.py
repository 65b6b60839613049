"""Errors the agent raises for things the caller got wrong (the API turns them into 404s)."""


class NotFound(LookupError):
    def __init__(self, what: str, message: str):
        super().__init__(message)
        self.what = what
        self.message = message
