"""The re-solver: from any starting matching and duals, the optimum of the given pairs."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.engine import augment, flow
from matching.engine import solve as solve_module


@st.composite
def instances(draw):
    n = draw(st.integers(1, 12))
    m = draw(st.integers(1, 6))
    pairs = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(0, m - 1), st.integers(1, 50)),
            max_size=40,
        )
    )
    ri, si, w = (
        (np.array(x, dtype=np.int64) for x in zip(*pairs, strict=True))
        if pairs
        else (np.zeros(0, np.int64),) * 3
    )
    edges = flow.Edges.build(ri, si, w)
    # Only supporters with a free place get pairs (solve.py passes active ones).
    capacity = np.array(draw(st.lists(st.integers(1, 3), min_size=m, max_size=m)))
    previous = np.array(draw(st.lists(st.integers(-1, m - 1), min_size=n, max_size=n)))
    v = np.array(draw(st.lists(st.integers(0, 60), min_size=m, max_size=m)))
    return edges, n, capacity, previous, v


def total(edges: flow.Edges, assignment: np.ndarray) -> int:
    rows = np.flatnonzero(assignment >= 0)
    return int(edges.weight_of(rows, assignment[rows]).sum()) if len(rows) else 0


@settings(max_examples=400, deadline=None)
@given(instances())
def test_it_finds_the_optimum_from_any_start(instance) -> None:
    edges, n, capacity, previous, v = instance
    found = augment.solve_from(edges, n, capacity, previous, v)

    matched = np.flatnonzero(found >= 0)
    pairs = set(zip(edges.ri.tolist(), edges.si.tolist(), strict=True))
    assert all((int(i), int(found[i])) in pairs for i in matched)
    assert (np.bincount(found[matched], minlength=len(capacity)) <= capacity).all()
    assert total(edges, found) == total(edges, flow.solve(edges, n, capacity))
    flow.duals(edges, found, capacity)  # proves it optimal on these pairs (raises otherwise)


def test_a_re_solve_that_cannot_be_proven_optimal_is_solved_by_or_tools(monkeypatch) -> None:
    edges = flow.Edges.build(np.array([0, 1]), np.array([0, 0]), np.array([5, 9]))
    capacity = np.array([1])
    monkeypatch.setattr(augment, "solve_from", lambda *args: np.array([0, -1]))
    hint = flow.Duals(np.zeros(2, np.int64), np.zeros(1, np.int64))

    found, duals, how = solve_module._solve(edges, 2, capacity, np.array([0, -1]), hint, True)

    assert how == "flow"
    assert found.tolist() == [-1, 0]
    assert duals is not None
