"""Closed forms and numerics for the decoder without biases (*Taking Apart Autoencoders*).

Newson, Almansa, Gousseau, Ladjal, "Taking Apart Autoencoders: How do They Encode Geometric
Shapes?", 2018 (HAL hal-01676326), Section 3.2.2 and Appendix A.

Without biases the decoder is positively homogeneous (Proposition 1), and the learned outputs are
y(t, r) = h(r) f(t) (Eq. 5): one radial profile f scaled by an amplitude h(r). Proposition 2:
the optimal f maximises the *decoding energy* (Eqs. 7 and 10)

    E(f) = int_0^R ( int_0^r f(rho) rho drho )^2 dr     subject to  ||f||_2 = 1,

and the optimal amplitude is h(r) = <f, 1_{B_r}> / ||f||^2 (Eq. 8). As in Eq. 7 the factors 2 pi
of polar coordinates are dropped: here "||f||^2" means int_0^R f(rho)^2 rho drho.

Appendix A states that the maximiser solves f'' = -k t f with (f, f')(0) = (1, 0), "k a free
positive constant that accommodates for the position of the first zero", and that f is an Airy
function combination. The explicit form used here (derived for this book, see the notes):

    f(t) = [Ai(-k^{1/3} t) + Bi(-k^{1/3} t) / sqrt(3)] / (2 Ai(0)),   k = (c / R)^3,

where c ~ 1.986353 is the first positive zero of Ai(-x) + Bi(-x)/sqrt(3). Why: the Euler-Lagrange
equation gives f(rho) = (1/mu) int_rho^R F(r) dr with F(r) = int_0^r f(s) s ds, hence
f'' = -(1/mu) t f, f'(0) = 0 and the natural boundary condition f(R) = 0; f'(0) = 0 fixes the ratio
Bi/Ai = 1/sqrt(3) because Bi'(0) = -sqrt(3) Ai'(0); f(R) = 0 with f > 0 on [0, R) (the top
eigenfunction has no sign change) fixes k^{1/3} R = c. The maximal energy is E* = mu = 1/k.

:func:`optimal_profile_numerical` checks this against a discretised eigenproblem. Measuring a
trained decoder's profile uses :func:`lib.analysis.radial_profile` and :func:`lib.analysis.fit_scale`.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import integrate, optimize, special
from scipy.sparse.linalg import LinearOperator, eigsh

_SQRT3 = math.sqrt(3.0)
_AI0 = float(special.airy(0.0)[0])  # Ai(0) = 3^{-2/3} / Gamma(2/3) ~ 0.355028


# --------------------------------------------------------------------------------------------
# closed form (Appendix A)
# --------------------------------------------------------------------------------------------
def _g(x: np.ndarray | float) -> np.ndarray:
    """Ai(-x) + Bi(-x)/sqrt(3): the even-at-0 solution of y'' = -x y (unnormalised)."""
    ai, _, bi, _ = special.airy(-np.asarray(x, dtype=float))
    return ai + bi / _SQRT3


@functools.cache
def airy_first_zero() -> float:
    """c ~ 1.986353: first positive zero of Ai(-x) + Bi(-x)/sqrt(3), so that k = (c / R)^3."""
    return float(optimize.brentq(_g, 1.0, 3.0, xtol=1e-15, rtol=8.9e-16))


def _check_R(R: float) -> float:
    if (
        isinstance(R, bool)
        or not isinstance(R, (int, float, np.integer, np.floating))
        or not (np.isfinite(R) and R > 0)
    ):
        raise ValueError(f"R must be a positive finite radius, got {R!r}")
    return float(R)


def airy_k(R: float) -> float:
    """The constant k of f'' = -k t f placing the first zero of the optimal profile at t = R."""
    return (airy_first_zero() / _check_R(R)) ** 3


def _check_t(t: np.ndarray) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ValueError("t must be finite and non-negative (a radial distance)")
    return t


def airy_profile(t: np.ndarray | float, R: float, extend: bool = False) -> np.ndarray:
    """Optimal decoding profile f of Proposition 2 in closed form (Appendix A); same shape as t.

    f solves f'' = -k t f on [0, R] with f(0) = 1, f'(0) = 0 and first zero f(R) = 0
    (k = :func:`airy_k` (R)). For t > R it returns 0 (the optimum over the image domain: f only
    enters E(f) on [0, R], so any mass beyond R would only increase ||f||), unless ``extend=True``,
    which returns the analytic continuation of the Airy combination (it oscillates).
    """
    t = _check_t(t)
    s = airy_first_zero() / _check_R(R) * t  # k^{1/3} t = c t / R
    f = _g(s) / (2.0 * _AI0)
    if not extend:
        f = np.where(t <= R, f, 0.0)
    return f


def alternative_profiles(t: np.ndarray | float, R: float) -> dict[str, np.ndarray]:
    """Three bell-shaped radial profiles other than the Airy one, each 1 at t = 0 and 0 from
    t = R on: the candidates that :data:`~lib.taking_apart.measure.PROFILE_VERDICT_RULE`
    asks the trained profile to be told from (chapter 01, Section 5)."""
    t = _check_t(t)
    u = np.clip(t / _check_R(R), 0.0, 1.0)
    return {
        "1 - (t/R)^2": 1.0 - u**2,
        "cos(pi t / 2R)": np.cos(np.pi * u / 2.0),
        "1 - t/R": 1.0 - u,
    }


def airy_profile_derivative(t: np.ndarray | float, R: float) -> np.ndarray:
    """f'(t) of :func:`airy_profile` on [0, R] (0 beyond R)."""
    t = _check_t(t)
    a = airy_first_zero() / _check_R(R)  # k^{1/3}
    _, aip, _, bip = special.airy(-a * t)
    df = -a * (aip + bip / _SQRT3) / (2.0 * _AI0)
    return np.where(t <= R, df, 0.0)


def optimal_amplitude(r: np.ndarray | float, R: float) -> np.ndarray:
    """Optimal amplitude h(r) = <f, 1_{B_r}> / ||f||^2 of Eq. 8 for the closed-form f (2 pi dropped).

    Uses int_0^r f(t) t dt = -f'(r) / k (integrate f'' = -k t f), constant for r >= R. Appendix A,
    Fig. 7 (right) plots the learned code z against this h.
    """
    r = _check_t(r)
    k = airy_k(R)
    num = -airy_profile_derivative(np.minimum(r, R), R) / k
    den, _ = integrate.quad(lambda t: airy_profile(t, R) ** 2 * t, 0.0, R, limit=200)
    return num / den


# --------------------------------------------------------------------------------------------
# energy and numerical optimum (Eqs. 7, 10)
# --------------------------------------------------------------------------------------------
def profile_norm_sq(f: np.ndarray, t: np.ndarray) -> float:
    """int f(t)^2 t dt over the grid t (trapezoid): ||f||_2^2 / (2 pi) of a radial function."""
    f, t = np.asarray(f, dtype=float), np.asarray(t, dtype=float)
    return float(integrate.trapezoid(f * f * t, t))


def decoding_energy(f: np.ndarray, t: np.ndarray, normalize: bool = True) -> float:
    """Decoding energy E(f) = int_0^R (int_0^r f(rho) rho drho)^2 dr of Eqs. 7/10 (trapezoid rule).

    ``f`` is sampled on the increasing grid ``t`` (t[0] should be 0; R = t[-1]). With
    ``normalize=True`` f is first scaled to int_0^R f^2 rho drho = 1, the constraint of
    Proposition 2, so energies of different profiles are comparable (the Rayleigh quotient);
    ``normalize=False`` gives the raw E(f).
    """
    f, t = np.asarray(f, dtype=float), np.asarray(t, dtype=float)
    if f.shape != t.shape or t.ndim != 1 or t.size < 2:
        raise ValueError(
            f"f and t must be 1-D arrays of the same length >= 2, got {f.shape} and {t.shape}"
        )
    if np.any(np.diff(t) <= 0) or t[0] < 0:
        raise ValueError("t must be increasing and non-negative")
    inner = integrate.cumulative_trapezoid(
        f * t, t, initial=0.0
    )  # F(r) = int_0^r f rho drho
    energy = float(integrate.trapezoid(inner**2, t))
    if normalize:
        norm_sq = profile_norm_sq(f, t)
        if norm_sq <= 0:
            raise ValueError("f has zero norm; cannot normalise")
        energy /= norm_sq
    return energy


def _energy_operator(R: float, n: int) -> tuple[np.ndarray, np.ndarray, LinearOperator]:
    """Galerkin discretisation of E with f piecewise constant on n cells of [0, R].

    On cell j = [a, a + h] (a = j h), F(r) = S_j + f_j q(r) with S_j = sum_{i<j} m_i f_i,
    m_i = int_cell rho drho = a h + h^2/2 and q(r) = (r^2 - a^2)/2. Exactly,
    E = sum_j h S_j^2 + 2 P_j S_j f_j + Q_j f_j^2 with P_j = int q = a h^2/2 + h^3/6 and
    Q_j = int q^2 = a^2 h^3/3 + a h^4/4 + h^5/20. E = f^T A f and ||f||^2 = f^T diag(m) f.
    Returns (cell midpoints, m, B) with B = diag(m)^{-1/2} A diag(m)^{-1/2} as an O(n) operator.
    """
    h = R / n
    a = np.arange(n) * h
    m = a * h + h**2 / 2
    p = a * h**2 / 2 + h**3 / 6
    q = a**2 * h**3 / 3 + a * h**4 / 4 + h**5 / 20
    inv_sqrt_m = 1.0 / np.sqrt(m)

    def apply_a(f: np.ndarray) -> np.ndarray:
        s = np.concatenate([[0.0], np.cumsum(m * f)[:-1]])  # S_j, exclusive cumsum
        g = h * s + p * f  # dE/dS_j / 2
        tail = np.concatenate([np.cumsum(g[::-1])[::-1][1:], [0.0]])  # sum_{j > k} g_j
        return m * tail + p * s + q * f  # (A f)_k = grad E / 2

    def matvec(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=float).reshape(-1)
        return inv_sqrt_m * apply_a(inv_sqrt_m * v)

    op = LinearOperator((n, n), matvec=matvec, rmatvec=matvec, dtype=float)
    return a + h / 2, m, op


def optimal_profile_numerical(R: float, n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Numerical maximiser of E(f) s.t. ||f|| = 1 (Proposition 2) as a generalised eigenproblem.

    f is piecewise constant on n equal cells of [0, R] (an exact Galerkin discretisation, see
    :func:`_energy_operator`); the top eigenvector of A v = lambda M v is found by Lanczos on an
    O(n) operator. Returns (t, f): t the cell midpoints (i + 1/2) R / n and f the cell values,
    normalised so the first cell is 1 (f(0) = 1 up to k h^3 / 48, negligible). The paper's
    Appendix A uses gradient descent instead; both target the same optimum.
    """
    R = _check_R(R)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 3:
        raise ValueError(f"n must be an integer >= 3, got {n!r}")
    t, m, op = _energy_operator(float(R), int(n))
    if n <= 64:  # small: dense eigendecomposition of the operator's matrix
        dense = np.column_stack([op.matvec(e) for e in np.eye(n)])
        _, vecs = np.linalg.eigh((dense + dense.T) / 2)
        v = vecs[:, -1]
    else:  # the top eigenvalue is ~ 10x the next one: Lanczos converges in a few steps
        _, vecs = eigsh(op, k=1, which="LA", v0=np.sqrt(m), tol=1e-12)
        v = vecs[:, 0]
    f = v / np.sqrt(m)
    return t, f / f[0]
