"""`ChainVerifier.join`: a log checked in runs, each from its first record's own position and
`prev_hash`, gives exactly the result of one pass: the same count, head and checkpoints when
intact, the same first problem at the same position when not, wherever the runs are cut."""

import pytest

from cmp_server.proof.chain import ChainVerifier, checkpoint_map
from cmp_server.proof.layout import Col
from tests.proof.chains import checkpoint, make_chain, new_signer, rows

SITE = "site-a"
N = 9


@pytest.fixture(scope="module")
def chain():
    records = make_chain(N, SITE)
    signer = new_signer()
    marks = checkpoint_map([checkpoint(SITE, records, signer, size) for size in (3, 7)])
    return rows(records), marks


def one_pass(rows_, marks):
    verifier = ChainVerifier(SITE, 1, "0" * 64, marks)
    verifier.feed(rows_)
    return verifier.finish()


def in_runs(rows_, marks, cuts):
    """Check each run with its own verifier, as split_verify and the bundle workers do."""
    bounds = [0, *cuts, len(rows_)]
    first = ChainVerifier(SITE, 1, "0" * 64, marks)
    first.feed(rows_[: bounds[1]])
    for start, end in zip(bounds[1:], bounds[2:], strict=False):
        part = rows_[start:end]
        if not part:
            continue
        verifier = ChainVerifier(SITE, part[0][Col.POSITION], part[0][Col.PREV_HASH], marks)
        verifier.feed(part)
        first.join(verifier.run())
    return first.finish()


def summary(result):
    """What a result says (where a failed pass stopped is not part of it)."""
    if not result.ok:
        return (False, result.records, str(result.problem))
    return (True, result.records, result.last_position, result.head_hash)


CUTS = [[1], [4], [5], [8], [2, 5], [3, 4, 7]]


@pytest.mark.parametrize("cuts", CUTS, ids=str)
def test_an_intact_log_joins_to_one_pass(chain, cuts):
    rows_, marks = chain
    joined = in_runs(rows_, marks, cuts)
    assert joined.ok and joined.records == N and joined.checkpoints_matched == 2
    assert summary(joined) == summary(one_pass(rows_, marks))


def without(rows_, index):
    return rows_[:index] + rows_[index + 1 :]


def swapped(rows_, index):
    changed = list(rows_)
    changed[index], changed[index + 1] = changed[index + 1], changed[index]
    return changed


def relinked(rows_, index):
    """Record `index` claims another predecessor (as if one were inserted before it)."""
    changed = list(rows_)
    row = list(changed[index])
    row[Col.PREV_HASH] = "f" * 64
    changed[index] = tuple(row)
    return changed


def altered(rows_, index):
    changed = list(rows_)
    row = list(changed[index])
    row[Col.ACTION] = "accept_all"
    changed[index] = tuple(row)
    return changed


BREAKS = [without, swapped, relinked, altered]


@pytest.mark.parametrize("cuts", CUTS, ids=str)
@pytest.mark.parametrize("index", [1, 4, 5])
@pytest.mark.parametrize("damage", BREAKS, ids=lambda f: f.__name__)
def test_a_broken_log_fails_as_one_pass_would(chain, cuts, index, damage):
    rows_, marks = chain
    broken = damage(rows_, index)
    expected = one_pass(broken, marks)
    assert not expected.ok
    assert summary(in_runs(broken, marks, cuts)) == summary(expected)


def test_join_keeps_the_first_problem(chain):
    rows_, marks = chain
    verifier = ChainVerifier(SITE, 1, "0" * 64, marks)
    verifier.feed(altered(rows_, 1)[:4])
    later = ChainVerifier(SITE, 5, rows_[4][Col.PREV_HASH], marks)
    later.feed(altered(rows_, 6)[4:])
    assert verifier.join(later.run()) is verifier.result
    assert verifier.result.problem.position == 2
