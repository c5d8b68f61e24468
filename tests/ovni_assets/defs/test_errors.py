"""`one_line_reason` on real Dagster step failures: the user's message, not Dagster's wrapper."""

import dagster as dg
import pytest

from ovni_assets.defs.errors import one_line_reason


def step_failure_error(op_body) -> object:
    @dg.op
    def failing_op():
        op_body()

    @dg.job
    def failing_job():
        failing_op()

    with dg.instance_for_test() as instance:
        result = failing_job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    return next(e for e in result.all_events if e.is_step_failure).step_failure_data.error


def raise_memory_error():
    raise MemoryError(
        "Out of Memory Error: could not allocate block of size 256.0 KiB (7.4 GiB/7.4 GiB used)"
    )


def raise_failure():
    raise dg.Failure("rejected transacciones_x.csv: the file has no rows")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            raise_memory_error,
            "Out of Memory Error: could not allocate block of size 256.0 KiB (7.4 GiB/7.4 GiB used)",
        ),
        (raise_failure, "rejected transacciones_x.csv: the file has no rows"),
    ],
)
def test_reason_is_the_users_message_not_dagsters_wrapper(body, expected):
    error = step_failure_error(body)
    assert one_line_reason(error) == expected


def test_unknown_reason_when_there_is_no_error():
    assert one_line_reason(None) == "unknown reason"
