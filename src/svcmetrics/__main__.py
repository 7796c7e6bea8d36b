"""Entry point for ``python -m svcmetrics``."""

from svcmetrics.cli import main

if __name__ == "__main__":
    main()
