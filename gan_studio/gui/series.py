"""Bounded-memory curves for long runs: a series that halves its resolution instead of growing."""
from __future__ import annotations

import numpy as np


class DecimatingSeries:
    """Keeps at most ``capacity`` points of a curve y(x) appended in order.

    Each stored point is the mean of ``stride`` consecutive raw points; when the buffer fills, adjacent
    pairs merge and the stride doubles. Memory is O(capacity) for any run length, and the drawn curve
    stays smooth (bucket means, not dropped points)."""

    def __init__(self, capacity: int = 2048) -> None:
        if capacity < 4 or capacity % 2:
            raise ValueError("capacity must be an even number >= 4")
        self.capacity = capacity
        self.clear()

    def clear(self) -> None:
        self._x = np.empty(self.capacity, np.float64)
        self._y = np.empty(self.capacity, np.float64)
        self._n = 0
        self.stride = 1
        self._acc_x = 0.0
        self._acc_y = 0.0
        self._acc_n = 0
        self.total = 0

    def __len__(self) -> int:
        return self._n

    def append(self, x: np.ndarray, y: np.ndarray) -> None:
        x = np.asarray(x, np.float64).ravel()
        y = np.asarray(y, np.float64).ravel()
        if len(x) != len(y):
            raise ValueError("x and y must have the same length")
        self.total += len(x)
        i = 0
        while i < len(x):
            # finish the partial bucket
            if self._acc_n:
                take = min(self.stride - self._acc_n, len(x) - i)
                self._acc_x += x[i:i + take].sum()
                self._acc_y += y[i:i + take].sum()
                self._acc_n += take
                i += take
                if self._acc_n == self.stride:
                    self._push(np.array([self._acc_x / self.stride]), np.array([self._acc_y / self.stride]))
                    self._acc_x = self._acc_y = 0.0
                    self._acc_n = 0
                continue
            # whole buckets, vectorised, up to the free space
            free = self.capacity - self._n
            n_full = min((len(x) - i) // self.stride, free)
            if n_full:
                seg = slice(i, i + n_full * self.stride)
                self._push(x[seg].reshape(n_full, self.stride).mean(1), y[seg].reshape(n_full, self.stride).mean(1))
                i += n_full * self.stride
                continue
            if free == 0:
                self._halve()
                continue
            # the rest starts a partial bucket
            rest = len(x) - i
            self._acc_x = x[i:].sum()
            self._acc_y = y[i:].sum()
            self._acc_n = rest
            i = len(x)

    def _push(self, xs: np.ndarray, ys: np.ndarray) -> None:
        if self._n + len(xs) > self.capacity:
            self._halve()
        self._x[self._n:self._n + len(xs)] = xs
        self._y[self._n:self._n + len(ys)] = ys
        self._n += len(xs)

    def _halve(self) -> None:
        n = self._n - self._n % 2
        half = n // 2
        self._x[:half] = self._x[:n].reshape(half, 2).mean(1)
        self._y[:half] = self._y[:n].reshape(half, 2).mean(1)
        if self._n % 2:  # an odd point left over: keep it (it is the mean of `stride` raw points)
            self._x[half] = self._x[n]
            self._y[half] = self._y[n]
            half += 1
        self._n = half
        self.stride *= 2
        # a pending partial bucket now belongs to the wider stride; its sums stay valid

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        """The stored points (views into the buffer: copy them if kept)."""
        return self._x[:self._n], self._y[:self._n]
