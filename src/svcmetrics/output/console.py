"""The one place that builds a rich Console: recording into a string, never printing."""

from __future__ import annotations

import io

from rich.console import Console

from svcmetrics.output.options import RenderOptions


def make_console(options: RenderOptions) -> Console:
    """A console that writes into a buffer, with the colour and width of ``options``."""
    return Console(
        file=io.StringIO(),
        force_terminal=options.color,
        no_color=not options.color,
        color_system="standard" if options.color else None,
        width=options.width,
        highlight=False,
        emoji=False,
        legacy_windows=False,
    )


def export(console: Console) -> str:
    """What ``console`` has printed so far."""
    file = console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()
