"""Measurements shared by the chapters; they know no model and no paper.

- fits: :func:`linear_fit` (with R²), :func:`fit_scale`, :func:`relative_l2_error`;
- images: :func:`per_image_sse`, :func:`radial_profile` (ring means around a centre);
- training curves: :func:`relative_late_change` (has a loss curve settled?);
- circular statistics of latent angles: :func:`angle_ks_statistic` (the KS distance to the
  uniform law, which depends on where the circle is cut), :func:`kuiper_uniformity` (a test
  of uniformity that does not), :func:`circular_correlation_matrix` (Fisher-Lee correlation
  between angles), :func:`marginal_uniformity_tests` and :func:`torus_uniformity_tests` (is a
  sample uniform one angle at a time; on the torus, jointly?).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats


@dataclass(frozen=True)
class LinearFit:
    """y ≈ slope · x + intercept, with the coefficient of determination R²."""

    slope: float
    intercept: float
    r2: float

    def __str__(self) -> str:
        return f"slope {self.slope:.4g}, intercept {self.intercept:.4g}, R² = {self.r2:.4f}"


def _numpy(a) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64).reshape(-1)


def linear_fit(x, y) -> LinearFit:
    """Least-squares line through (x, y) and its R² = 1 − SS_res / SS_tot."""
    x, y = _numpy(x), _numpy(y)
    if x.shape != y.shape or x.size < 2:
        raise ValueError(
            f"x and y need the same length >= 2, got {x.size} and {y.size}"
        )
    design = np.stack([x, np.ones_like(x)], axis=1)  # (n, 2)
    (slope, intercept), *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ np.array([slope, intercept])
    total = np.sum((y - y.mean()) ** 2)
    r2 = 1.0 - float(np.sum(residual**2)) / float(total) if total > 0 else float("nan")
    return LinearFit(float(slope), float(intercept), r2)


def per_image_sse(recon: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Squared error summed over each image's pixels: (B,)."""
    return (recon - x).pow(2).flatten(1).sum(1)


def radial_profile(
    images: torch.Tensor | np.ndarray,
    center: tuple[float, float] | None = None,
    bin_width: float = 1.0,
    max_radius: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Average images over rings around ``center``; returns (radii_grid, profile) as numpy arrays.

    ``images``: (H, W), (B, H, W) or (B, 1, H, W), torch or numpy. ``center`` (row, col) defaults to
    ((H-1)/2, (W-1)/2), the disk centre of :mod:`lib.data.disks`. Pixel (i, j) at distance d goes
    to bin floor(d / bin_width); radii_grid is the mean pixel distance in each non-empty bin (so a
    profile can be compared with f(t) at the right t), shape (nbins,); profile is (nbins,) for one
    image, else (B, nbins). Pixels with d > ``max_radius`` are dropped; by default all pixels are
    kept, and bins beyond min(H, W)/2 then average only the corners' partial rings.
    The disk chapter extracts a decoder's radial profile with it (Newson et al. 2018, Figs. 3, 7-9).
    """
    x = (
        images.detach().cpu().numpy()
        if isinstance(images, torch.Tensor)
        else np.asarray(images)
    )
    x = x.astype(np.float64)
    single = x.ndim == 2
    if x.ndim == 4:
        if x.shape[1] != 1:
            raise ValueError(f"images of shape (B, C, H, W) need C = 1, got {x.shape}")
        x = x[:, 0]
    elif single:
        x = x[None]
    elif x.ndim != 3:
        raise ValueError(
            f"images must be (H, W), (B, H, W) or (B, 1, H, W), got shape {x.shape}"
        )
    if not bin_width > 0:
        raise ValueError(f"bin_width must be positive, got {bin_width!r}")
    b, hgt, wid = x.shape
    cy, cx = ((hgt - 1) / 2, (wid - 1) / 2) if center is None else center
    yy, xx = np.meshgrid(np.arange(hgt) - cy, np.arange(wid) - cx, indexing="ij")
    d = np.hypot(yy, xx).reshape(-1)  # (P,), P = H*W
    keep = np.ones_like(d, dtype=bool) if max_radius is None else d <= max_radius
    d, flat = d[keep], x.reshape(b, -1)[:, keep]  # (P',), (B, P')
    idx = np.floor(d / bin_width).astype(np.int64)  # (P',)
    nbins = int(idx.max()) + 1 if idx.size else 0
    counts = np.bincount(idx, minlength=nbins)  # (nbins,)
    mean_d = np.bincount(idx, weights=d, minlength=nbins)
    # one bincount over all images: offset each image's bins by image_index * nbins
    offs = (np.arange(b)[:, None] * nbins + idx[None, :]).reshape(-1)  # (B*P',)
    sums = np.bincount(offs, weights=flat.reshape(-1), minlength=b * nbins).reshape(
        b, nbins
    )
    nonempty = counts > 0
    radii_grid = mean_d[nonempty] / counts[nonempty]
    profile = sums[:, nonempty] / counts[nonempty]  # (B, nbins')
    return radii_grid, (profile[0] if single else profile)


def fit_scale(profile: np.ndarray, reference: np.ndarray) -> float:
    """Least-squares scale lambda = <p, r> / <p, p> minimising ||lambda p - r||_2.

    Profiles of a bias-free decoder are only defined up to scale (Eq. 5, h(r) f(t)), so a learned
    profile is scaled onto the closed form before comparing them (Appendix A, Fig. 8).
    """
    p, r = np.asarray(profile, dtype=float), np.asarray(reference, dtype=float)
    if p.shape != r.shape:
        raise ValueError(
            f"profile and reference must have the same shape, got {p.shape} and {r.shape}"
        )
    pp = float(np.sum(p * p))
    if pp == 0.0:
        raise ValueError("profile is identically zero; no scale fits")
    return float(np.sum(p * r)) / pp


def relative_l2_error(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b||_2 / ||b||_2, with ``b`` the reference."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(
            f"a and b must have the same shape, got {a.shape} and {b.shape}"
        )
    nb = float(np.linalg.norm(b))
    if nb == 0.0:
        raise ValueError("reference b is identically zero")
    return float(np.linalg.norm(a - b)) / nb


def relative_late_change(losses, fraction: float = 0.1) -> float:
    """How much a training curve still moved near its end: the mean of the per-step
    ``losses`` over the last ``fraction`` of the steps, relative to their mean over the
    ``fraction`` before, minus one (window means, so the noise of single minibatches averages
    out). Negative while the loss still falls; a curve "has settled" when the absolute value
    is small (chapter 01 asks for < 0.02)."""
    v = np.asarray(losses, dtype=np.float64)
    if v.ndim != 1 or not np.isfinite(v).all():
        raise ValueError(
            f"losses must be a 1-d sequence of finite numbers, got shape {v.shape}"
        )
    if not (isinstance(fraction, (int, float)) and 0 < fraction <= 0.5):
        raise ValueError(f"fraction must be in (0, 0.5], got {fraction!r}")
    width = int(round(fraction * len(v)))
    if width < 10:
        raise ValueError(
            f"the last {fraction:.0%} of {len(v)} steps holds {width} losses; "
            "need at least 10 per window"
        )
    last, before = (
        v[len(v) - width :].mean(),
        v[len(v) - 2 * width : len(v) - width].mean(),
    )
    if before <= 0:
        raise ValueError(f"losses must be positive near the end, mean {before:g}")
    return float(last / before - 1)


def _as_float64(a: torch.Tensor | np.ndarray) -> np.ndarray:
    return (
        a.detach().cpu().double().numpy()
        if torch.is_tensor(a)
        else np.asarray(a, dtype=np.float64)
    )


def angle_ks_statistic(phi: torch.Tensor | np.ndarray) -> np.ndarray:
    """The Kolmogorov-Smirnov statistic of each angle against U(-pi, pi). Input (n, d); output (d,).

    It is the largest gap between the empirical CDF and the uniform CDF: 0 is perfect and 1 is
    the worst. For n i.i.d. uniform samples it is on average about 0.87 / sqrt(n) (the mean of
    the Kolmogorov distribution), e.g. about 0.012 for n = 5000. Compute it on encoded *held-out*
    data. Within one training batch the spring loss makes the angles nearly equally spaced by
    construction.
    """
    a = _as_float64(phi)
    if a.ndim != 2:
        raise ValueError(f"phi must have shape (n, d), got {a.shape}")
    return np.array(
        [
            stats.kstest(a[:, i], "uniform", args=(-np.pi, 2 * np.pi)).statistic
            for i in range(a.shape[1])
        ]
    )


def circular_correlation_matrix(phi: torch.Tensor | np.ndarray) -> np.ndarray:
    """Fisher-Lee (1983) circular correlation between every pair of angles. Input (n, d); output (d, d).

        rho(a, b) = E[sin(a1 - a2) sin(b1 - b2)] / sqrt(E[sin^2(a1 - a2)] E[sin^2(b1 - b2)]),

    where (a1, b1) and (a2, b2) are two independent draws. The estimator averages over all pairs of
    samples, which is O(n) by the closed form ``4(AB - CD) / sqrt((n^2 - E^2 - F^2)(n^2 - G^2 - H^2))``.
    The result is in [-1, 1]: +1 when b = a + c, -1 when b = -a + c, and about 0 for independent
    angles. The diagonal is 1. We use it instead of the Jammalamadaka-SenGupta coefficient because
    that one subtracts circular means, which are ill-defined for the near-uniform angles we want.
    Apply it to Fig. 5-style scatter plots: it measures the "pesky correlations" of Sect. 5.
    """
    a = _as_float64(phi)
    if a.ndim != 2:
        raise ValueError(f"phi must have shape (n, d), got {a.shape}")
    n = a.shape[0]
    c, s = np.cos(a), np.sin(a)  # (n, d)
    A, B, C = c.T @ c, s.T @ s, c.T @ s  # (d, d); D = C.T
    num = 4 * (A * B - C * C.T)
    spread = n**2 - np.cos(2 * a).sum(0) ** 2 - np.sin(2 * a).sum(0) ** 2  # (d,)
    return num / np.sqrt(np.outer(spread, spread))


def empty_cell_share(
    phi: torch.Tensor | np.ndarray, a: int, b: int, bins: int = 8
) -> float:
    """The share of the ``bins x bins`` equal cells of the (phi_a, phi_b) square that hold
    fewer than a quarter of the codes a uniform law puts there: the "gaps" of a scatter plot
    of two angles (0 for uniform codes, large for codes on a curve). ``phi`` (n, d)."""
    x = _as_float64(phi)
    if x.ndim != 2 or not (0 <= a < x.shape[1] and 0 <= b < x.shape[1]):
        raise ValueError(f"phi (n, d) and angles a, b < d, got {x.shape}, {a}, {b}")
    counts, _, _ = np.histogram2d(
        _wrap(x[:, a]), _wrap(x[:, b]), bins=bins, range=[[-np.pi, np.pi]] * 2
    )
    return float((counts < len(x) / bins**2 / 4).mean())


@torch.no_grad()
def nearest_distance(images: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Mean squared pixel distance of each image to its nearest reference image: (n,).

    ``images`` (n, ...) and ``reference`` (m, ...) with the same image shape; computed as
    ``|x|^2 - 2 x.y + |y|^2`` over flattened images, one matrix product, on their device.
    """
    if images.shape[1:] != reference.shape[1:]:
        raise ValueError(
            f"images {tuple(images.shape)} and reference {tuple(reference.shape)} differ "
            "in image shape"
        )
    flat, ref = images.flatten(1).float(), reference.flatten(1).float()
    d2 = (
        flat.pow(2).sum(1, keepdim=True) - 2 * flat @ ref.T + ref.pow(2).sum(1)
    ) / flat.shape[1]  # (n, m)
    return d2.min(1).values.clamp_min(0).cpu()


def _wrap(a: np.ndarray) -> np.ndarray:
    return np.mod(a + np.pi, 2 * np.pi) - np.pi


def kuiper_uniformity(angles: torch.Tensor | np.ndarray) -> tuple[float, float]:
    """Kuiper's test of angles (n,) against the uniform law on the circle: ``(V, p-value)``.

    ``V = D+ + D-``, the largest gaps of the empirical CDF above and below the uniform one.
    Unlike the Kolmogorov-Smirnov statistic it does not depend on where the circle is cut:
    rotating every angle by the same amount leaves V unchanged (Kuiper 1960; Mardia and Jupp,
    *Directional Statistics*, Sect. 6.3.1). The p-value is astropy's
    (``astropy.stats.kuiper``), whose tail agrees with Stephens' (1970) critical values for
    ``V (sqrt(n) + 0.155 + 0.24 / sqrt(n))``: 1.620, 1.747, 1.862 and 2.001 at 10, 5, 2.5 and
    1 %.
    """
    from astropy.stats import kuiper

    a = _as_float64(angles)
    if a.ndim != 1 or a.size < 2:
        raise ValueError(f"angles must have shape (n,) with n >= 2, got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError("angles hold non-finite values")
    unit = (_wrap(a) + np.pi) / (2 * np.pi)  # the circle as [0, 1)
    n = len(unit)
    if n >= 100:  # astropy's exact branch for small V overflows for large n
        x = np.sort(unit)
        i = np.arange(1, n + 1)
        statistic = float(np.max(i / n - x) + np.max(x - (i - 1) / n))
        if statistic < 3 / n:  # nearly equally spaced: the tail is 1 to 15 decimals
            return statistic, 1.0
    statistic, p_value = kuiper(unit)
    return float(statistic), float(min(max(p_value, 0.0), 1.0))


def all_angle_modes(d: int, harmonics: int = 2) -> np.ndarray:
    """The integer vectors k with every entry in ``{-harmonics..harmonics} \\ {0}``, one of each
    pair ``±k``: (m, d). Their Fourier modes ``exp(i k . phi)`` involve all d angles at once."""
    values = [v for v in range(-harmonics, harmonics + 1) if v != 0]
    grid = np.array(np.meshgrid(*[values] * d, indexing="ij")).reshape(d, -1).T
    return grid[grid[:, 0] > 0]  # k and -k give conjugate coefficients: keep one


def fourier_uniformity(
    phi: torch.Tensor | np.ndarray, modes: np.ndarray
) -> tuple[float, float]:
    """A Rayleigh-type test that the Fourier coefficients of angles (n, d) vanish on ``modes``:
    ``(T, p-value)``.

    For codes uniform on the torus, ``m_k = mean(exp(i k . phi))`` has mean 0 for every non-zero
    integer vector k, and ``2 n |m_k|^2`` is asymptotically chi-square with 2 degrees of
    freedom, independently over distinct modes (k and -k count once). So ``T = 2 n sum_k
    |m_k|^2`` is chi-square with ``2 m`` degrees of freedom (the Rayleigh test is the case
    d = 1, k = 1; Mardia and Jupp, Sect. 6.3.1; the Sobolev tests of Bingham and Gine weight
    every mode). ``|m_k|`` does not change when angles are rotated: no cut of the circle
    matters.
    """
    a = _as_float64(phi)
    modes = np.asarray(modes)
    if a.ndim != 2 or modes.ndim != 2 or modes.shape[1] != a.shape[1]:
        raise ValueError(
            f"phi (n, d) and modes (m, d) must agree in d, got {a.shape}, {modes.shape}"
        )
    coefficients = np.exp(1j * (a @ modes.T)).mean(0)  # (m,)
    statistic = float(2 * len(a) * (np.abs(coefficients) ** 2).sum())
    return statistic, float(stats.chi2.sf(statistic, 2 * len(modes)))


@dataclass(frozen=True)
class UniformityTest:
    """One test of a family: its statistic, its p-value and the level it is judged at."""

    name: str
    statistic: float
    p_value: float
    level: float  # the family's alpha divided among its tests (Bonferroni)
    kind: str = "marginal"  # "marginal" (one angle), "pair" (phi_a ± phi_b) or "all"

    @property
    def rejects(self) -> bool:
        return self.p_value < self.level


@dataclass(frozen=True)
class TorusUniformity:
    """The family of :func:`torus_uniformity_tests` on ``n`` codes, at family-wise ``alpha``."""

    n: int
    alpha: float
    tests: tuple[UniformityTest, ...]

    @property
    def marginal(self) -> tuple[UniformityTest, ...]:
        """The tests of single angles (all that the spring loss can see)."""
        return tuple(t for t in self.tests if t.kind == "marginal")

    @property
    def uniform(self) -> bool:
        """No test of the family rejects: the codes are compatible with a uniform torus."""
        return not any(t.rejects for t in self.tests)

    def worst(self, kind: str | None = None) -> UniformityTest:
        """The test (of ``kind``, if given) with the smallest p-value."""
        tests = [t for t in self.tests if kind is None or t.kind == kind]
        if not tests:
            raise ValueError(f"no test of kind {kind!r} in this family")
        return min(tests, key=lambda t: t.p_value)

    def format(self) -> str:
        lines = [f"{'test':<24}{'statistic':>10}{'p-value':>11}{'level':>9}  rejects"]
        for t in self.tests:
            lines.append(
                f"{t.name:<24}{t.statistic:>10.4f}{t.p_value:>11.2e}{t.level:>9.4f}  "
                f"{'yes' if t.rejects else 'no'}"
            )
        verdict = "uniform on the torus" if self.uniform else "not uniform on the torus"
        lines.append(
            f"n = {self.n}, family-wise alpha = {self.alpha} (Bonferroni over "
            f"{len(self.tests)} tests): {verdict}"
        )
        return "\n".join(lines)


def format_p_value(p: float) -> str:
    """A p-value for prose: ``p = 0.034``, ``p = 2.1e-05``, or ``p < 1e-15`` where the
    computed value is 0 to double precision."""
    if not 0 <= p <= 1:
        raise ValueError(f"a p-value lies in [0, 1], got {p!r}")
    if p < 1e-15:
        return "p < 1e-15"
    return f"p = {p:.3f}" if p >= 0.001 else f"p = {p:.1e}"


MIN_CODES = 100  # below this the tests' large-sample p-values are not to be trusted


def _check_family_input(phi, alpha: float) -> np.ndarray:
    a = _as_float64(phi)
    if a.ndim != 2 or a.shape[1] < 1:
        raise ValueError(f"phi must have shape (n, d), got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError("phi holds non-finite angles")
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise ValueError(f"alpha must lie in (0, 1), got {alpha!r}")
    if a.shape[0] < MIN_CODES:
        raise ValueError(
            f"{a.shape[0]} codes are too few for the tests' large-sample p-values; "
            f"pass at least {MIN_CODES}"
        )
    return a


def marginal_uniformity_tests(
    phi: torch.Tensor | np.ndarray, alpha: float = 0.05
) -> TorusUniformity:
    """Kuiper's test of each angle of (n, d) codes, the level shared by the d angles
    (Bonferroni): is every angle, taken alone, uniform on its circle?"""
    a = _check_family_input(phi, alpha)
    d = a.shape[1]
    tests = tuple(
        UniformityTest(f"Kuiper phi{i + 1}", *kuiper_uniformity(a[:, i]), alpha / d)
        for i in range(d)
    )
    return TorusUniformity(n=len(a), alpha=alpha, tests=tests)


def torus_uniformity_tests(
    phi: torch.Tensor | np.ndarray, alpha: float = 0.05, harmonics: int = 2
) -> TorusUniformity:
    """Is a sample of angles (n, d) uniform on the d-torus, not just one angle at a time?

    Uniform angles on the torus are independent and uniform, so for every pair (a, b) the
    angles ``phi_a - phi_b`` and ``phi_a + phi_b`` (mod 2 pi) are uniform on the circle too.
    Uniform marginals made of copies, ``phi_b = ±phi_a + c``, turn one of them into a constant,
    which the marginal tests cannot see and these can. The family:

    - Kuiper's test of each angle (d tests, :func:`kuiper_uniformity`);
    - Kuiper's test of ``phi_a - phi_b`` and of ``phi_a + phi_b`` for each pair
      (d (d - 1) tests);
    - the Fourier test of the modes that involve all d angles at once, harmonics up to
      ``harmonics`` (1 test, :func:`fourier_uniformity`): clusters and gaps that no single
      angle or pair shows.

    Every test is judged at ``alpha / m`` (Bonferroni over the m tests, so the family rejects
    a truly uniform sample with probability at most about ``alpha``), and none depends on
    where a circle is cut: rotating any angle leaves every statistic unchanged.
    """
    a = _check_family_input(phi, alpha)
    n, d = a.shape
    if d < 2:
        raise ValueError(f"phi must have shape (n, d) with d >= 2, got {a.shape}")
    if not isinstance(harmonics, int) or harmonics < 1:
        raise ValueError(f"harmonics must be an integer >= 1, got {harmonics!r}")
    m = d + d * (d - 1) + 1
    level = alpha / m
    tests = [
        UniformityTest(f"Kuiper phi{i + 1}", *kuiper_uniformity(a[:, i]), level)
        for i in range(d)
    ]
    for i in range(d):
        for j in range(i + 1, d):
            for sign, symbol in ((-1, "-"), (1, "+")):
                tests.append(
                    UniformityTest(
                        f"Kuiper phi{i + 1} {symbol} phi{j + 1}",
                        *kuiper_uniformity(a[:, i] + sign * a[:, j]),
                        level,
                        "pair",
                    )
                )
    modes = all_angle_modes(d, harmonics)
    tests.append(
        UniformityTest(
            f"Fourier, all {d} angles",
            *fourier_uniformity(a, modes),
            level,
            "all",
        )
    )
    return TorusUniformity(n=n, alpha=alpha, tests=tuple(tests))
