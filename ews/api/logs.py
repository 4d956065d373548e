"""The servers' logging: uvicorn's own configuration with tokens kept out of the access log.

Clients authenticate in headers, which no log writes; but a client may still put a token in
the query string (``?token=ews_...``, a pasted link) and uvicorn's access log writes the
whole request target. :class:`RedactTokens`, on uvicorn's access logger, replaces every API
key (``ews_...``, percent-encoded or not) in the path and the query and the value of any
parameter whose name says it holds a secret (token, key, api_key, access_token, password,
secret, signature, ...) before the line is written, whatever handler writes it.
``ews serve`` and ``ews node serve`` both run uvicorn with :func:`log_config`.
"""

from __future__ import annotations

import copy
import logging
import re
import urllib.parse
from typing import Any

REDACTED = "REDACTED"
_TOKEN = re.compile(r"ews_[A-Za-z0-9_\-]+")
_SECRET_NAME = re.compile(r"token|key|secret|passw|auth|sig|credential|session", re.IGNORECASE)


def redact_target(target: str) -> str:
    """A request target (path and query) with API keys and secret parameters replaced."""
    path, sep, query = target.partition("?")
    # Any token, also percent-encoded (ews%5F..., %65ws_...), in the path.
    if _TOKEN.search(urllib.parse.unquote(path)):
        path = _TOKEN.sub(REDACTED, urllib.parse.unquote(path))
    if not sep:
        return path
    pairs = []
    for part in query.split("&"):
        name, eq, value = part.partition("=")
        plain_name = urllib.parse.unquote_plus(name)
        plain_value = urllib.parse.unquote_plus(value)
        if _TOKEN.search(plain_name):
            name = _TOKEN.sub(REDACTED, plain_name)
        if eq and (_SECRET_NAME.search(plain_name) or _TOKEN.search(plain_value)):
            value = REDACTED
        pairs.append(name + eq + value)
    return f"{path}?{'&'.join(pairs)}"


class RedactTokens(logging.Filter):
    """A filter for ``uvicorn.access``: redacts the request target (its third argument,
    ``'%s - "%s %s HTTP/%s" %d'``) and, to be safe whatever the format, any token left in
    the other arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(
                (redact_target(a) if i == 2 else _TOKEN.sub(REDACTED, a))
                if isinstance(a, str)
                else a
                for i, a in enumerate(args)
            )
        if isinstance(record.msg, str) and "ews_" in record.msg:
            record.msg = _TOKEN.sub(REDACTED, record.msg)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration plus :class:`RedactTokens` on its access
    logger (pass as ``uvicorn.run(..., log_config=log_config())``)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": RedactTokens}
    access = config["loggers"].setdefault("uvicorn.access", {})
    access["filters"] = [*access.get("filters", []), "redact_tokens"]
    return config


def guard_access_log() -> None:
    """Put :class:`RedactTokens` on ``uvicorn.access`` now (for servers started without
    :func:`log_config`, e.g. by a test); idempotent."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())
