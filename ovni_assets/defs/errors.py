"""Turn Dagster's serialized errors into the one line a person reads."""

import re

from dagster._utils.error import SerializableErrorInfo

_CLASS_PREFIX = re.compile(r"^[\w.]*(Failure|Error|Exception|Interrupt):\s*")


def one_line_reason(error: SerializableErrorInfo | None) -> str:
    """The first non-empty line of the innermost meaningful message, without the exception class name."""
    while error is not None:
        lines = [line for line in error.message.strip().splitlines() if line.strip()]
        if lines:
            return _CLASS_PREFIX.sub("", lines[0].strip())
        error = error.cause
    return "unknown reason"
