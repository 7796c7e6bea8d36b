"""Running the command line in-process, for the tests."""

from __future__ import annotations

import pytest

from svcmetrics.cli import main


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``svcmetrics ARGS`` in-process: (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exited:
        main(args)
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0), out, err


# A small log and profile with two communities under one street office, for CLI tests.
LOG = """date,community,event,party,id,household,status,ticket,service
2026-10-03,jianguo,participate,resident,r1,h1,,,助老
2026-10-09,jianguo,participate,resident,r2,h1,,,保洁
2026-10-04,jianguo,benefit,resident,r3,h2,,,助老
2026-10-10,jianguo,need,resident,r3,h2,pending,N-1,助老
2026-11-02,jianguo,need,resident,r3,h2,met,N-1,助老
2026-10-21,jianguo,survey,resident,r1,h1,满意,,
2026-10-22,jianguo,survey,resident,r2,h1,不满意,,
2026-10-11,gongle,participate,resident,g1,gh1,,,助老
"""

PROFILE = """communities:
  - {id: jianguo, name: 建国社区, parent: daoli, residents: 40, residents_capable: 10,
     households: 8, units: 4}
  - {id: gongle, name: 共乐社区, parent: daoli, residents: 30, residents_capable: 5,
     households: 6, units: 2}
parents:
  - {id: daoli, name: 道里街道}
"""
