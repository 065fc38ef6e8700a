"""The one exception for bad client input, shared by every engine that validates requests.

Raise ``InvalidInput(field, message)`` anywhere below a function; its Router answers 400 with
``{"error": {"code": "invalid_argument", "message": message, "field": field}}``.
"""


class InvalidInput(ValueError):
    """``field`` names the offending input (a path like ``rows[0].age``); ``message`` the rule."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message
