"""The ``svcmetrics`` command's entry (and ``python -m svcmetrics``'s): the signal handlers
first, then the command line, whose import takes a tenth of a second in which a Ctrl-C
would otherwise end in a traceback."""

from __future__ import annotations

import sys
from typing import NoReturn

from svcmetrics import signals


def main() -> NoReturn:
    """Install the signal handlers, then import and run :func:`svcmetrics.cli.main`."""
    signals.install()
    try:
        from svcmetrics import cli
    except (KeyboardInterrupt, signals.Terminated) as stop:
        sys.exit(signals.stopped_early(stop, sys.argv[1:]))
    cli.main()
