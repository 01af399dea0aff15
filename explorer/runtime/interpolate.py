"""Latent paths between two points: linear and spherical (slerp), pure numpy.

A standard-normal latent lives near a sphere of radius ≈ sqrt(latent_dim); the straight line
between two such points cuts through the low-norm interior the generator rarely saw, so the
spherical path (constant-speed great circle, with the norm interpolated linearly) usually
morphs more naturally. Both paths start exactly at ``a`` and end exactly at ``b``.
"""
from __future__ import annotations

import numpy as np

METHODS = ("linear", "spherical")
MAX_STEPS = 200


def _check(a: np.ndarray, b: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray, int]:
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"end points must be non-empty vectors of the same size, got {a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("end points must be finite")
    if isinstance(steps, bool) or int(steps) != steps or not 2 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be a whole number from 2 to {MAX_STEPS}, got {steps!r}")
    return a, b, int(steps)


def linear(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` evenly spaced points on the segment a → b, shape [steps, dim], float32."""
    a, b, steps = _check(a, b, steps)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return ((1 - t) * a + t * b).astype(np.float32)


def spherical(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """Great-circle path a → b (slerp on the directions, linear on the norms), shape [steps, dim].

    Falls back to the linear path when the directions are (anti)parallel or a point is 0,
    where the great circle is undefined.
    """
    a, b, steps = _check(a, b, steps)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return linear(a, b, steps)
    ua, ub = a / na, b / nb
    omega = np.arccos(np.clip(ua @ ub, -1.0, 1.0))
    if omega < 1e-6 or np.pi - omega < 1e-6:
        return linear(a, b, steps)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    direction = (np.sin((1 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
    path = direction * ((1 - t) * na + t * nb)
    path[0], path[-1] = a, b  # exact end points despite rounding
    return path.astype(np.float32)


def path(a: np.ndarray, b: np.ndarray, steps: int, method: str = "spherical") -> np.ndarray:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    return (linear if method == "linear" else spherical)(a, b, steps)
