"""The gradient fuzzer: random programs with control flow, against central differences.

A fixed, seeded budget runs with the suite; a long campaign:

    python -m tests.fuzz.campaign --programs 10000
    SRCGRAD_FUZZ_EXAMPLES=10000 pytest tests/test_fuzz.py -m slow

What the programs hold and how a result is judged: tests/fuzz/programs.py and
tests/fuzz/check.py.
"""

import collections
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .fuzz.check import check
from .fuzz.programs import HypothesisChoices, RandomChoices, generate


def test_seeded_programs(tmp_path):
    """400 programs from fixed seeds: no wrong gradient, and most of them checked."""
    outcomes = collections.Counter()
    for seed in range(400):
        outcome = check(generate(RandomChoices(seed)), tmp_path, seed=seed)
        outcomes[outcome.split(":")[0]] += 1
    assert outcomes["ok"] >= 0.8 * sum(outcomes.values()), dict(outcomes)


@settings(max_examples=100, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_programs(data, tmp_path_factory):
    """Programs drawn by hypothesis, so that a failure shrinks to a small program."""
    source = generate(HypothesisChoices(data))
    check(source, tmp_path_factory.getbasetemp(), seed=data.draw(st.integers(0, 2 ** 16)))


@pytest.mark.slow
@settings(max_examples=int(os.environ.get("SRCGRAD_FUZZ_EXAMPLES", "2000")), deadline=None,
          database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_random_programs_long_campaign(data, tmp_path_factory):
    source = generate(HypothesisChoices(data))
    check(source, tmp_path_factory.getbasetemp(), seed=data.draw(st.integers(0, 2 ** 16)))
