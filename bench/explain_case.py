"""Run one corpus case and print every finding with its explanation: `python bench/explain_case.py CASE_DIR`."""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import LoopbackServer  # noqa: E402
from test_corpus import run_case  # noqa: E402


def main(argv: list[str]) -> int:
    import tempfile
    for case in argv:
        server = LoopbackServer()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                changes = run_case(Path(case), server, Path(tmp))
        finally:
            server.close()
        for c in changes:
            print(json.dumps({k: v for k, v in c.as_json().items() if k in ("event", "severity", "alert", "summary")}))
            print("   ", json.dumps(c.explanation, ensure_ascii=False)[:1500])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
