"""Figures shared by the chapters: image grids, latent traversals, training curves.

Every function returns the matplotlib ``Figure`` (so tests can check it and notebooks can end the
cell with ``plt.show()``), and accepts numpy arrays or tensors of shape (N, H, W) or (N, 1, H, W).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure


def to_numpy_images(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """(N, H, W) float numpy array from a tensor or array of shape (N, H, W) or (N, 1, H, W)."""
    if isinstance(images, torch.Tensor):
        images = images.detach().float().cpu().numpy()
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4:
        if images.shape[1] != 1:
            raise ValueError(f"expected one channel, got shape {images.shape}")
        images = images[:, 0]
    if images.ndim == 2:
        images = images[None]
    if images.ndim != 3:
        raise ValueError(
            f"expected images of shape (N, H, W) or (N, 1, H, W), got {images.shape}"
        )
    return images


def image_grid(
    images: torch.Tensor | np.ndarray,
    ncols: int = 8,
    titles: Sequence[str] | None = None,
    row_labels: Sequence[str] | None = None,
    cell_size: float = 1.2,
    vmin: float | None = 0.0,
    vmax: float | None = 1.0,
    cmap: str = "gray",
    suptitle: str | None = None,
    label_width: float = 0.0,
) -> Figure:
    """Show images in a grid, ``ncols`` per row, with optional per-image titles and row labels.

    Row labels run up the side of the first image; with ``label_width`` (inches) > 0 they are
    written across, in a margin that wide, for labels longer than a row is tall.
    """
    imgs = to_numpy_images(images)
    n = len(imgs)
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(
            cell_size * ncols + label_width,
            cell_size * nrows + (0.3 if suptitle else 0),
        ),
        squeeze=False,
    )
    for i, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.axis("off")
            continue
        ax.imshow(imgs[i], cmap=cmap, vmin=vmin, vmax=vmax)
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    if row_labels is not None:
        for r, label in enumerate(row_labels[:nrows]):
            if label_width > 0:
                axes[r, 0].set_ylabel(
                    label, fontsize=8, rotation=0, ha="right", va="center"
                )
            else:
                axes[r, 0].set_ylabel(label, fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    if label_width > 0:  # keep the margin tight_layout may have given to the images
        fig.subplots_adjust(left=label_width / fig.get_figwidth())
    return fig


def angle_pair_scatter(
    rows: Sequence[tuple[str, torch.Tensor | np.ndarray]],
    labels: torch.Tensor | np.ndarray,
    pairs: Sequence[tuple[int, int]] = ((0, 1), (0, 2), (1, 2)),
    title: str | None = None,
    label_name: str = "digit",
) -> Figure:
    """Scatter plots of pairs of angles on their squares [-pi, pi]^2, one row per code set.

    ``rows``: (name, angles (n, d)) pairs; ``labels`` (n,): integer classes that colour the
    points. Each panel is titled with the pair's circular correlation
    (:func:`lib.analysis.circular_correlation_matrix`).
    """
    from .analysis import circular_correlation_matrix

    classes = np.asarray(
        labels.cpu() if isinstance(labels, torch.Tensor) else labels
    ).reshape(-1)
    n_classes = int(classes.max()) + 1 if classes.size else 1
    fig, axes = plt.subplots(
        len(rows),
        len(pairs),
        figsize=(3.6 * len(pairs), 3.3 * len(rows)),
        squeeze=False,
        constrained_layout=True,
    )
    points = None
    for r, (name, phi) in enumerate(rows):
        angles = np.asarray(phi.cpu() if isinstance(phi, torch.Tensor) else phi)
        corr = circular_correlation_matrix(angles)
        for c, (a, b) in enumerate(pairs):
            ax = axes[r, c]
            points = ax.scatter(
                angles[:, a],
                angles[:, b],
                c=classes,
                cmap="tab10",
                s=3,
                vmin=-0.5,
                vmax=n_classes - 0.5,
            )
            ax.set_xlim(-np.pi, np.pi)
            ax.set_ylim(-np.pi, np.pi)
            ax.set_aspect("equal")
            ticks = [-np.pi, 0, np.pi]
            ax.set_xticks(ticks, ["$-\\pi$", "0", "$\\pi$"])
            ax.set_yticks(ticks, ["$-\\pi$", "0", "$\\pi$"])
            ax.set_xlabel(f"$\\varphi_{a + 1}$", labelpad=1)
            ax.set_ylabel(f"$\\varphi_{b + 1}$", labelpad=1)
            ax.set_title(f"{name}: corr {corr[a, b]:+.2f}", fontsize=9)
    fig.colorbar(points, ax=axes, ticks=range(n_classes), label=label_name, shrink=0.8)
    if title:
        fig.suptitle(title)
    return fig


def plot_history(
    history: Mapping[str, Sequence[float]],
    keys: Sequence[str] | None = None,
    smooth: int = 0,
    logy: bool = True,
    title: str | None = None,
) -> Figure:
    """Training curves from a trainer history; ``smooth`` is a moving-average window in steps."""
    keys = [k for k in (keys or history.keys()) if len(history.get(k, []))]
    if not keys:
        raise ValueError("history holds no curve to plot")
    fig, ax = plt.subplots(figsize=(6, 3))
    for key in keys:
        y = np.asarray(history[key], dtype=float)
        if smooth and len(y) > smooth:
            y = np.convolve(y, np.ones(smooth) / smooth, mode="valid")
            x = np.arange(smooth, smooth + len(y))
        else:
            x = np.arange(1, len(y) + 1)
        ax.plot(x, y, label=key, lw=1)
    if logy and all(np.all(np.asarray(history[k], dtype=float) > 0) for k in keys):
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def coloured_atoms(atoms: torch.Tensor | np.ndarray, cmap: str = "tab10") -> np.ndarray:
    """Atom images (k, H, W) -> one RGB image (H, W, 3): each atom in its own colour.

    A pixel's colour is the average of the atoms' colours weighted by their (positive)
    intensities, and its brightness is their sum clipped to 1: where two atoms overlap, the
    colours mix. Shows which part of an image each atom draws.
    """
    atoms = np.clip(
        np.asarray(torch.as_tensor(atoms).detach().cpu(), dtype=float), 0, None
    )
    if atoms.ndim != 3:
        raise ValueError(f"atoms must be (k, H, W), got shape {atoms.shape}")
    palette = plt.get_cmap(cmap)
    colours = np.array(
        [palette(i % palette.N)[:3] for i in range(len(atoms))]
    )  # (k, 3)
    total = atoms.sum(0)  # (H, W)
    mixed = (
        np.einsum("khw,kc->hwc", atoms, colours) / np.maximum(total, 1e-8)[..., None]
    )
    return np.clip(mixed * np.clip(total, 0, 1)[..., None], 0, 1)


# Inline SVG icons for the buttons of matplotlib's ``to_jshtml`` player. Matplotlib's player asks
# maxcdn.bootstrapcdn.com for Font Awesome 4, which an offline reader (or a firewall) never gets:
# the buttons would be blank boxes. These icons travel with the HTML, in Jupyter, Colab and the book.
_PLAYER_ICON_PATHS = {
    "fa-minus": "M2 7h12v2H2z",
    "fa-plus": "M7 2h2v5h5v2H9v5H7V9H2V7h5z",
    "fa-play": "M4 2l10 6-10 6z",
    "fa-play fa-flip-horizontal": "M12 2L2 8l10 6z",
    "fa-pause": "M3 2h4v12H3zM9 2h4v12H9z",
    "fa-step-forward": "M3 2l8 6-8 6zM11 2h2v12h-2z",
    "fa-step-backward": "M13 2L5 8l8 6zM3 2h2v12H3z",
    "fa-fast-forward": "M1 2l6 6-6 6zM7 2l6 6-6 6zM13 2h2v12h-2z",
    "fa-fast-backward": "M15 2L9 8l6 6zM9 2L3 8l6 6zM1 2h2v12H1z",
}
_FONT_AWESOME_LINK = re.compile(r"<link[^>]*font-awesome[^>]*>", re.IGNORECASE)


def player_html(anim, default_mode: str = "once") -> str:
    """Matplotlib's ``to_jshtml`` player as self-contained HTML: no request to another host.

    The Font Awesome stylesheet link is removed and each button's icon becomes an inline SVG
    (same buttons, titles and keyboard labels). Raises if matplotlib's template changed so that
    an icon is no longer found, rather than shipping blank buttons.
    """
    html = _FONT_AWESOME_LINK.sub("", anim.to_jshtml(default_mode=default_mode))
    for name, path in _PLAYER_ICON_PATHS.items():
        tag = f'<i class="fa {name}"></i>'
        if tag not in html:
            raise RuntimeError(
                f"matplotlib's player has no {tag!r}: update player_html"
            )
        svg = (
            '<svg viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" '
            f'style="vertical-align:middle"><path fill="currentColor" d="{path}"/></svg>'
        )
        html = html.replace(tag, svg)
    if "fa fa-" in html:
        raise RuntimeError(
            "matplotlib's player has an icon player_html does not replace"
        )
    return html


def heatmap_player(
    matrices: Sequence[np.ndarray] | np.ndarray,
    titles: Sequence[str],
    xlabel: str = "",
    ylabel: str = "",
    cmap: str = "viridis",
    size: tuple[float, float] = (4.0, 3.4),
    dpi: int = 70,
    interval: int = 400,
    vmin: float = 0.0,
    vmax: float | None = None,
    colorbar_label: str = "",
    min_contrast: float = 0.02,
):
    """A self-contained JavaScript player (``to_jshtml``) of a sequence of matrices.

    One frame per matrix, each with its title, on one colour scale for all frames, ``vmin`` to
    ``vmax`` (default: the largest entry of all frames). Works offline and in the static book;
    returns an ``IPython.display.HTML``.

    A frame whose entries span less than ``min_contrast`` of the colour scale would show as one
    flat colour, and the player would show nothing: that is an error (pass a per-frame
    normalisation, e.g. shares, or ``min_contrast=0`` to allow it).
    """
    from IPython.display import HTML
    from matplotlib import animation

    frames = np.asarray(matrices, dtype=np.float64)
    if frames.ndim != 3 or len(frames) == 0:
        raise ValueError(
            f"matrices must be a non-empty (T, rows, cols) stack, got {frames.shape}"
        )
    if len(titles) != len(frames):
        raise ValueError(f"{len(titles)} titles for {len(frames)} matrices")
    if not np.isfinite(frames).all():
        raise ValueError("matrices must be finite (no NaN or inf)")
    top = float(frames.max()) if vmax is None else float(vmax)
    if not top > vmin:
        raise ValueError(f"the colour scale needs vmax > vmin, got {vmin} to {top}")
    spans = (frames.max((1, 2)) - frames.min((1, 2))) / (top - vmin)
    flat = np.flatnonzero(spans < min_contrast)
    if flat.size:
        raise ValueError(
            f"frame {int(flat[0])} ({titles[int(flat[0])]!r}) spans "
            f"{spans[flat[0]]:.2%} of the colour scale {vmin:g} to {top:g}: it would "
            f"show as one colour ({flat.size} such frames)"
        )
    fig, ax = plt.subplots(figsize=size, dpi=dpi, layout="constrained")
    shown = ax.imshow(frames[0], cmap=cmap, vmin=vmin, vmax=top)
    bar = fig.colorbar(shown, ax=ax, fraction=0.046)
    if colorbar_label:
        bar.set_label(colorbar_label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    title = ax.set_title(titles[0], fontsize=9)

    def draw(t: int):
        shown.set_data(frames[t])
        title.set_text(titles[t])
        return (shown, title)

    anim = animation.FuncAnimation(fig, draw, frames=len(frames), interval=interval)
    plt.close(fig)
    return HTML(player_html(anim))
