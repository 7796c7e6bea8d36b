"""Entry point for ``python -m svcmetrics``."""

from svcmetrics.entry import main

if __name__ == "__main__":
    main()
