"""numba kernels of the dataset-examples pass on the CPU: every statistic of a map in one read
(behind `map_statistics`) and the running top-k merge (behind `ranking.merge_ranked`).

Compiled on first use and cached beside this file (numba's `__pycache__`; where that is not
writable, numba's user-wide cache, or NUMBA_CACHE_DIR when set).
"""

import numba
import numpy as np
import torch
from llvmlite import ir
from numba.extending import intrinsic

# Positions per block: a block's max and min are found with vector instructions, and the
# first position of the row's max (or min) is then searched only inside the block that first
# reached it. Its float32 sum and count stay exact enough (count exact; sum to ~1e-7).
BLOCK = 128
# Maps of at most this many positions are reduced in one loop (see `map_statistics`).
SHORT = 2 * BLOCK
# LLVM vectorizes max/min reductions only without NaNs and signed zeros, and sums only when
# it may reorder them. Callers check the sums for NaN (see `map_statistics`).
FAST_MATH = {"nnan", "nsz", "reassoc"}


def _llvm_binary(name: str):
    """A numba function for a two-operand LLVM intrinsic on floats (maxnum, minnum)."""

    @intrinsic
    def call(typingctx, left, right):
        def codegen(context, builder, signature, args):
            value = args[0].type
            function = builder.module.declare_intrinsic(
                name, [value], ir.FunctionType(value, [value, value])
            )
            return builder.call(function, args)

        return left(left, left), codegen

    return call


def set_threads(threads: int):
    """Run the parallel kernels on PyTorch's intra-op thread count, and keep that count.

    Starting numba's OpenMP pool (on the first call) sets the process's OpenMP thread count,
    which PyTorch shares through the same libgomp, to numba's maximum; PyTorch's is put back.
    """
    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


_maximum = _llvm_binary("llvm.maxnum")
_minimum = _llvm_binary("llvm.minnum")


@numba.njit(nogil=True, fastmath=FAST_MATH, cache=True)
def _block(values):
    """Max, min, sum and count above 0 of a short run of values, with vector instructions."""
    high = values[0]
    low = values[0]
    total = np.float32(0)
    # A float32 count keeps every lane 32 bits wide (numba widens int32 sums to int64).
    above = np.float32(0)
    for index in range(values.shape[0]):
        value = values[index]
        high = _maximum(high, value)
        low = _minimum(low, value)
        total += value
        above += np.float32(1) if value > 0 else np.float32(0)
    return high, low, total, above


@numba.njit(nogil=True, fastmath=FAST_MATH, cache=True)
def _clamped_block(values, out, lower, upper):
    """`_block` of the values clamped to [lower, upper], which are written to `out`: an
    activation (ReLU, ReLU6) and its statistics in one read of its input. Also the sum of the
    values before clamping: LLVM's maxnum returns the number of a (NaN, number) pair, so a NaN
    input would come out clamped, where PyTorch's clamp keeps it; that sum shows it."""
    high = _minimum(_maximum(values[0], lower), upper)
    low = high
    total = np.float32(0)
    above = np.float32(0)
    raw = np.float32(0)
    for index in range(values.shape[0]):
        value = _minimum(_maximum(values[index], lower), upper)
        out[index] = value
        high = _maximum(high, value)
        low = _minimum(low, value)
        total += value
        above += np.float32(1) if value > 0 else np.float32(0)
        raw += values[index]
    return high, low, total, above, raw


@numba.njit(nogil=True, fastmath=FAST_MATH, cache=True)
def _first(values, start, target):
    """The offset from `start` of the first `target` in values[start:], one known to be in
    the next BLOCK values, as a min reduction over them, which vectorizes (a loop that stops
    at the match runs one compare and branch per value).

    A row's values may run on into the next rows: their matches come later, so they never
    win, and a full BLOCK-long window keeps a short row's search in vector instructions.
    """
    window = values[start : start + BLOCK]
    # Float offsets keep the lanes 32 bits wide, as the count of `_block`; BLOCK is exact.
    first = np.float32(BLOCK)
    for index in range(window.shape[0]):
        first = _minimum(first, np.float32(index) if window[index] == target else np.float32(BLOCK))
    return np.int64(first)


@numba.njit(nogil=True, fastmath=FAST_MATH, cache=True)
def _first_in_row(values, start, positions, target):
    """The offset from `start` of the first `target` in the row values[start:start +
    positions], searched one BLOCK-long window at a time (see `_first`); `positions` or more
    when it is not there (a map holding NaNs, which the caller then discards)."""
    offset = 0
    while offset < positions:
        found = _first(values, start + offset, target)
        if found < BLOCK:
            return offset + found
        offset += BLOCK
    return offset


@numba.njit(parallel=True, nogil=True, fastmath=FAST_MATH, cache=True)
def map_statistics(maps, bars, maximum, argmax, minimum, argmin, sums, active, clamp=None):
    """Per map of `maps` [B, C, N] (N ≥ 1): max, first argmax, min, first argmin, sum and
    count above 0, written into the [B, C] output arrays (in the order the maps are read).

    bars: None, or per unit [C] a max to beat and a min to undercut; the argmax (argmin) of a
    map that does not is left at -1, saving its search.
    clamp: None, or (out [B, C, N], lower, upper, raw sums [B · C]): the statistics are those
    of the maps clamped to [lower, upper], which are written to `out` in the same read, and
    each map's sum before clamping goes to raw sums (NaN there: the input held a NaN). numba
    compiles each case on its own, so the plain one carries no trace of the other.
    """
    images, channels, positions = maps.shape
    # The searches read on past a row's end (see `_first`), so they take the maps flat; with
    # a clamp they search the clamped values.
    if clamp is None:
        flat = maps.reshape(images * channels * positions)
    else:
        flat = clamp[0].reshape(images * channels * positions)
    if positions <= SHORT:
        # Short maps (7 × 7, 14 × 14): one loop over the whole map (clamping it too, with a
        # clamp), then a search from its start. The blocks' bookkeeping below costs them more
        # than their reads (17 against 9.5 ns for a 7 × 7 map).
        source = maps.reshape(images * channels * positions)
        for index in numba.prange(images * channels):
            image = index // channels
            unit = index - image * channels
            offset = index * positions
            if clamp is None:
                high, low, total, above = _block(source[offset : offset + positions])
            else:
                high, low, total, above, raw = _clamped_block(
                    source[offset : offset + positions],
                    flat[offset : offset + positions],
                    clamp[1],
                    clamp[2],
                )
                clamp[3][index] = raw
            maximum[image, unit] = high
            minimum[image, unit] = low
            if bars is None or high > bars[0][unit]:
                argmax[image, unit] = _first_in_row(flat, offset, positions, high)
            else:
                argmax[image, unit] = -1
            if bars is None or low < bars[1][unit]:
                argmin[image, unit] = _first_in_row(flat, offset, positions, low)
            else:
                argmin[image, unit] = -1
            sums[image, unit] = total
            active[image, unit] = np.int64(above)
        return
    for index in numba.prange(images * channels):
        image = index // channels
        unit = index - image * channels
        row = maps[image, unit]
        offset = index * positions
        # An if statement, not a conditional expression: numba prunes the branch that does not
        # type for a None clamp.
        if clamp is None:  # noqa: SIM108
            high = row[0]
        else:
            high = _minimum(_maximum(row[0], clamp[1]), clamp[2])
        low = high
        high_block = 0
        low_block = 0
        total = 0.0
        above = 0
        raw = 0.0
        for start in range(0, positions, BLOCK):
            if clamp is None:
                block_high, block_low, block_total, block_above = _block(row[start : start + BLOCK])
            else:
                block_high, block_low, block_total, block_above, block_raw = _clamped_block(
                    row[start : start + BLOCK],
                    clamp[0][image, unit, start : start + BLOCK],
                    clamp[1],
                    clamp[2],
                )
                raw += block_raw
            # Strictly greater: the first block that reaches the row's max holds its first position.
            if block_high > high:
                high = block_high
                high_block = start
            if block_low < low:
                low = block_low
                low_block = start
            total += block_total
            above += np.int64(block_above)
        maximum[image, unit] = high
        minimum[image, unit] = low
        if bars is None or high > bars[0][unit]:
            argmax[image, unit] = high_block + _first(flat, offset + high_block, high)
        else:
            argmax[image, unit] = -1
        if bars is None or low < bars[1][unit]:
            argmin[image, unit] = low_block + _first(flat, offset + low_block, low)
        else:
            argmin[image, unit] = -1
        sums[image, unit] = total
        active[image, unit] = above
        if clamp is not None:
            clamp[3][index] = raw


@numba.njit(parallel=True, nogil=True, cache=True)
def merge_ranked(kept, batch, merged, descending):
    """Per unit (row), the best `merged[0].shape[1]` of the kept candidates and the batch's.

    kept, batch and merged are (values, images, positions) tuples of [U, ·] arrays; kept is
    ranked best first, the batch in image order, merged is written. Stable: a candidate goes
    after the kept ones and earlier batch ones it only equals. merged may be kept itself
    (the same arrays, as wide as kept): the merge then happens in place, copying nothing.
    """
    kept_values, kept_images, kept_positions = kept
    batch_values, batch_images, batch_positions = batch
    values, images, positions = merged
    k = values.shape[1]
    in_place = values is kept_values
    for unit in numba.prange(values.shape[0]):
        count = min(kept_values.shape[1], k)
        if not in_place:
            values[unit, :count] = kept_values[unit, :count]
            images[unit, :count] = kept_images[unit, :count]
            positions[unit, :count] = kept_positions[unit, :count]
        for column in range(batch_values.shape[1]):
            value = batch_values[unit, column]
            slot = count
            while slot > 0 and (
                value > values[unit, slot - 1] if descending else value < values[unit, slot - 1]
            ):
                slot -= 1
            if slot == k:
                continue
            # The candidates it beats move one place down; at k the last one drops out.
            for moved in range(min(count, k - 1), slot, -1):
                values[unit, moved] = values[unit, moved - 1]
                images[unit, moved] = images[unit, moved - 1]
                positions[unit, moved] = positions[unit, moved - 1]
            values[unit, slot] = value
            images[unit, slot] = batch_images[unit, column]
            positions[unit, slot] = batch_positions[unit, column]
            count = min(count + 1, k)
