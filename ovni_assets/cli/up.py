"""`ovni up`: first-start data if needed, then every service (beside a new home's first pipeline run)
until Ctrl-C or SIGTERM."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

from rich.console import Console

from ovni_assets.home import prepare_home
from ovni_assets.model.registry import EXPERIMENT_NAME, training_runs_url
from ovni_assets.settings import get_settings
from ovni_assets.stack import StackError, StopRequested, check_ports, generate_demo_data, running_stack, tail


@contextlib.contextmanager
def sigterm_stops() -> Iterator[None]:
    def handler(signum: int, frame: object) -> None:
        raise StopRequested()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def up() -> int:
    """`ovni up`: first-start data and pipeline if needed, then every service until Ctrl-C or SIGTERM."""
    console = Console()
    settings = prepare_home(get_settings())
    try:
        with sigterm_stops():
            check_ports(settings)
            generate_demo_data(settings, console)
            check_ports(settings)
            with running_stack(settings, console) as stack:
                console.print(stack.url_table())
                console.print(f"Dagster asset graph: {settings.dagster_ui_url}/asset-groups", soft_wrap=True)
                console.print(
                    f"MLflow training runs (experiment {EXPERIMENT_NAME}): {training_runs_url(settings)}",
                    soft_wrap=True,
                )
                if stack.first_run is not None and not stack.first_run.report_if_finished(console):
                    stack.first_run.announce(console)
                console.print("Press Ctrl-C to stop every service.")
                ended = stack.wait(console)
                raise StackError(
                    f"{ended.service.title} stopped unexpectedly (exit code {ended.process.returncode}). "
                    f"Last lines of {ended.log_path}:\n{tail(ended.log_path)}"
                )
    except StackError as error:
        Console(stderr=True).print(f"[red]ovni up:[/] {error}", highlight=False, soft_wrap=True)
        return 1
    except (KeyboardInterrupt, StopRequested):
        console.print("ovni up: every service stopped.")
        return 0
