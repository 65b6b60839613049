"""The quality gate (issue 9): `make eval` must meet its targets, or CI fails.

Runs the whole conversation evaluation (every case on its own copy of the evaluation shop,
over the real HTTP API) and the intent accuracy figures: pass rate at least 97%, no wrong
money movement, Bitext held-out accuracy at least 99%, hand-written at least 97%. It takes
about two minutes; the report is bench/results/eval.md.
"""

from __future__ import annotations

from bench.eval.run_eval import main


def test_the_conversation_evaluation_meets_its_targets(capsys):
    status = main(["--gate"])
    out = capsys.readouterr()
    assert status == 0, out.err + out.out[-3000:]
