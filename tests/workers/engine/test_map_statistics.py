import subprocess
import sys
from pathlib import Path

import pytest
import torch

from workers.engine import map_statistics as statistics_module
from workers.engine.cpu_kernels import BLOCK, SHORT
from workers.engine.map_statistics import (
    MapStatistics,
    clamped_statistics,
    empty_statistics,
    fused_available,
    map_statistics,
)

ROOT = Path(__file__).resolve().parents[3]
# Positions per map: one block, several blocks with a short last one, and a single position.
SHAPES = [(3, 5, 7, 9), (2, 4, 3, 2 * BLOCK + 5), (4, 6, 1, 1)]


def _brute_force(maps):
    """The statistics row by row in plain Python: first positions among equal values."""
    rows = maps.flatten(2).reshape(-1, maps.shape[2] * maps.shape[3]).tolist()
    fields = {"maximum": [], "argmax": [], "minimum": [], "argmin": [], "sum": [], "active": []}
    for row in rows:
        fields["maximum"].append(max(row))
        fields["argmax"].append(row.index(max(row)))
        fields["minimum"].append(min(row))
        fields["argmin"].append(row.index(min(row)))
        fields["sum"].append(sum(row))
        fields["active"].append(sum(value > 0 for value in row))
    # Rows came image by image; the statistics are [C, B], units first.
    shape = maps.shape[:2]
    return {
        "maximum": torch.tensor(fields["maximum"]).view(shape).T,
        "argmax": torch.tensor(fields["argmax"]).view(shape).T,
        "minimum": torch.tensor(fields["minimum"]).view(shape).T,
        "argmin": torch.tensor(fields["argmin"]).view(shape).T,
        "sum": torch.tensor(fields["sum"], dtype=torch.float64).view(shape).T,
        "active": torch.tensor(fields["active"]).view(shape).T,
    }


def _with_ties(shape):
    """Small integers in [-3, 3]: every map has many equal maxima, minima and zeros."""
    generator = torch.Generator().manual_seed(2)
    return torch.randint(-3, 4, shape, generator=generator).float()


def _signed(shape):
    generator = torch.Generator().manual_seed(3)
    return torch.randn(shape, generator=generator)


def _negative(shape):
    return -torch.rand(shape, generator=torch.Generator().manual_seed(4)) - 0.5


def _inactive(shape):
    """A layer where nothing is active: zeros and negatives only."""
    return torch.minimum(_signed(shape), torch.zeros(shape))


MAPS = {"ties": _with_ties, "signed": _signed, "negative": _negative, "inactive": _inactive}


def _assert_equal_to_brute_force(statistics, maps):
    expected = _brute_force(maps)
    for field in ("maximum", "argmax", "minimum", "argmin", "active"):
        assert torch.equal(getattr(statistics, field), expected[field]), field
    torch.testing.assert_close(statistics.sum, expected["sum"], rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", MAPS)
def test_fused_kernel_equals_brute_force(kind, shape):
    maps = MAPS[kind](shape)

    _assert_equal_to_brute_force(map_statistics(maps, fused=True), maps)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", MAPS)
def test_torch_path_equals_brute_force(kind, shape):
    maps = MAPS[kind](shape)

    _assert_equal_to_brute_force(map_statistics(maps, fused=False), maps)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", MAPS)
def test_fused_kernel_and_torch_path_agree(kind, shape):
    maps = MAPS[kind](shape)

    fused, reduced = map_statistics(maps, fused=True), map_statistics(maps, fused=False)

    for field in ("maximum", "argmax", "minimum", "argmin", "active"):
        assert torch.equal(getattr(fused, field), getattr(reduced, field)), field
    torch.testing.assert_close(fused.sum, reduced.sum, rtol=1e-6, atol=1e-5)


def test_equal_extremes_in_different_blocks_give_the_first_position():
    maps = torch.zeros(1, 1, 1, 3 * BLOCK)
    maps[0, 0, 0, [BLOCK + 3, 2 * BLOCK + 1]] = 5.0
    maps[0, 0, 0, [BLOCK - 1, 2 * BLOCK]] = -5.0

    statistics = map_statistics(maps, fused=True)

    assert statistics.argmax.item() == BLOCK + 3
    assert statistics.argmin.item() == BLOCK - 1


def test_a_short_maps_positions_never_come_from_the_next_map():
    # The kernel's searches read on past a map's end, into maps that hold the same extremes.
    maps = torch.tensor([[-2.0, 1.0, 5.0], [5.0, 5.0, 1.0], [-2.0, 5.0, -2.0]]).view(1, 3, 1, 3)

    statistics = map_statistics(maps, fused=True)

    assert statistics.argmax.flatten().tolist() == [2, 0, 1]
    assert statistics.argmin.flatten().tolist() == [0, 2, 0]


def test_a_map_with_a_nan_is_left_to_torch_which_propagates_it():
    maps = _signed((2, 3, 4, 4))
    maps[1, 2, 3, 0] = float("nan")

    statistics = map_statistics(maps, fused=True)

    assert statistics.maximum[2, 1].isnan()
    assert statistics.minimum[2, 1].isnan()
    assert torch.equal(
        statistics.maximum[:, 0], map_statistics(maps[:1], fused=False).maximum[:, 0]
    )


def test_channels_last_maps_give_the_same_statistics():
    maps = _with_ties((2, 5, 6, 7))

    strided = map_statistics(maps.to(memory_format=torch.channels_last), fused=True)

    for mine, expected in zip(strided, map_statistics(maps, fused=True), strict=True):
        assert torch.equal(mine, expected)


def test_inference_tensors_are_accepted():
    with torch.inference_mode():
        maps = _signed((2, 3, 4, 4)) * 1.0

        statistics = map_statistics(maps, fused=True)

    assert torch.equal(statistics.maximum, maps.amax(dim=(2, 3)).T)


def test_default_uses_the_kernel_for_float32_cpu_maps():
    assert fused_available(torch.zeros(1, 1, 2, 2))
    assert not fused_available(torch.zeros(1, 1, 2, 2, dtype=torch.float64))


def test_default_falls_back_to_torch_for_other_dtypes():
    maps = _with_ties((2, 3, 5, 5)).double()

    statistics = map_statistics(maps)

    assert statistics.maximum.dtype == torch.float64
    _assert_equal_to_brute_force(statistics, maps)


def test_without_numba_the_default_is_torch(monkeypatch):
    monkeypatch.setattr(statistics_module, "cpu_kernels", None)
    maps = _with_ties((2, 3, 5, 5))

    assert not fused_available(maps)
    _assert_equal_to_brute_force(map_statistics(maps), maps)


def test_asking_for_the_kernel_where_it_does_not_apply_is_refused():
    with pytest.raises(ValueError, match="float32 maps on the CPU"):
        map_statistics(torch.zeros(1, 1, 2, 2, dtype=torch.bfloat16), fused=True)


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 3, 0, 4)])
def test_maps_without_positions_or_batch_axes_are_refused(shape):
    with pytest.raises(ValueError, match=r"\[B, C, H, W\]"):
        map_statistics(torch.zeros(shape))


def test_the_kernels_keep_torchs_thread_count():
    # A fresh process: numba's thread pool starts at its first kernel and must not change it.
    script = (
        "import torch\n"
        "torch.set_num_threads(1)\n"
        "from workers.engine.map_statistics import map_statistics\n"
        "map_statistics(torch.zeros(2, 3, 4, 4), fused=True)\n"
        "print(torch.get_num_threads())\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )

    assert result.stdout.strip() == "1"


@pytest.mark.parametrize("fused", [True, False], ids=["kernel", "torch"])
def test_bars_keep_only_the_positions_of_maps_that_beat_them(fused):
    maps = _with_ties((4, 6, 5, 5))
    expected = _brute_force(maps)
    # Per unit, a bar some of its images beat, some equal and some miss.
    bars = (expected["maximum"].median(dim=1).values, expected["minimum"].median(dim=1).values)

    statistics = map_statistics(maps, bars=bars, fused=fused)

    beats = expected["maximum"] > bars[0][:, None]
    undercuts = expected["minimum"] < bars[1][:, None]
    assert torch.equal(statistics.argmax, torch.where(beats, expected["argmax"], -1))
    assert torch.equal(statistics.argmin, torch.where(undercuts, expected["argmin"], -1))
    assert torch.equal(statistics.maximum, expected["maximum"])


# (lower, upper) of a ReLU6 and of a ReLU.
CLAMPS = [(0.0, 6.0), (0.0, float("inf"))]


@pytest.mark.parametrize("bounds", CLAMPS, ids=["relu6", "relu"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", MAPS)
def test_clamped_statistics_equal_the_clamp_then_brute_force(kind, shape, bounds):
    # Scaled so that ReLU6 caps some values: ties at both bounds.
    inputs = MAPS[kind](shape) * 4

    clamped, statistics = clamped_statistics(inputs, *bounds)

    expected = inputs.clamp(*bounds)
    assert torch.equal(clamped, expected)
    _assert_equal_to_brute_force(statistics, expected)


def test_clamped_statistics_keep_the_bars_rule():
    inputs = _with_ties((4, 6, 5, 5)) * 3
    expected = _brute_force(inputs.clamp(0, 6))
    bars = (expected["maximum"].median(dim=1).values, expected["minimum"].median(dim=1).values)

    _, statistics = clamped_statistics(inputs, 0.0, 6.0, bars=bars)

    beats = expected["maximum"] > bars[0][:, None]
    undercuts = expected["minimum"] < bars[1][:, None]
    assert torch.equal(statistics.argmax, torch.where(beats, expected["argmax"], -1))
    assert torch.equal(statistics.argmin, torch.where(undercuts, expected["argmin"], -1))


def test_clamped_statistics_of_channels_last_inputs_are_those_of_their_values():
    inputs = _signed((2, 5, 6, 7)) * 4

    clamped, statistics = clamped_statistics(inputs.to(memory_format=torch.channels_last), 0, 6)

    assert torch.equal(clamped, inputs.clamp(0, 6))
    _assert_equal_to_brute_force(statistics, inputs.clamp(0, 6))


def test_an_input_with_a_nan_is_left_to_the_activation():
    # The kernel's clamp would turn a NaN into a bound; PyTorch's keeps it, so the caller must.
    inputs = _signed((2, 3, 4, 4))
    inputs[1, 2, 0, 3] = float("nan")

    assert clamped_statistics(inputs, 0.0, 6.0) is None


def test_clamped_statistics_apply_only_where_the_kernel_does():
    assert clamped_statistics(_signed((1, 2, 3, 3)).double(), 0.0, 6.0) is None
    assert clamped_statistics(_signed((1, 2, 3, 3)).requires_grad_(), 0.0, 6.0) is None


def _joint_with_sentinels(channels_before, channels, channels_after, batch):
    """Joint [U, B] statistics filled with sentinels, and the [C, B] rows of one layer."""
    joint = empty_statistics(channels_before + channels + channels_after, batch, torch.float32)
    for field in joint:
        field.fill_(-7)
    rows = slice(channels_before, channels_before + channels)
    return joint, MapStatistics(*(field[rows] for field in joint)), rows


@pytest.mark.parametrize("fused", [True, False], ids=["kernel", "torch"])
def test_statistics_written_into_rows_of_a_joint_set_touch_nothing_else(fused):
    maps = _with_ties((3, 4, 5, 5))
    joint, rows_out, rows = _joint_with_sentinels(2, 4, 3, batch=3)

    returned = map_statistics(maps, fused=fused, out=rows_out)

    expected = map_statistics(maps, fused=fused)
    for field, got, want in zip(MapStatistics._fields, returned, expected, strict=True):
        assert torch.equal(got, want), field
    for field in joint:
        assert (field[: rows.start] == -7).all() and (field[rows.stop :] == -7).all()


def test_a_map_with_a_nan_is_written_into_out_by_torch():
    maps = _signed((2, 3, 4, 4))
    maps[0, 1, 2, 2] = float("nan")
    _, rows_out, _ = _joint_with_sentinels(1, 3, 1, batch=2)

    map_statistics(maps, fused=True, out=rows_out)

    assert rows_out.maximum[1, 0].isnan()
    assert torch.equal(rows_out.maximum[:, 1], map_statistics(maps[1:], fused=False).maximum[:, 0])


def test_clamped_statistics_written_into_rows_of_a_joint_set():
    inputs = _signed((3, 4, 6, 6)) * 4
    joint, rows_out, rows = _joint_with_sentinels(3, 4, 2, batch=3)

    clamped, returned = clamped_statistics(inputs, 0.0, 6.0, out=rows_out)

    assert returned is rows_out
    _assert_equal_to_brute_force(rows_out, inputs.clamp(0, 6))
    assert (joint.maximum[: rows.start] == -7).all() and (joint.sum[rows.stop :] == -7).all()


def test_a_short_map_whose_extremes_lie_past_its_first_window():
    # Up to SHORT positions a map is read in one loop and searched window by window.
    assert BLOCK < 200 <= SHORT
    maps = torch.zeros(2, 2, 1, 200)
    maps[1, 0, 0, [150, 190]] = 5.0
    maps[1, 0, 0, [130, 199]] = -5.0

    statistics = map_statistics(maps, fused=True)

    assert statistics.argmax[0, 1].item() == 150
    assert statistics.argmin[0, 1].item() == 130
    assert statistics.argmax[1, 1].item() == 0  # all zeros: the first position


def test_a_short_map_of_nans_only_ends_and_is_left_to_torch():
    maps = _signed((2, 2, 7, 7))
    maps[0, 1] = float("nan")

    statistics = map_statistics(maps, fused=True)

    assert statistics.maximum[1, 0].isnan()
    assert torch.equal(statistics.maximum[0], map_statistics(maps, fused=False).maximum[0])
