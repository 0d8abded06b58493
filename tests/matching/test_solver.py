"""The bridge from the database's people to the engine and back (no database needed)."""

from __future__ import annotations

import numpy as np

from matching import engine, solver
from matching.engine import explain as explain_module


def _input(recipients: int, supporters: int) -> solver.MatchInput:
    evenings = engine.slots(("Mon", "evening"))
    return solver.MatchInput(
        requests={},
        profiles={},
        recipients=[
            engine.Recipient(i, frozenset({"en"}), frozenset({"phone"}), evenings)
            for i in range(1, recipients + 1)
        ],
        # Nobody speaks the same language, so every request goes unmatched.
        supporters=[
            engine.Supporter(j, frozenset({"pl"}), frozenset({"phone"}), evenings)
            for j in range(1000, 1000 + supporters)
        ],
        forbidden=[],
        pinned=[],
        weights=engine.Weights(),
        rules=engine.Rules(),
    )


def test_it_explains_every_unmatched_request_without_a_pass_per_request(monkeypatch) -> None:
    grids: list[tuple[int, ...]] = []
    pairs_explained: list[tuple[int, int]] = []
    real_checks, real_breakdown = explain_module.checks, engine.breakdown

    def checks(problem, ri, si):
        grids.append(np.broadcast_shapes(np.shape(ri), np.shape(si)))
        return real_checks(problem, ri, si)

    def breakdown(problem, rid, sid):
        pairs_explained.append((rid, sid))
        return real_breakdown(problem, rid, sid)

    monkeypatch.setattr(explain_module, "checks", checks)
    monkeypatch.setattr(engine, "breakdown", breakdown)
    for n in (5, 500):
        grids.clear()
        output = solver.solve(_input(n, 40))
        assert output.proposals == [] and len(output.unmatched) == n
        assert output.unmatched[0]["reasons"] == [{"code": "language", "count": 40}]
        # Every request against every supporter at once, and no pair explained one by one.
        assert grids == [(n, 40)]
        assert pairs_explained == []
