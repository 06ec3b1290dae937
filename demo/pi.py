"""The Leibniz series for pi, computed in chunks so a long run can record its progress."""

from __future__ import annotations

import math
from collections.abc import Callable

# Terms summed between two progress reports; about a tenth of a second of CPython work.
PROGRESS_STEP = 1_000_000


def leibniz_terms(start: int, stop: int) -> float:
    """Return the sum of (-1)**k / (2k + 1) for k from ``start`` up to, not including, ``stop``."""
    total = 0.0
    sign = 1.0 if start % 2 == 0 else -1.0
    for denominator in range(2 * start + 1, 2 * stop + 1, 2):
        total += sign / denominator
        sign = -sign
    return total


def checkpoints(iterations: int, count: int) -> list[int]:
    """Return up to ``count`` iteration counts from 1 to ``iterations``, spaced evenly on a log scale.

    A log scale shows the early zigzag around pi and the slow convergence in one chart.
    """
    if iterations < 1:
        raise ValueError(f"iterations must be 1 or more, not {iterations!r}.")
    if count < 2 or iterations == 1:
        return [iterations]
    points = {round(iterations ** (index / (count - 1))) for index in range(count)}
    return sorted(point for point in points if 1 <= point <= iterations)


def approximate_pi_points(
    iterations: int, count: int, on_progress: Callable[[int], None] | None = None
) -> tuple[float, list[list[float]]]:
    """Return the approximation after ``iterations`` terms and ``[terms, approximation]`` pairs.

    ``on_progress(terms_done)`` is called after each checkpoint and every PROGRESS_STEP terms,
    because the last checkpoints of a log scale hold most of the work.
    """
    partial_sum = 0.0
    done = 0
    points: list[list[float]] = []
    for point in checkpoints(iterations, count):
        while done < point:
            step_end = min(point, done + PROGRESS_STEP)
            partial_sum += leibniz_terms(done, step_end)
            done = step_end
            if on_progress is not None:
                on_progress(done)
        points.append([point, 4 * partial_sum])
    return 4 * partial_sum, points


def error_digits(value: float) -> int:
    """Return how many decimal places of ``value`` agree with math.pi."""
    error = abs(value - math.pi)
    if error == 0:
        return 15
    return max(0, int(-math.log10(error)))
