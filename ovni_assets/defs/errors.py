"""Turn Dagster's serialized errors into the one line a person reads."""

import re

from dagster._utils.error import SerializableErrorInfo

_CLASS_PREFIX = re.compile(r"^[\w.]*(Failure|Error|Exception|Interrupt):\s*")
# Dagster wraps an exception raised in an op as "Error occurred while executing op "name":" with the
# real exception as its cause.
_DAGSTER_WRAPPER = re.compile(r"^[\w.]*DagsterExecutionStepExecutionError:|^Error occurred while executing ")


def one_line_reason(error: SerializableErrorInfo | None) -> str:
    """The first non-empty line of the innermost meaningful message, without the exception class name.

    Dagster's "Error occurred while executing op" wrapper is skipped for its cause (say, DuckDB's
    out-of-memory message); the wrapper line, with the op's name, is kept only when there is no cause.
    """
    fallback = None
    while error is not None:
        lines = [line for line in error.message.strip().splitlines() if line.strip()]
        if lines:
            line = lines[0].strip()
            if not _DAGSTER_WRAPPER.match(line):
                return _CLASS_PREFIX.sub("", line)
            fallback = fallback or _CLASS_PREFIX.sub("", line)
        error = error.cause
    return fallback or "unknown reason"
