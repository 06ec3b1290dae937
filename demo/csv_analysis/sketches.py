"""Bounded-memory summaries of a stream of values, each updated one batch at a time."""

from __future__ import annotations

import hashlib
import heapq
import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping


class RunningMoments:
    """Count, mean and sum of squared deviations (M2) of a stream of floats.

    Each batch gets its own mean and M2, which then merge into the totals with the
    pairwise form of Welford's update (Chan, Golub and LeVeque, 1979). Like Welford's
    per-value update, this avoids the cancellation of the sum-of-squares formula.
    """

    def __init__(self) -> None:
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0

    def add_batch(self, values: list[float]) -> None:
        batch_count = len(values)
        if batch_count == 0:
            return
        try:
            batch_mean = math.fsum(values) / batch_count
        except OverflowError:
            # The exact sum left the float range, but the mean of finite values cannot.
            batch_mean = math.fsum([value / batch_count for value in values])
        try:
            batch_m2 = math.fsum([(value - batch_mean) ** 2 for value in values])
        except OverflowError:
            batch_m2 = math.inf

        total = self.count + batch_count
        delta = batch_mean - self.mean
        self.mean += delta * (batch_count / total)
        self.m2 += batch_m2 + delta * delta * (self.count * batch_count / total)
        self.count = total

    def sample_std(self) -> float | None:
        """Return the sample standard deviation (n - 1 denominator), or None below two values."""
        if self.count < 2:
            return None
        return math.sqrt(self.m2 / (self.count - 1))


class StreamingHistogram:
    """Exact counts on a grid of power-of-two-wide bins that coarsens as the range grows.

    Bin i covers [i * 2**exponent, (i + 1) * 2**exponent). The grid spans at most
    ``resolution`` bins, a power of two, so memory is bounded by that (about 64 bytes per
    occupied bin). When a batch widens the range beyond it, the exponent grows and
    neighbouring bins merge exactly, because floor(x / 2**(e + k)) == floor(x / 2**e) >> k.
    Once two distinct values were seen, the range covers at least resolution / 4 bins,
    which keeps the grid fine enough for ``bins()``. The exception is a range below
    about 2**-990, where the exponent stops shrinking.

    NOTE: for a value within about 2**-50 of zero in a column whose range exceeds
    2**1000, scaling underflows and the value can land in the neighbouring fine bin.
    """

    # Keeps 2**-exponent finite for spans down to the smallest subnormal floats.
    _MIN_EXPONENT = -1000

    def __init__(self, resolution: int) -> None:
        if resolution < 4 or resolution & (resolution - 1):
            raise ValueError(f"resolution must be a power of two of at least 4, not {resolution}.")
        self.resolution = resolution
        self.exponent: int | None = None
        self.counts: dict[int, int] = {}
        self.count = 0
        self.low = math.inf
        self.high = -math.inf

    def add_batch(self, values: list[float], batch_low: float, batch_high: float) -> None:
        if not values:
            return
        previous_count = self.count
        previous_low = self.low
        self.count += len(values)
        self.low = min(self.low, batch_low)
        self.high = max(self.high, batch_high)

        if self.exponent is None:
            # No scale exists until two distinct values are seen. Until then every value
            # equals self.low, and only the count grows.
            if self.low == self.high:
                return
            self.exponent = self._exponent_for(self.low, self.high)
            if previous_count:
                self.counts[self._index(previous_low)] = previous_count
        else:
            self._cover(self.low, self.high)

        scale = math.ldexp(1.0, -self.exponent)
        batch_counts = Counter(map(math.floor, map(scale.__mul__, values)))
        counts = self.counts
        for index, count in batch_counts.items():
            counts[index] = counts.get(index, 0) + count

    def bins(self, bin_count: int) -> list[dict[str, float | int]]:
        """Return ``bin_count`` bins of about equal width from the minimum to the maximum.

        Inner edges snap to the nearest fine-grid boundary, so each count is exact for
        the edges returned. Bins are [lower, upper) except the last, which includes upper.
        """
        if self.count == 0:
            return []
        if self.exponent is None:
            return [{"lower": self.low, "upper": self.high, "count": self.count}]

        scale = math.ldexp(1.0, -self.exponent)
        width = math.ldexp(1.0, self.exponent)
        low_index = self.low * scale
        span = self.high * scale - low_index
        boundaries = [round(low_index + span * step / bin_count) for step in range(1, bin_count)]

        counts = [0] * bin_count
        for index, count in self.counts.items():
            counts[bisect_right(boundaries, index)] += count

        edges = [self.low]
        edges.extend(min(max(boundary * width, self.low), self.high) for boundary in boundaries)
        edges.append(self.high)
        return [
            {"lower": edges[position], "upper": edges[position + 1], "count": counts[position]}
            for position in range(bin_count)
        ]

    def _index(self, value: float) -> int:
        assert self.exponent is not None
        return math.floor(value * math.ldexp(1.0, -self.exponent))

    def _exponent_for(self, low: float, high: float) -> int:
        """Return the exponent whose grid spans [low, high] in at most resolution / 2 + 1 bins."""
        span = high - low
        if math.isinf(span):
            # Both ends are near the float limits. Half the span is representable.
            _, span_exponent = math.frexp(high / 2 - low / 2)
            span_exponent += 1
        else:
            _, span_exponent = math.frexp(span)
        # span < 2**span_exponent, so bins of 2**(span_exponent - k) cover it in 2**k + 1.
        halving_steps = (self.resolution // 2).bit_length() - 1
        return max(span_exponent - halving_steps, self._MIN_EXPONENT)

    def _cover(self, low: float, high: float) -> None:
        """Coarsen the grid until [low, high] spans fewer than ``resolution`` bins."""
        assert self.exponent is not None
        scale = math.ldexp(1.0, -self.exponent)
        scaled_low = low * scale
        scaled_high = high * scale
        # The scaled values overflow to inf when the range grew by hundreds of octaves.
        fits = (
            math.isfinite(scaled_low)
            and math.isfinite(scaled_high)
            and math.floor(scaled_high) - math.floor(scaled_low) < self.resolution
        )
        if fits:
            return
        new_exponent = max(self._exponent_for(low, high), self.exponent + 1)
        shift = new_exponent - self.exponent
        merged: dict[int, int] = {}
        for index, count in self.counts.items():
            merged_index = index >> shift
            merged[merged_index] = merged.get(merged_index, 0) + count
        self.counts = merged
        self.exponent = new_exponent


class HyperLogLog:
    """Distinct-count estimate of a stream of strings in 2**precision one-byte registers.

    The relative standard error is about 1.04 / sqrt(2**precision), 0.81 % at the
    default precision of 14 (16 KiB). The estimate uses the improved estimator from
    Otmar Ertl, "New Cardinality Estimation Methods for HyperLogLog Sketches" (2017),
    which needs neither the linear-counting switch nor empirical bias tables.
    """

    def __init__(self, precision: int = 14) -> None:
        self.precision = precision
        self.registers = bytearray(1 << precision)

    def add_keys(self, keys: Iterable[str]) -> None:
        registers = self.registers
        precision = self.precision
        mask = (1 << precision) - 1
        # A register stores 1 + the number of leading zeros in the remaining bits,
        # or remaining_bits + 1 when they are all zero.
        rank_base = 64 - precision + 1
        # BLAKE2b rather than hash(), whose per-process salt would make the estimate for
        # the same file vary between runs. Names are bound locally for speed.
        blake2b = hashlib.blake2b
        from_bytes = int.from_bytes
        for key in keys:
            hashed = from_bytes(blake2b(key.encode(), digest_size=8).digest(), "little")
            index = hashed & mask
            rank = rank_base - (hashed >> precision).bit_length()
            if rank > registers[index]:
                registers[index] = rank

    def estimate(self) -> float:
        register_count = len(self.registers)
        remaining_bits = 64 - self.precision
        histogram = [0] * (remaining_bits + 2)
        for value in self.registers:
            histogram[value] += 1

        z = register_count * _tau(1 - histogram[remaining_bits + 1] / register_count)
        for rank in range(remaining_bits, 0, -1):
            z = 0.5 * (z + histogram[rank])
        z += register_count * _sigma(histogram[0] / register_count)
        if math.isinf(z):
            return 0.0
        return register_count * register_count / (2 * math.log(2)) / z


def _sigma(x: float) -> float:
    """Return x + sum over k >= 1 of x**(2**k) * 2**(k - 1), Ertl's correction for empty registers."""
    if x == 1:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        previous = z
        z += x * y
        y += y
        if z == previous:
            return z


def _tau(x: float) -> float:
    """Return Ertl's correction for registers that reached the maximum rank."""
    if x == 0 or x == 1:
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = math.sqrt(x)
        previous = z
        y *= 0.5
        z -= (1 - x) ** 2 * y
        if z == previous:
            return z / 3


class FrequentItems:
    """Misra-Gries summary of the most frequent keys in at most ``capacity`` counters.

    Counts are lower bounds, and each is at most ``error`` below the true count, so any
    key that occurred more than ``error`` times is present. Unlike space-saving, the
    summary drops keys instead of reporting inflated counts for them, so a column of
    unique IDs ends with an empty summary and no made-up frequent values.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.counts: dict[str, int] = {}
        self.error = 0

    def add_counts(self, batch: Mapping[str, int]) -> None:
        counts = self.counts
        for key, count in batch.items():
            counts[key] = counts.get(key, 0) + count
        if len(counts) > self.capacity:
            self._prune()

    def _prune(self) -> None:
        # Subtracting the (capacity + 1)-th largest count from every counter is the merge
        # step for Misra-Gries summaries in Agarwal et al., "Mergeable Summaries" (2012).
        # Each subtraction lowers any key's count by at most the threshold, so the sum of
        # thresholds bounds the undercount.
        threshold = heapq.nlargest(self.capacity + 1, self.counts.values())[-1]
        self.error += threshold
        self.counts = {key: count - threshold for key, count in self.counts.items() if count > threshold}


def most_frequent(counts: Mapping[str, int], limit: int) -> list[tuple[str, int]]:
    """Return the ``limit`` keys with the highest counts, ties broken by key."""
    return heapq.nsmallest(limit, counts.items(), key=_frequency_order)


def _frequency_order(item: tuple[str, int]) -> tuple[int, str]:
    return (-item[1], item[0])
