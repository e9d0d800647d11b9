from __future__ import annotations


class UploadError(Exception):
    """A rejected upload: the status code and a message a person can act on."""

    def __init__(self, status: int, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def bad_request(message: str) -> UploadError:
    return UploadError(400, message)
