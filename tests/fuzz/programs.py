"""Random programs for the gradient fuzzer.

A program is a function `f(x, y, s)` of two vectors of length 4 and a float,
built from a small typed grammar, so that every program runs:

- expressions on vectors and scalars: + - * and safe division, ** 2,
  np.sin/cos/tanh/exp(tanh)/log1p(e*e)/sqrt(e*e + 1), np.sum/mean/dot,
  subscripts (constant, loop index, slices reversed, a permutation);
- statements: assignments, `if` on a scalar condition, `for i in range(k)`
  with `break` and `continue` under conditions, `while` loops bounded by a
  counter with `break` and `continue`, in-place writes `v[i] = ...` and
  `v[1:3] += ...` into arrays the program made, list `append` (of values with
  and without a gradient) then
  `np.stack`, calls of helper functions (one calls itself);
- a return of a scalar.

Only smooth operations are used, so that a derivative exists wherever the
path through the program does not change; the checker detects a change of
path (a branch flipping within eps) and skips those inputs.

`Choices` draws from hypothesis (so failures shrink to small programs) or
from `random.Random` (for long campaigns).
"""

import random
import textwrap

HELPERS = '''
def _smooth(u, w):
    return np.tanh(u * w) + u * 0.5


def _mix(u, w):
    if np.sum(u) > np.sum(w):
        return u * w
    return u + w * 2.0


def _power(u, n):
    if n <= 0:
        return u
    return _power(u * 0.9 + np.sin(u), n - 1)
'''


class RandomChoices:
    def __init__(self, seed):
        self.rng = random.Random(seed)

    def choice(self, options):
        return options[self.rng.randrange(len(options))]

    def integer(self, lo, hi):
        return self.rng.randint(lo, hi)

    def boolean(self, p=0.5):
        return self.rng.random() < p


class HypothesisChoices:
    def __init__(self, data):
        from hypothesis import strategies as st
        self.data, self.st = data, st

    def choice(self, options):
        return options[self.data.draw(self.st.integers(0, len(options) - 1))]

    def integer(self, lo, hi):
        return self.data.draw(self.st.integers(lo, hi))

    def boolean(self, p=0.5):
        return self.data.draw(self.st.integers(0, 99)) < p * 100


class Program:
    """Writes one function body; `vectors` and `scalars` are the names in scope."""

    def __init__(self, choices, max_statements=7):
        self.c = choices
        self.lines = []
        self.counter = 0
        self.budget = max_statements
        self.owned = set()          # vectors made in the function (safe to write into)

    def fresh(self, prefix):
        self.counter += 1
        return f"{prefix}{self.counter}"

    # -- expressions ------------------------------------------------------------------

    def vector(self, env, depth=0):
        c = self.c
        leaves = [lambda: c.choice(env["vectors"])]
        if depth > 2:
            return leaves[0]()
        forms = leaves * 3 + [
            lambda: f"({self.vector(env, depth + 1)} {c.choice(['+', '-', '*'])} "
                    f"{self.vector(env, depth + 1)})",
            lambda: f"({self.vector(env, depth + 1)} * {self.scalar(env, depth + 1)})",
            lambda: f"({self.vector(env, depth + 1)} / "
                    f"(({self.scalar(env, depth + 1)}) ** 2 + 1.0))",
            lambda: f"{c.choice(['np.sin', 'np.cos', 'np.tanh'])}({self.vector(env, depth + 1)})",
            lambda: f"np.exp(np.tanh({self.vector(env, depth + 1)}))",
            lambda: f"np.sqrt({self.vector(env, depth + 1)} ** 2 + 1.0)",
            lambda: f"np.log1p({self.vector(env, depth + 1)} ** 2)",
            lambda: f"{c.choice(env['vectors'])}[::-1]",
            lambda: f"({c.choice(env['vectors'])}[::-1] + {self.scalar(env, depth + 1)})",
            lambda: f"{c.choice(env['vectors'])}[[1, 0, 3, 2]]",
            lambda: f"_smooth({self.vector(env, depth + 1)}, {self.vector(env, depth + 1)})",
            lambda: f"_mix({self.vector(env, depth + 1)}, {self.vector(env, depth + 1)})",
            lambda: f"_power({c.choice(env['vectors'])}, {c.integer(0, 3)})",
        ]
        return c.choice(forms)()

    def scalar(self, env, depth=0):
        c = self.c
        leaves = [lambda: c.choice(env["scalars"]),
                  lambda: repr(round(c.integer(-20, 20) / 10, 1))]
        if depth > 2:
            return c.choice(leaves)()
        index = [str(i) for i in range(4)] + ([env["index"]] if env.get("index") else [])
        forms = leaves * 2 + [
            lambda: f"np.sum({self.vector(env, depth + 1)})",
            lambda: f"np.mean({self.vector(env, depth + 1)})",
            lambda: f"{c.choice(env['vectors'])}[{c.choice(index)}]",
            lambda: f"({self.scalar(env, depth + 1)} {c.choice(['+', '-', '*'])} "
                    f"{self.scalar(env, depth + 1)})",
            lambda: f"np.sin({self.scalar(env, depth + 1)})",
            lambda: f"({self.vector(env, depth + 1)} @ {self.vector(env, depth + 1)})",
        ]
        return c.choice(forms)()

    # -- statements ----------------------------------------------------------------------

    def block(self, env, indent, depth):
        """One to three statements (at least one, whatever the budget left)."""
        count = self.c.integer(1, 3)
        for k in range(count):
            if k and self.budget <= 0:
                break
            self.budget -= 1
            self.statement(env, indent, depth)

    def emit(self, indent, text):
        self.lines.append("    " * indent + text)

    def statement(self, env, indent, depth):
        c = self.c
        kinds = ["assign_vector", "assign_scalar", "update"]
        if depth < 2:
            kinds += ["if", "for", "while"]
        if env.get("in_loop"):
            kinds += ["jump"]
        if env.get("index") and env["owned"]:
            kinds += ["write"]
        if env.get("lists"):
            kinds += ["append"]
        kind = c.choice(kinds)
        getattr(self, "stmt_" + kind)(env, indent, depth)

    def stmt_assign_vector(self, env, indent, depth):
        name = self.fresh("v")
        self.emit(indent, f"{name} = {self.vector(env)}")
        env["vectors"].append(name)

    def stmt_assign_scalar(self, env, indent, depth):
        name = self.fresh("a")
        self.emit(indent, f"{name} = {self.scalar(env)}")
        env["scalars"].append(name)

    def stmt_update(self, env, indent, depth):
        names = [n for n in env["scalars"] if n.isidentifier()]
        if self.c.boolean() and names:
            name = self.c.choice(names)
            self.emit(indent, f"{name} = {name} * 0.5 + {self.scalar(env)}")
        else:
            name = self.c.choice(env["vectors"])
            self.emit(indent, f"{name} = {name} * 0.5 + {self.vector(env)}")

    def stmt_if(self, env, indent, depth):
        self.emit(indent, f"if {self.scalar(env)} > {self.scalar(env)}:")
        inner = _copy(env)
        self.block(inner, indent + 1, depth + 1)
        if self.c.boolean():
            self.emit(indent, "else:")
            other = _copy(env)
            self.block(other, indent + 1, depth + 1)

    def stmt_for(self, env, indent, depth):
        index = self.fresh("i")
        self.emit(indent, f"for {index} in range({self.c.integer(1, 3)}):")
        inner = _copy(env, in_loop=True, index=index)
        inner["scalars"] = inner["scalars"] + [f"({index} * 0.5)"]
        self.block(inner, indent + 1, depth + 1)

    def stmt_while(self, env, indent, depth):
        counter = self.fresh("n")
        self.emit(indent, f"{counter} = 0")
        self.emit(indent, f"while {counter} < {self.c.integer(1, 3)}:")
        self.emit(indent + 1, f"{counter} = {counter} + 1")
        inner = _copy(env, in_loop=True, index=f"{counter} - 1")
        self.block(inner, indent + 1, depth + 1)

    def stmt_jump(self, env, indent, depth):
        self.emit(indent, f"if {self.scalar(env)} > {self.scalar(env)}:")
        self.emit(indent + 1, self.c.choice(["break", "continue"]))

    def stmt_write(self, env, indent, depth):
        name = self.c.choice(env["owned"])
        if self.c.boolean():
            self.emit(indent, f"{name}[{env['index']}] = {self.scalar(env)}")
        else:
            self.emit(indent, f"{name}[1:3] += {self.vector(env)}[0:2]")

    def stmt_append(self, env, indent, depth):
        # now and then a value that carries no gradient: its entry is in the list's adjoint too
        value = "np.full(4, 0.5)" if self.c.boolean(0.25) else self.vector(env)
        self.emit(indent, f"{self.c.choice(env['lists'])}.append({value})")

    # -- the function ---------------------------------------------------------------------

    def function(self):
        env = {"vectors": ["x", "y"], "scalars": ["s"], "owned": [], "lists": []}
        if self.c.boolean(0.4):
            self.emit(1, "w = x * 1.0")
            env["owned"].append("w")
            env["vectors"].append("w")
        if self.c.boolean(0.3):
            self.emit(1, "parts = [y * 1.0]")
            env["lists"].append("parts")
        self.block(env, 1, 0)
        while self.budget > 0 and self.c.boolean(0.5):
            self.budget -= 1
            self.statement(env, 1, 0)
        result = f"np.sum({self.vector(env)}) + {self.scalar(env)}"
        if env["lists"]:
            result += " + np.sum(np.stack(parts) ** 2) * 0.1"
        self.emit(1, f"return {result}")
        return "def f(x, y, s):\n" + "\n".join(self.lines) + "\n"


def _copy(env, **changes):
    copied = {k: list(v) if isinstance(v, list) else v for k, v in env.items()}
    copied.update(changes)
    return copied


def module_source(function_text):
    return "import numpy as np\n\n" + textwrap.dedent(HELPERS) + "\n\n" + function_text


def generate(choices, max_statements=7):
    return module_source(Program(choices, max_statements).function())
