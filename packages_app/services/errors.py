class ServiceError(Exception):
    """A write that the index refuses; the message is meant for a person."""


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    pass
