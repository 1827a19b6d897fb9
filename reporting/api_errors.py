"""One error body for the whole API: {"detail": "...", "code": "..."} (plus "fields" for invalid input).

DRF's default puts a validation error's fields at the top level and other errors under "detail"; a
reporting client should not have to guess which. Every error the API answers has `detail` (words for a
person) and `code` (a stable token for a program: not_found, not_authenticated, permission_denied,
throttled, invalid, method_not_allowed, parse_error...). Invalid input adds `fields`: {name: [messages]}.
"""

from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler


def _codes(detail):
    if isinstance(detail, dict):
        return {key: _codes(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_codes(value) for value in detail]
    return str(detail)


def _first_message(fields) -> str:
    if isinstance(fields, dict):
        for key, value in fields.items():
            text = _first_message(value)
            if text:
                return text if key == "non_field_errors" else f"{key}: {text}"
    elif isinstance(fields, list):
        for value in fields:
            text = _first_message(value)
            if text:
                return text
    elif fields:
        return str(fields)
    return ""


def exception_handler(exc, context):
    """DRF's handler (it turns Http404 and PermissionDenied into API errors and sets headers such as
    WWW-Authenticate and Retry-After), then the body rewritten to {"detail", "code"[, "fields"]}."""
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # not an API error: a server error, left to Django's 500 handling and logging
    if isinstance(exc, exceptions.ValidationError):
        fields = _codes(exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail})
        body = {"detail": _first_message(fields) or "Invalid input.", "code": "invalid", "fields": fields}
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        code = getattr(detail, "code", None) or exc.default_code
        body = {"detail": str(detail) if not isinstance(detail, (dict, list)) else _first_message(detail),
                "code": str(code)}
    else:
        body = {"detail": str(response.data.get("detail", "Error")) if isinstance(response.data, dict) else "Error",
                "code": "error"}
    if response.status_code == status.HTTP_404_NOT_FOUND:
        body["code"] = "not_found"
    response.data = body
    return response
