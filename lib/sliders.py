"""Latent sliders: live ipywidgets in a kernel, a live decoder in the browser for the book.

``latent_slider(decode, ranges)`` shows, for each named latent coordinate, a slider that decodes
on the fly. An ipywidget needs a running kernel, so when the notebook is executed for the static
book (``BOOK_STATIC=1``, set by ``make execute`` and the tests) ``decode`` is exported to ONNX and
runs in the reader's browser (:mod:`lib.live`), with every slider movable at once. The same
output carries a self-contained JavaScript player (matplotlib's ``FuncAnimation.to_jshtml``)
whose frames sweep each coordinate in turn, the others held at their defaults: it is shown
where the browser runtime cannot load.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import animation

from lib.config import check_field_types
from lib.errors import check_integer, check_real

from .live import (
    LiveSlider,
    describe_size,
    export_onnx,
    live_slider_html,
    onnx_difference,
    random_codes,
)
from .notebook import static_default
from .plotting import player_html, to_numpy_images


@dataclass(frozen=True)
class SliderSpec:
    """One latent coordinate's slider: range, default, and whether it wraps (an angle)."""

    low: float
    high: float
    default: float = 0.0
    periodic: bool = False

    def __post_init__(self) -> None:
        check_field_types(self)
        if not self.low < self.high:
            raise ValueError(
                f"slider range must have low < high, got ({self.low}, {self.high})"
            )
        if not self.low <= self.default <= self.high:
            raise ValueError(
                f"slider default {self.default} lies outside ({self.low}, {self.high})"
            )


def code_ranges(
    codes: torch.Tensor | np.ndarray,
    start: torch.Tensor | np.ndarray,
    names: Sequence[str] | None = None,
    spread: float = 2.0,
) -> dict[str, SliderSpec]:
    """One slider per coordinate of a code: from ``start`` (one code, (L,)), over the codes'
    mean ± ``spread`` standard deviations (``codes`` (N, L), e.g. a probe set's), widened to
    hold ``start``. ``names`` default to z0, z1, ..."""
    check_real("spread", spread, 0.0, strict=True)
    try:
        codes = np.asarray(
            codes.detach().cpu() if torch.is_tensor(codes) else codes, float
        )
        start = np.asarray(
            start.detach().cpu() if torch.is_tensor(start) else start, float
        )
    except (TypeError, ValueError) as exc:
        raise ValueError(f"codes and start must be arrays of numbers: {exc}") from None
    if codes.ndim != 2 or start.shape != (codes.shape[1],):
        raise ValueError(
            f"codes must be (N, L) and start (L,), got {codes.shape} and {start.shape}"
        )
    if not (np.isfinite(codes).all() and np.isfinite(start).all()) or spread <= 0:
        raise ValueError("codes and start must be finite and spread positive")
    names = (
        list(names) if names is not None else [f"z{i}" for i in range(codes.shape[1])]
    )
    if len(names) != codes.shape[1]:
        raise ValueError(f"{len(names)} names for {codes.shape[1]} coordinates")
    mean, std = codes.mean(0), codes.std(0)
    std = np.where(
        std > 0, std, 1.0
    )  # a dead coordinate still gets a range to move over
    low = np.minimum(mean - spread * std, start)
    high = np.maximum(mean + spread * std, start)
    return {
        n: SliderSpec(float(lo), float(hi), float(v))
        for n, lo, hi, v in zip(names, low, high, start)
    }


def _specs(ranges: Mapping[str, SliderSpec | Sequence[float]]) -> dict[str, SliderSpec]:
    if not isinstance(ranges, Mapping):
        raise ValueError(
            f"ranges must map each coordinate's name to a SliderSpec or (low, high), got "
            f"{type(ranges).__name__}"
        )
    if not ranges:
        raise ValueError("latent_slider needs at least one coordinate")
    for name, s in ranges.items():
        if not isinstance(name, str) or not (
            isinstance(s, SliderSpec)
            or (isinstance(s, (tuple, list)) and 2 <= len(s) <= 4)
        ):
            raise ValueError(
                f"ranges[{name!r}] must be a SliderSpec or (low, high[, default"
                f"[, periodic]]) under a name, got {s!r:.60}"
            )
    return {
        name: s if isinstance(s, SliderSpec) else SliderSpec(*s)
        for name, s in ranges.items()
    }


def _check_player(decode, frames_per_coordinate, size, dpi) -> None:
    """The arguments of a slider's player, checked before anything is decoded."""
    if not callable(decode):
        raise ValueError(f"decode must be a callable, got {type(decode).__name__}")
    for name, value in (("frames_per_coordinate", frames_per_coordinate), ("dpi", dpi)):
        check_integer(name, value, minimum=1)
    check_real("size", size, 0.0, strict=True)


@torch.no_grad()
def _decode_one(
    decode: Callable[[torch.Tensor], torch.Tensor], values: Sequence[float]
) -> np.ndarray:
    code = torch.tensor([list(values)], dtype=torch.float32)  # (1, D)
    return to_numpy_images(decode(code))[0]


def frame_title(name: str, value: float, alone: bool = False) -> str:
    """The title of a player frame: the coordinate that moves and its value (and, unless it
    is the ``alone`` coordinate of the player, that the others sit at their start)."""
    return f"{name} = {value:+.2f}" + ("" if alone else " (others at start)")


def _check_panels(panels: Sequence[str] | None) -> list[str]:
    if panels is None:
        return []
    if isinstance(panels, str) or not all(
        isinstance(p, str) and p.strip() for p in panels
    ):
        raise ValueError(f"panels must be a list of non-empty labels, got {panels!r}")
    return list(panels)


def _label_panels(ax, width: int, panels: list[str]) -> None:
    """Name the ``panels`` a decoder draws side by side (equal widths) under the image."""
    if panels:
        n = len(panels)
        ax.set_xticks([(i + 0.5) * width / n - 0.5 for i in range(n)])
        ax.set_xticklabels(panels, fontsize=8)
        ax.tick_params(axis="x", length=0)


def static_slider(
    decode: Callable[[torch.Tensor], torch.Tensor],
    ranges: Mapping[str, SliderSpec | Sequence[float]],
    frames_per_coordinate: int = 24,
    size: float = 2.4,
    dpi: int = 60,
    panels: Sequence[str] | None = None,
) -> animation.FuncAnimation:
    """A ``FuncAnimation`` whose frames sweep each coordinate over its range (others at
    defaults). ``panels`` names, left to right, the images a decoder draws side by side."""
    _check_player(decode, frames_per_coordinate, size, dpi)
    specs = _specs(ranges)
    panels = _check_panels(panels)
    names = list(specs)
    defaults = [s.default for s in specs.values()]
    frames: list[tuple[str, list[float]]] = []
    for i, (name, spec) in enumerate(specs.items()):
        grid = np.linspace(
            spec.low, spec.high, frames_per_coordinate, endpoint=not spec.periodic
        )
        for v in grid:
            values = list(defaults)
            values[i] = float(v)
            frames.append((name, values))
    codes = torch.tensor([v for _, v in frames], dtype=torch.float32)  # (F, D)
    with torch.no_grad():
        images = to_numpy_images(decode(codes))  # one batched decode for all frames
    height, width = images.shape[1:]
    fig, ax = plt.subplots(
        figsize=(size, size * height / width + 0.3), dpi=dpi
    )  # follow the image's aspect
    shown = ax.imshow(images[0], cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([])
    ax.set_yticks([])
    _label_panels(ax, width, panels)
    title = ax.set_title("", fontsize=8)

    def draw(k: int):
        # only the coordinate that moves: a title listing every value is clipped in a small
        # player, and the others sit at their starting values anyway
        name, values = frames[k]
        shown.set_data(images[k])
        title.set_text(
            frame_title(name, values[names.index(name)], alone=len(names) == 1)
        )
        return (shown, title)

    draw(0)
    anim = animation.FuncAnimation(
        fig, draw, frames=len(frames), interval=120, blit=False
    )
    plt.close(fig)  # only the player is shown, not an extra still frame
    return anim


def live_slider(
    decode: Callable[[torch.Tensor], torch.Tensor],
    ranges: Mapping[str, SliderSpec | Sequence[float]],
    size: float = 2.6,
    panels: Sequence[str] | None = None,
):
    """ipywidgets sliders, one per coordinate, that decode and redraw on every move
    (``panels``: as :func:`static_slider`)."""
    import ipywidgets as widgets

    specs = _specs(ranges)
    panels = _check_panels(panels)
    sliders = {
        name: widgets.FloatSlider(
            value=s.default,
            min=s.low,
            max=s.high,
            step=(s.high - s.low) / 200,
            description=name,
            continuous_update=True,
        )
        for name, s in specs.items()
    }

    def show(**values: float) -> None:
        image = _decode_one(decode, [values[n] for n in specs])
        fig, ax = plt.subplots(figsize=(size, size))
        ax.imshow(image, cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        _label_panels(ax, image.shape[1], panels)
        plt.show()  # Colab stacks figures without it

    return widgets.interactive(show, **sliders)


ONNX_TOLERANCE = 1e-4  # largest |torch - ONNX| accepted for an exported decoder
N_CHECK_CODES = 32  # random codes on which the export is compared with torch


def live_decoder(
    decode: Callable[[torch.Tensor], torch.Tensor],
    ranges: Mapping[str, SliderSpec | Sequence[float]],
    fallback_html: str,
    size: float = 2.4,
    tolerance: float = ONNX_TOLERANCE,
    panels: Sequence[str] | None = None,
) -> str:
    """``decode`` exported to ONNX, checked against torch, as one live-decoder HTML output.

    Raises ValueError when the exported model differs from torch by more than ``tolerance``
    on any of ``N_CHECK_CODES`` random codes in the sliders' ranges.
    """
    specs = _specs(ranges)
    sliders = [
        LiveSlider(name, float(s.low), float(s.high), float(s.default))
        for name, s in specs.items()
    ]
    model = export_onnx(decode, len(sliders))
    difference = onnx_difference(model, decode, random_codes(sliders, N_CHECK_CODES))
    if not difference <= tolerance:
        raise ValueError(
            f"the ONNX export differs from torch by {difference:.2e} "
            f"(> {tolerance:g}): the decoder is not traceable as it is"
        )
    defaults = torch.tensor([[s.default for s in sliders]], dtype=torch.float32)
    with torch.no_grad():
        image_shape = to_numpy_images(decode(defaults)).shape[1:]
    panels = _check_panels(panels)
    named = f"Left to right: {' | '.join(panels)}. " if panels else ""
    caption = named + (
        f"Decoded in your browser by ONNX Runtime Web: the exported model is "
        f"{describe_size(len(model))}, and differs from torch by at most "
        f"{difference:.1e} on {N_CHECK_CODES} random slider settings."
    )
    return live_slider_html(
        model,
        sliders,
        image_shape,
        fallback_html,
        caption,
        display_height=round(75 * size),
    )


def latent_slider(
    decode: Callable[[torch.Tensor], torch.Tensor],
    ranges: Mapping[str, SliderSpec | Sequence[float]],
    live: bool | None = None,
    onnx_tolerance: float = ONNX_TOLERANCE,
    panels: Sequence[str] | None = None,
    **static_kwargs,
):
    """ipywidgets in a kernel; for the book, a live decoder in the browser with the static
    player as its fallback (``live=None`` decides by ``BOOK_STATIC``).

    ``static_kwargs`` go to :func:`static_slider` (``frames_per_coordinate``, ``size``,
    ``dpi``); ``panels`` names, left to right, the images a decoder draws side by side (under
    the image, and in the live decoder's caption); ``onnx_tolerance`` is the largest accepted ``|torch - ONNX|`` of the export. Returns an object that displays itself: the ipywidgets ``interactive`` or an
    ``IPython.display.HTML``.
    """
    if live is not None and not isinstance(live, bool):
        raise ValueError(f"live must be True, False or None, got {live!r}")
    check_real("onnx_tolerance", onnx_tolerance, 0.0, strict=True)
    _check_player(decode, 2, 1.0, 1)
    if live is None:
        live = not static_default()
    if live:
        return live_slider(decode, ranges, panels=panels)
    from IPython.display import HTML

    static_kwargs.setdefault("size", 2.4)  # the player's and the canvas's size
    fallback = player_html(
        static_slider(decode, ranges, panels=panels, **static_kwargs)
    )
    return HTML(
        live_decoder(
            decode,
            ranges,
            fallback,
            static_kwargs["size"],
            onnx_tolerance,
            panels=panels,
        )
    )
