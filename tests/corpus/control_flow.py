"""Functions with control flow, in-place writes and lists. Argument names pick inputs."""

import numpy as np

# -- branches ------------------------------------------------------------------------


def if_else(x):
    if np.sum(x) > 0:
        y = x * 2
    else:
        y = np.sin(x)
    return np.sum(y * y)


def if_without_else(x):
    y = x * 1.0
    if np.sum(x) > 0:
        y = y * 3
    return np.sum(y)


def elif_chain(s):
    if s > 1:
        r = s * s
    elif s > 0:
        r = np.sin(s)
    else:
        r = -s
    return r


def branch_on_data(x, y):
    total = 0.0
    if x[0] > y[0]:
        total = total + np.sum(x * y)
    if x[1] < 0:
        total = total * 2
    else:
        total = total - np.sum(y)
    return total


def conditional_expression(x):
    return np.sum(x * 2 if np.sum(x) > 0 else x ** 3)


def bool_ops(s, t):
    v = s and t
    w = (s > 0) and (t > 0)
    return v * 2.0 + (t if w else s)


def nested_ifs(x):
    y = x * 1.0
    if np.sum(x) > -1:
        if x[0] > 0:
            y = y * x
        else:
            y = y + np.exp(x)
    return np.sum(y)


# -- loops ---------------------------------------------------------------------------


def for_range(x):
    total = 0.0
    for i in range(3):
        total = total + x[i] * (i + 1)
    return total


def for_over_rows(A):
    acc = np.zeros(A.shape[1])
    for row in A:
        acc = acc + np.tanh(row)
    return np.sum(acc ** 2)


def for_enumerate(x):
    total = 0.0
    for i, v in enumerate(x):
        total = total + v * i
    return total


def for_zip(x, y):
    total = 0.0
    for a, b in zip(x, y):
        total = total + a * b
    return total


def nested_loops(A):
    total = 0.0
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            total = total + A[i, j] * A[i, j] * (i - j)
    return total


def loop_carried_product(x):
    p = 1.0
    for v in x:
        p = p * (v + 2.0)
    return p


def while_loop(t):
    while t < 10:
        t = t * 1.5 + 0.1
    return t


def while_true_break_continue(x):
    total = 0.0
    i = 0
    while True:
        i = i + 1
        if i > len(x):
            break
        if x[i - 1] < 0:
            continue
        total = total + np.sin(x[i - 1])
    return total


def break_in_for(x):
    total = 0.0
    for v in x:
        if total > 1.0:
            break
        total = total + v * v
    return total


def continue_in_for(x):
    total = 0.0
    for v in x:
        if v < 0:
            continue
        total = total + v ** 3
    return total


def loop_over_list_param(layers, X):
    h = X
    for layer in layers:
        h = np.tanh(h @ layer["W"] + layer["b"])
    return np.sum(h ** 2)


# -- returns -------------------------------------------------------------------------


def early_return(x):
    if np.sum(x) > 0:
        return np.sum(x ** 2)
    return np.sum(x)


def return_in_loop(x):
    for i in range(len(x)):
        if x[i] > 0.5:
            return x[i] * 2
    return np.sum(x)


def return_in_nested_loop(A):
    for i in range(A.shape[0]):
        for j in range(A.shape[1]):
            if A[i, j] > 1.0:
                return A[i, j] ** 2
    return np.sum(A)


# -- recurrent network ----------------------------------------------------------------------


def rnn(Wh, Ux, bh, xs):
    h = np.zeros(Wh.shape[0])
    for t in range(len(xs)):
        h = np.tanh(Wh @ h + Ux @ xs[t] + bh)
    return np.sum(h ** 2)


def rnn_outputs(Wh, Ux, bh, xs):
    h = np.zeros(Wh.shape[0])
    outputs = []
    for x_t in xs:
        h = np.tanh(Wh @ h + Ux @ x_t + bh)
        outputs.append(h)
    return np.sum(np.stack(outputs) ** 2)


# -- in-place writes and lists ----------------------------------------------------------------


def inplace_in_loop(x):
    y = np.zeros(len(x))
    for i in range(len(x)):
        y[i] = x[i] * x[i]
        if i > 0:
            y[i] = y[i] + y[i - 1]
    return np.sum(y * x)


def inplace_slices(A):
    B = A * 1.0
    B[0, :] = B[1, :] * 2
    B[1:3] += 1.0
    B[:, 0] = np.tanh(B[:, 1])
    return np.sum(B ** 2)


def inplace_mask(x):
    y = x * 2.0
    y[y > 1.0] = 0.0
    return np.sum(y * x)


def inplace_argument(x):
    x[0] = x[1] * 3.0
    return np.sum(x ** 2)


def append_then_stack(x):
    parts = []
    for i in range(3):
        parts.append(x * (i + 1))
    return np.sum(np.stack(parts) ** 2)


def append_then_array(x):
    values = []
    for v in x:
        values.append(v * v)
    return np.sum(np.array(values) * x)


def list_comprehension(x):
    return np.sum(np.array([v * np.exp(v) for v in x if v > -5]))


def tuple_and_dict(x, y):
    pair = (x * 2, y)
    table = {"a": pair[0], "b": np.sum(pair[1])}
    first, second = pair
    return np.sum(table["a"] * first) + table["b"] * np.sum(second)


# -- calls into Python functions --------------------------------------------------------------


def _dense(x, W, b, scale=1.0):
    return np.tanh(x @ W + b) * scale


def helper_with_keywords_and_defaults(X, W, b):
    h = _dense(X, W, b=b, scale=2.0)
    return np.sum(h ** 2) + np.sum(_dense(X, W, b))


def _shrink(t):
    if t < 1.0:
        return t * t
    return 1.5 * _shrink(t / 2.0)


def recursion_of_data_dependent_depth(t):
    return _shrink(t * 7.0) + _shrink(t)


def _two_values(x):
    return x * 2, np.sin(x)


def unpacking_a_call(x):
    a, b = _two_values(x)
    return np.sum(a * b)


def _scaled_square(x, k):
    return np.sum(x * x) * k


def helper_in_loop(x):
    total = 0.0
    for i in range(3):
        total = total + _scaled_square(x * (i + 1), i)
    return total


def _layer(h, params):
    return np.tanh(h @ params["W"] + params["b"])


def helper_with_pytree_argument(X, params):
    return np.sum(_layer(X, params) ** 2)


# -- closures, nested functions, lambdas ---------------------------------------------------------

_square_then_sin = lambda z: np.sin(z * z)  # noqa: E731 - a lambda defined in a source file


def calls_a_lambda(x):
    return np.sum(_square_then_sin(x) + _square_then_sin(2 * x))


def _make_scaled_tanh(scale):
    def scaled_tanh(z):
        return np.tanh(z) * scale
    return scaled_tanh


_scaled_tanh = _make_scaled_tanh(3.0)


def calls_a_closure(x):
    return np.sum(_scaled_tanh(x) ** 2)


def nested_function(x, y):
    def combine(a, power=2):
        return np.sum((a * y) ** power)
    return combine(x) + combine(x + 1.0, 3)


def nested_lambda_over_a_loop(x, y):
    weigh = lambda v: v * y  # noqa: E731
    total = 0.0
    for i in range(3):
        total = total + np.sum(weigh(x * i))
    return total


def nested_function_with_branches(x):
    def clipped(v):
        if np.sum(v) > 0:
            return v * 2
        return -v
    return np.sum(clipped(x) * clipped(x - 1.0))


def loop_rebinds_an_exp_output(x):
    # exp's adjoint reads v, which the loop rebinds: it is set back after the reversed loop
    v = np.exp(np.tanh(x))
    n = 0
    while n < 2:
        n = n + 1
        v = v * 0.5 + x[::-1]
    return np.sum(v / (np.sum(v) ** 2 + 1.0))


def break_after_an_update(x, s):
    # x is updated on the path that breaks: the copy before the `break` must survive
    w = x * 1.0
    for i in range(3):
        if np.sum(w * s) > 10.0:
            w = w * 0.5 + x
        else:
            x = x * 0.5 + w * s
            if np.sum(x) < 10.0:
                break
    return np.sum(x) + np.sum(np.sin(x) ** 2)


def writes_into_a_new_array_each_iteration(x, y, s):
    # `w` is a new array before each write: the carry copy `w = w_2` shares nothing
    # with the next iteration's array, so no write is seen through another name
    w = x * 1.0
    n = 0
    while n < 2:
        n = n + 1
        for i in range(2):
            w = w * 0.5 + y
            w[i] = s * w[i + 1]
    return np.sum(w ** 2)


def reads_and_writes_an_array_in_a_loop(x):
    # w[[1, 0, 3, 2]] is read before the write in each iteration: its reverse must see w
    # as it was then, not take the view again from the array as it is at the end
    w = x * 1.0
    n = 0
    while n < 2:
        n = n + 1
        w[1:3] += np.log1p(w[[1, 0, 3, 2]] ** 2)[0:2]
    return np.sum(w * x)


def _first(u, w):
    return u


def _soft(u, w):
    return np.tanh(u * w) + u * 0.5


def argument_updated_but_unused(x, y, s):
    # y is updated in the loop but never reaches the result: its gradient is zero (the
    # loop's reverse leaves dy unset, which must not be mistaken for a missing name)
    w = x * 1.0
    s = s * 0.5 + np.sin(np.mean(w[::-1]))
    n = 0
    while n < 1:
        n = n + 1
        v = np.tanh(np.exp(np.tanh(y))) - np.sqrt((x / 2.96) ** 2 + 1.0)
        if 1.8 > w @ y:
            w[1:3] += _first(x, _soft(np.cos(v), np.exp(np.tanh(w))))[0:2]
            if np.sin(np.mean(v * 1.1)) > np.mean(np.log1p(x[[1, 0, 3, 2]] ** 2)):
                break
            y = y * 0.5 + v[::-1]
        else:
            continue
    return np.sum(x) + s * s


def loop_variable_read_before_its_loop_runs(x, y, s):
    # the join after the inner loop copies `i`, which is undefined on the paths that skip
    # the loop through break or continue: those paths must not fail
    n = 0
    while n < 1:
        n = n + 1
        if 1.8 > y[0]:
            if 1.3 > np.sum(np.sqrt(y ** 2 + 1.0)):
                break
            if np.mean(x + x) * np.mean(x[::-1]) > s:
                continue
        for i in range(1):
            x = x * 0.5 + y
            if np.mean(np.tanh(x) / 3.25) > i * 0.5 + i * 0.5:
                break
    return np.sum(x) + s


def join_after_a_branch_that_breaks(x, y, s):
    # the copies that join `x` and `s` after the outer if belong where the inner if falls
    # through, not after it: the break skips them
    for i in range(3):
        if 0.5 > np.mean(x):
            if 1.3 > y[1]:
                break
            x = x * 0.5 + y / (np.sum(x) ** 2 + 1.0)
        else:
            s = s * 0.5
    return np.sum(y) + np.sum(np.sqrt(x ** 2 + 1.0)) + s


def appends_values_that_carry_no_gradient(x, A):
    # the list's adjoint has an entry for every item, moving or not: the reverse of each
    # append takes one off, or the entries of x's items would be read from the wrong slots
    parts = []
    for i in range(3):
        parts.append(x * (i + 1.0))
        parts.append(np.ones(4))
    return np.sum(np.stack(parts)[:3] @ A.T)


def pops_a_list(x):
    stack = []
    for i in range(3):
        stack.append(x * (i + 1.0))
    total = 0.0
    for i in range(3):
        v = stack.pop()
        total = total + np.sum(np.sin(v)) * (i + 1.0)
    return total


def keeps_a_new_array_across_writes(A):
    # z is a new array, so the writes into B after it leave it alone; its tangent must be
    # a new array too, not the view of B's tangent that `B[1:3] + 1.0` alone would give
    B = A * 1.0
    z = B[1:3] + 1.0
    B[1:3] = 0.0
    B[1:3] = z
    return np.sum(B ** 2)


def adds_in_place_into_a_loop_variable(x):
    # `acc` is read before the loop, so the loop gets a name of its own for it; that name
    # holds a new array on entry and after every iteration, so `+=` may update it in place
    acc = x * 1.0
    scale = np.sum(acc) * 0.1
    for i in range(3):
        acc += np.sin(acc) * scale
    return np.sum(acc ** 2)


def writes_into_an_array_a_helper_keeps(x, y):
    # _soft keeps `w` among what its reverse reads; the writes into w after the loop must
    # be undone before that reverse runs, though the helper's results name w only as a pair
    w = x * 1.0
    v = np.tanh(y)
    for i in range(2):
        v = v * 0.5 + _soft(w, v) @ x[::-1]
    for i in range(3):
        w[i] = y[i] * 2.0
    return np.sum(np.sqrt((v[::-1] + np.sum(w)) ** 2 + 1.0))


def writes_into_the_array_a_loop_starts_from(x, y, s):
    # the loop's first `w` is the array from before it, which `w @ w` read: the write in the
    # first iteration must be undone before the reverse of that line reads it
    w = x * 1.0
    if s > x[1]:
        w = w * 0.5 + x
    y = y * 0.5 + (w[::-1] + w @ w)
    for i in range(3):
        w[i] = -0.2
        w = w * 0.5 + np.sin(y)
    return np.sum(np.sqrt(((x[::-1] + s) * w[3]) ** 2 + 1.0))


def writes_through_a_second_name(x):
    # `z = y` names y's new array again; y is not read after the write through z
    z = x * 2.0
    if np.sum(x) > 10.0:
        z = z * 0.5
    y = z
    y[0] = 1.0
    return np.sum(y * x)
