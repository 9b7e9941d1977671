"""The tape keeps what a hand-written backward pass would keep, and no more."""

import tracemalloc

import numpy as np

import srcgrad

from .corpus import control_flow


def hand_written_rnn_gradient(Wh, Ux, bh, xs):
    """The backward pass a person writes: keep every state, then walk back."""
    states = [np.zeros(Wh.shape[0])]
    for t in range(len(xs)):
        states.append(np.tanh(Wh @ states[-1] + Ux @ xs[t] + bh))
    h = states[-1]
    dh = 2 * h
    dWh, dUx, dbh = np.zeros_like(Wh), np.zeros_like(Ux), np.zeros_like(bh)
    for t in reversed(range(len(xs))):
        dz = dh * (1 - states[t + 1] ** 2)
        dbh += dz
        dWh += np.outer(dz, states[t])
        dUx += np.outer(dz, xs[t])
        dh = Wh.T @ dz
    return np.sum(h ** 2), (dWh, dUx, dbh)


def peak_bytes(fun, *args):
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fun(*args)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def rnn_problem(steps, hidden=64, inputs=32):
    rng = np.random.default_rng(0)
    return (0.1 * rng.normal(size=(hidden, hidden)), 0.1 * rng.normal(size=(hidden, inputs)),
            np.zeros(hidden), rng.normal(size=(steps, inputs)))


def test_rnn_gradient_is_right():
    args = rnn_problem(50)
    grads = srcgrad.grad(control_flow.rnn, argnums=(0, 1, 2))(*args)
    for got, want in zip(grads, hand_written_rnn_gradient(*args)[1]):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)


def test_rnn_tape_is_no_larger_than_a_hand_written_backward_pass():
    grad = srcgrad.grad(control_flow.rnn, argnums=(0, 1, 2))
    short, long = rnn_problem(50), rnn_problem(100)
    grad(*short)                                   # compile outside the measurement
    ours = [peak_bytes(grad, *short), peak_bytes(grad, *long)]
    theirs = [peak_bytes(hand_written_rnn_gradient, *short),
              peak_bytes(hand_written_rnn_gradient, *long)]
    # What each step adds (the tape), and the whole peak, against the hand-written pass:
    # one hidden state of data per step, as there; beyond it one small tuple of references.
    per_step_ours, per_step_theirs = (ours[1] - ours[0]) / 50, (theirs[1] - theirs[0]) / 50
    assert per_step_ours <= per_step_theirs + 160, (per_step_ours, per_step_theirs)
    assert ours[1] <= 1.1 * theirs[1], (ours, theirs)
    assert per_step_ours >= 64 * 8, "one hidden state per step must be kept"


def test_regions_no_adjoint_reads_back_are_neither_saved_nor_restored():
    # inplace_in_loop overwrites y[i] in each iteration, but its adjoints read y only for
    # its shape: no copy of the old values goes on the tape
    source = srcgrad.source(control_flow.inplace_in_loop)
    assert "snapshot(y" not in source and "restore(" not in source


def test_a_region_an_adjoint_reads_back_is_restored_in_place():
    # w @ w, before the loop, reads the array the first iteration writes into
    source = srcgrad.source(control_flow.writes_into_the_array_a_loop_starts_from)
    assert "snapshot(w" in source and "restore(w" in source
    srcgrad.check_grads(control_flow.writes_into_the_array_a_loop_starts_from,
                        (np.linspace(-1, 1, 4), np.linspace(0.5, 2, 4), 0.3), order=1,
                        modes="rev")
