import pytest
import torch

from workers.engine import ranking
from workers.engine.ranking import Ranked, empty_ranked, merge_ranked

UNITS = 7
K = 5


def _candidates(count, *, seed, first_image):
    """Small integer values (many ties) for UNITS units, from images first_image, …"""
    generator = torch.Generator().manual_seed(seed)
    values = torch.randint(-2, 3, (UNITS, count), generator=generator).float()
    images = torch.arange(first_image, first_image + count).expand(UNITS, count)
    positions = torch.randint(0, 50, (UNITS, count), generator=generator)
    return Ranked(values, images, positions)


def _brute_force(candidates, k, *, descending):
    """Per unit, the k best in Python: best first, ties to the earlier candidate."""
    rows = []
    for unit in range(UNITS):
        triples = list(zip(*(field[unit].tolist() for field in candidates), strict=True))
        # sorted() is stable, so ties keep the order the candidates came in.
        rows.append(sorted(triples, key=lambda triple: triple[0], reverse=descending)[:k])
    return Ranked(
        torch.tensor([[triple[0] for triple in row] for row in rows]),
        torch.tensor([[triple[1] for triple in row] for row in rows]),
        torch.tensor([[triple[2] for triple in row] for row in rows]),
    )


def _run(batch_sizes, *, descending, fused, in_place=False):
    """Merge batches of the given sizes one after the other, as the pass does."""
    kept, seen, everything = empty_ranked(UNITS, torch.device("cpu")), 0, []
    for number, size in enumerate(batch_sizes):
        batch = _candidates(size, seed=number, first_image=seen)
        kept = merge_ranked(kept, batch, K, descending=descending, fused=fused, in_place=in_place)
        seen += size
        everything.append(batch)
    joined = Ranked(*(torch.cat(fields, dim=1) for fields in zip(*everything, strict=True)))
    return kept, _brute_force(joined, K, descending=descending)


@pytest.mark.parametrize("batch_sizes", [[3], [3, 1, 6, 4], [12, 12, 12], [1, 1, 1]])
@pytest.mark.parametrize("descending", [True, False], ids=["top", "bottom"])
@pytest.mark.parametrize("fused", [True, False], ids=["kernel", "sort"])
def test_merging_batch_by_batch_equals_brute_force_over_all(fused, descending, batch_sizes):
    kept, expected = _run(batch_sizes, descending=descending, fused=fused)

    assert torch.equal(kept.values, expected.values)
    assert torch.equal(kept.images, expected.images)
    assert torch.equal(kept.positions, expected.positions)


@pytest.mark.parametrize("batch_sizes", [[3, 1, 6, 4], [12, 12, 12]])
@pytest.mark.parametrize("descending", [True, False], ids=["top", "bottom"])
def test_merging_in_place_equals_brute_force_over_all(descending, batch_sizes):
    kept, expected = _run(batch_sizes, descending=descending, fused=True, in_place=True)

    assert all(torch.equal(mine, theirs) for mine, theirs in zip(kept, expected, strict=True))


def test_in_place_merges_into_the_kept_tensors_once_they_hold_k():
    first = _candidates(K - 2, seed=1, first_image=0)
    kept = merge_ranked(empty_ranked(UNITS, torch.device("cpu")), first, K, descending=True)
    # Not yet k wide: a new, wider set.
    widened = merge_ranked(kept, _candidates(4, seed=2, first_image=K), K, descending=True)
    assert widened.values.shape[1] == K

    merged = merge_ranked(
        widened, _candidates(5, seed=3, first_image=2 * K), K, descending=True, in_place=True
    )

    assert all(mine is theirs for mine, theirs in zip(merged, widened, strict=True))


def test_the_kernel_reads_a_transposed_batch():
    kept = merge_ranked(
        empty_ranked(UNITS, torch.device("cpu")),
        _candidates(K, seed=5, first_image=0),
        K,
        descending=True,
    )
    batch = _candidates(9, seed=6, first_image=K)
    transposed = Ranked(*(field.T.contiguous().T for field in batch))

    merged = merge_ranked(kept, transposed, K, descending=True, fused=True)

    expected = merge_ranked(kept, batch, K, descending=True, fused=False)
    assert all(torch.equal(mine, theirs) for mine, theirs in zip(merged, expected, strict=True))


def test_default_uses_the_sort_without_numba(monkeypatch):
    monkeypatch.setattr(ranking, "cpu_kernels", None)

    kept, expected = _run([4, 4], descending=True, fused=None)

    assert torch.equal(kept.images, expected.images)


def test_asking_for_the_kernel_for_other_dtypes_is_refused():
    batch = _candidates(3, seed=0, first_image=0)
    doubles = Ranked(batch.values.double(), batch.images, batch.positions)

    with pytest.raises(ValueError, match="fused merge needs numba"):
        merge_ranked(
            empty_ranked(UNITS, torch.device("cpu")), doubles, K, descending=True, fused=True
        )
