"""Keep secrets out of the logs: passwords, API and calendar tokens, session ids, CSRF tokens, TOTP codes.

`RedactSecretsFilter` is installed in settings.LOGGING on the root handler, which every logger reaches
(Django's own loggers are routed there too), and in gunicorn.conf.py on gunicorn's access and error logs.
It rewrites the record in place, so a handler that runs after it (pytest's caplog, an error tracker) sees
the redacted text too. The patterns are deliberately broad: a redacted word too many costs nothing, one
secret too few is a leak. docs/security.md "Logs" lists what is covered.

Standard library only: gunicorn.conf.py imports it before Django is set up.
"""

import logging
import re

MASK = "[redacted]"

# Routes whose path carries a secret. tests/security/test_log_redaction.py checks that every URL pattern
# with a token in it is listed here.
_SECRET_PATHS = [
    re.compile(r"(/calendar/)[^/\s\"'?#]+(\.ics)"),
]

# Names whose value is a secret wherever it shows up as name=value, name: value, "name": "value"
# (query strings, form dumps, cookies, headers, JSON, dict reprs, SQL parameters).
_SECRET_NAMES = (
    r"password\d?|new_password[12]|old_password|passwd|pwd|secret(?:_key)?|api[_-]?key|token|key|otp_token"
    r"|session_?key|session_?id|csrftoken|csrfmiddlewaretoken|x-csrftoken|auth_token|confirm"
)
_NAME_VALUE = re.compile(
    rf"(?i)(?<![A-Za-z0-9])((?:__Host-)?(?:{_SECRET_NAMES})[\"']?\s*(?:[:=]|=>)\s*[\"']?)([^\"'&\s,;)}}\]]+)"
)
# The Authorization header in any spelling (HTTP_AUTHORIZATION, authorization: ...), whatever the scheme.
_AUTHORIZATION = re.compile(r"(?i)((?:HTTP_)?AUTHORIZATION[\"']?\s*[:=]\s*[\"']?)([^\"'\n,}]+)")
# A bare scheme + credential ("Token 9944b09...", "Bearer eyJ...").
_SCHEME_CREDENTIAL = re.compile(r"(?i)\b((?:Token|Bearer|Basic)\s+)([A-Za-z0-9._~+/=-]{16,})")
# A one-time code next to its name ("code=123456", "code: 12345678"), not any number in a message.
_CODE = re.compile(r"(?i)(\b(?:code|otp|totp)[\"']?\s*[:=]\s*[\"']?)(\d{6,8}|[a-z2-7]{8})\b")


def redact(text: str) -> str:
    """`text` with every secret this module recognises replaced by [redacted]."""
    if not text:
        return text
    for pattern in _SECRET_PATHS:
        text = pattern.sub(rf"\g<1>{MASK}\g<2>", text)
    text = _AUTHORIZATION.sub(rf"\g<1>{MASK}", text)
    text = _SCHEME_CREDENTIAL.sub(rf"\g<1>{MASK}", text)
    text = _NAME_VALUE.sub(rf"\g<1>{MASK}", text)
    text = _CODE.sub(rf"\g<1>{MASK}", text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrite a record's message (with its arguments merged in) and its traceback text, redacted.

    The arguments are merged first because a secret usually arrives as one ("Not Found: %s", path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_harvester_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler's own error reporting
            return True
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # Handlers print exc_text when it is set; the exception object itself (whose message may hold
            # a secret) is dropped so that none formats it afresh.
            record.exc_text, record.exc_info = redact(record.exc_text), None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        record._harvester_redacted = True
        return True
