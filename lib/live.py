"""Live decoders in the static book: a chapter's decode function runs in the reader's browser.

In a kernel, :func:`lib.sliders.latent_slider` shows ipywidgets sliders. A static page has no
kernel, so when a notebook is executed for the book (``BOOK_STATIC=1``) the same ``decode``
function is exported to ONNX (:func:`export_onnx`, traced at batch 1), checked against torch on
random codes (:func:`onnx_difference`), and embedded in one HTML output (:func:`live_slider_html`):
the model bytes, one range input per coordinate (several can be moved at once), a canvas, and a
small script that runs the model with ONNX Runtime Web (WASM backend, one thread) on every
``input`` event. The latest value wins and one decode runs at a time.

ONNX Runtime Web's three files ship with the book in ``book/_static/ort`` (pinned, with their
sha256 and licence, in ``MANIFEST.json``) and are published under the build's ``_static/ort/``;
the script finds them from the page's ``data-content_root``. Where they cannot load (a notebook
viewer without the book's files, a page opened as ``file://``), the output shows the
precomputed ``to_jshtml`` player it carries instead.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import inspect
import io
import itertools
import json
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from lib.errors import ParameterError, check_integer

ORT_STATIC_DIR = (
    "_static/ort/"  # where the book publishes ONNX Runtime Web (book/_static/ort)
)
OPSET = 17  # supported by every ONNX Runtime Web release of the last years
INPUT_NAME, OUTPUT_NAME = "code", "image"
_ids = itertools.count()


class FunctionDecoder(torch.nn.Module):
    """A decode function and the networks it uses, as one module for :func:`export_onnx`.

    ``FunctionDecoder(lambda code: net.decode(code), net)``: the networks are registered as
    submodules, so the export finds their weights without looking inside the function. The
    chapters' decoders (``lib.nets.image_decoder``, ``lib.toroidal.polar_decoder``, ...) are
    modules already.
    """

    def __init__(
        self, fn: Callable[[torch.Tensor], torch.Tensor], *networks: torch.nn.Module
    ) -> None:
        super().__init__()
        if not callable(fn):
            raise ParameterError(f"fn must be a callable, got {type(fn).__name__}")
        for i, net in enumerate(networks):
            if not isinstance(net, torch.nn.Module):
                raise ParameterError(
                    f"networks[{i}] must be an nn.Module, got {type(net).__name__}"
                )
        self.fn = fn
        self.networks = torch.nn.ModuleList(networks)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        return self.fn(code)


class _DecodeModule(torch.nn.Module):
    """Holds a decoder for the tracer: ``(1, D) -> images``.

    The decoder is kept outside the module tree and run through its ``forward``, so that the
    traced graph is the decoder's computation alone (no scope of its own): a module and the
    function it wraps export to the same bytes.
    """

    def __init__(self, decode: Callable[[torch.Tensor], torch.Tensor]):
        super().__init__()
        self._decode = (decode,)  # a tuple: not registered as a submodule

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        decode = self._decode[0]
        if isinstance(decode, torch.nn.Module):
            return decode.forward(code)
        return decode(code)


@contextlib.contextmanager
def _frozen(modules: Sequence[torch.nn.Module]):
    """Parameters without gradients while tracing: the tracer stores them as constants."""
    params = [p for m in modules for p in m.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def _export_parameters() -> set[str]:
    return set(inspect.signature(torch.onnx.export).parameters)


def export_onnx(decode: Callable[[torch.Tensor], torch.Tensor], n_inputs: int) -> bytes:
    """The ONNX bytes of ``decode`` traced on one code of ``n_inputs`` numbers (batch 1).

    ``decode`` maps slider values ``(1, n_inputs)`` to images ``(1, 1, H, W)`` or ``(1, H, W)``,
    as :func:`lib.sliders.latent_slider` expects. The trace records the operations run for one
    code, so Python control flow inside ``decode`` is frozen at that code: fine for the book's
    decoders, which are feed-forward. ``decode`` is an ``nn.Module`` (every chapter's decoder
    is; :class:`FunctionDecoder` makes one of a function and its networks), whose weights are
    exported as constants, or a function that uses no trainable weights. torch's TorchScript exporter is
    used (``dynamo=False``): it prints nothing for these small graphs.
    """
    check_integer("n_inputs", n_inputs, minimum=1)
    if not callable(decode):
        raise ParameterError(f"decode must be a callable, got {type(decode).__name__}")
    with torch.no_grad():
        image = decode(torch.zeros(1, n_inputs))
    # a tuple's first element would be exported as "image" whatever it is
    if not isinstance(image, torch.Tensor):
        raise ParameterError(
            "decode must return one image tensor (1, 1, H, W) or (1, H, W), "
            f"got a {type(image).__name__}"
        )
    if (
        image.dim() not in (3, 4)
        or image.shape[0] != 1
        or image.dim() == 4
        and (image.shape[1] != 1)
    ):
        raise ParameterError(
            "decode must map a (1, n_inputs) code to an image (1, 1, H, W) or (1, H, W), "
            f"got shape {tuple(image.shape)}"
        )
    if image.shape[-1] == 0 or image.shape[-2] == 0:
        raise ParameterError(
            f"decode must return a non-empty image, got shape {tuple(image.shape)}"
        )
    module = _DecodeModule(decode).eval()
    buffer = io.BytesIO()
    # torch >= 2.5 has two exporters and takes the new one by default; 2.4 only has this one
    legacy = {"dynamo": False} if "dynamo" in _export_parameters() else {}
    held = [decode] if isinstance(decode, torch.nn.Module) else []
    with warnings.catch_warnings(), torch.no_grad(), _frozen(held):
        # a shape read as a constant at batch 1, and the notice that the TorchScript
        # exporter is legacy, say nothing wrong about these decoders
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            torch.onnx.export(
                module,
                (torch.zeros(1, n_inputs),),
                buffer,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                opset_version=OPSET,
                **legacy,
            )
        except RuntimeError as err:
            if "requires grad" not in str(err):
                raise
            raise ParameterError(
                "decode uses a network with trainable weights that it does not hold: pass "
                "an nn.Module, e.g. lib.live.FunctionDecoder(fn, *networks)"
            ) from err
    import onnx  # installed with torch's exporter requirements (the dev extra)

    graph = onnx.load_from_string(buffer.getvalue()).graph
    if [i.name for i in graph.input] != [INPUT_NAME]:
        raise ValueError(
            "the traced decoder does not read its input: decode must compute the image "
            "from the slider values it is given"
        )
    return buffer.getvalue()


def onnx_difference(
    model_bytes: bytes,
    decode: Callable[[torch.Tensor], torch.Tensor],
    codes: torch.Tensor,
) -> float:
    """Largest ``|torch - ONNX|`` over the images of ``codes`` (N, D), one code at a time.

    Runs the ONNX model with onnxruntime's CPU provider (a development dependency).
    """
    try:
        import onnxruntime
    except ImportError as err:  # pragma: no cover - the dev extra installs it
        raise ImportError(
            "checking an exported decoder needs onnxruntime: pip install -e '.[dev]'"
        ) from err
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # errors only
    session = onnxruntime.InferenceSession(
        model_bytes, options, providers=["CPUExecutionProvider"]
    )
    largest = 0.0
    with torch.no_grad():
        for code in torch.as_tensor(codes, dtype=torch.float32):
            expected = decode(code[None]).detach().float().cpu().numpy()
            (got,) = session.run(None, {INPUT_NAME: code[None].numpy()})
            if got.shape != expected.shape:
                raise ValueError(f"ONNX gives {got.shape}, torch {expected.shape}")
            largest = max(largest, float(np.abs(got - expected).max()))
    return largest


@dataclass(frozen=True)
class LiveSlider:
    """One range input of a live decoder: its label, range and starting value."""

    label: str
    low: float
    high: float
    default: float


def random_codes(sliders: Sequence[LiveSlider], n: int, seed: int = 0) -> torch.Tensor:
    """``n`` codes (n, D) uniform in the sliders' ranges: what a reader can reach."""
    g = torch.Generator().manual_seed(seed)
    low = torch.tensor([s.low for s in sliders], dtype=torch.float32)
    high = torch.tensor([s.high for s in sliders], dtype=torch.float32)
    return low + (high - low) * torch.rand(n, len(sliders), generator=g)


def live_slider_html(
    model_bytes: bytes,
    sliders: Sequence[LiveSlider],
    image_shape: tuple[int, int],
    fallback_html: str,
    caption: str = "",
    display_height: int = 180,
) -> str:
    """One self-contained HTML output: live decoder, with ``fallback_html`` until it is ready.

    ``image_shape`` is the decoded image's (H, W); it is drawn ``display_height`` pixels high
    (at most 640 wide). The outer element exposes ``liveDecoder`` to scripts (state, first
    frame time, per-decode times, and ``bench(n)``), which the browser test reads.
    """
    if not sliders:
        raise ValueError("a live decoder needs at least one slider")
    height, width = image_shape
    shown_width = min(640, round(display_height * width / height))
    shown_height = round(shown_width * height / width)
    # unique on the page, and the same when a notebook is re-run from a fresh kernel
    # (clean diffs of the committed outputs)
    uid = f"live-decoder-{next(_ids)}-{hashlib.sha1(model_bytes).hexdigest()[:10]}"
    rows = []
    for i, s in enumerate(sliders):
        rows.append(
            '<label style="display:flex;align-items:center;gap:.5em;margin:.1em 0">'
            f'<span style="min-width:9em">{html.escape(s.label)}</span>'
            f'<input class="live-slider" type="range" data-index="{i}" '
            f'min="{float(s.low)!r}" max="{float(s.high)!r}" step="any" '
            f'value="{float(s.default)!r}" '
            'style="flex:1">'
            f'<output style="min-width:4em;font-family:monospace">{s.default:+.2f}</output>'
            "</label>"
        )
    config = {
        "id": uid,
        "model": base64.b64encode(model_bytes).decode("ascii"),
        "defaults": [float(s.default) for s in sliders],
        "ortDir": ORT_STATIC_DIR,
        "input": INPUT_NAME,
        "output": OUTPUT_NAME,
    }
    return (
        f'<div class="live-decoder" id="{uid}" data-live-state="loading">'
        '<div class="live-panel" style="display:none;max-width:660px">'
        f'<canvas width="{width}" height="{height}" style="width:{shown_width}px;'
        f"height:{shown_height}px;image-rendering:pixelated;border:1px solid #bbb;"
        'background:#000"></canvas>'
        f'<div class="live-controls">{"".join(rows)}</div>'
        f'<div class="live-caption" style="font-size:80%;color:#666">'
        f"{html.escape(caption)}</div></div>"
        f'<div class="live-fallback">{fallback_html}</div>'
        f"<script>({_SCRIPT})({json.dumps(config)});</script></div>"
    )


# The page side. Kept small and dependency-free; `ort` is ONNX Runtime Web's global.
_SCRIPT = """function (cfg) {
  const root = document.getElementById(cfg.id);
  const panel = root.querySelector(".live-panel");
  const fallback = root.querySelector(".live-fallback");
  const canvas = root.querySelector("canvas");
  const context = canvas.getContext("2d");
  const inputs = [...root.querySelectorAll("input.live-slider")];
  const start = performance.now();
  const api = {state: "loading", firstFrameMs: null, times: [], error: null};
  root.liveDecoder = api;
  const fail = (reason) => {
    api.state = "failed"; api.error = String(reason);
    root.dataset.liveState = "failed";
    panel.style.display = "none"; fallback.style.display = "";
  };
  const contentRoot = document.documentElement.dataset.content_root;
  if (contentRoot === undefined || location.protocol === "file:") {
    fail("no book runtime on this page"); return;
  }
  const ortDir = new URL(contentRoot + cfg.ortDir, document.baseURI).href;
  const loadOrt = () => {
    if (window.ort) return Promise.resolve(window.ort);
    window.__bookOrt = window.__bookOrt || new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = ortDir + "ort.wasm.min.js";
      script.onload = () => resolve(window.ort);
      script.onerror = () => reject(new Error("ONNX Runtime Web did not load"));
      document.head.appendChild(script);
    });
    return window.__bookOrt;
  };
  const bytes = Uint8Array.from(atob(cfg.model), (c) => c.charCodeAt(0));
  const code = Float32Array.from(cfg.defaults);
  let session = null, busy = false, pending = false;
  const draw = (tensor) => {
    const dims = tensor.dims, h = dims[dims.length - 2], w = dims[dims.length - 1];
    const pixels = context.createImageData(w, h), data = tensor.data;
    for (let i = 0; i < w * h; i++) {
      const v = Math.round(255 * Math.min(1, Math.max(0, data[i])));
      pixels.data[4 * i] = pixels.data[4 * i + 1] = pixels.data[4 * i + 2] = v;
      pixels.data[4 * i + 3] = 255;
    }
    context.putImageData(pixels, 0, 0);
  };
  const show = (input) => {
    const v = +input.value;
    input.nextElementSibling.textContent = (v >= 0 ? "+" : "") + v.toFixed(2);
  };
  const decodeOnce = async () => {
    inputs.forEach((input, i) => { code[i] = parseFloat(input.value); show(input); });
    const t0 = performance.now();
    const feeds = {[cfg.input]: new ort.Tensor("float32", code.slice(), [1, code.length])};
    const result = await session.run(feeds);
    api.times.push(performance.now() - t0);
    draw(result[cfg.output]);
  };
  const pump = async () => {
    if (busy) return;
    busy = true;
    try { while (pending) { pending = false; await decodeOnce(); } }
    catch (err) { fail(err); }
    finally { busy = false; }
  };
  inputs.forEach((input) => input.addEventListener("input", () => {
    show(input); pending = true; pump();
  }));
  api.bench = async (n) => {
    if (api.state !== "ready") throw new Error("the live decoder is " + api.state);
    while (busy) await new Promise((r) => setTimeout(r, 5));
    busy = true;
    const times = [];
    try {
      for (let k = 0; k < n; k++) {
        inputs.forEach((input) => {
          const lo = +input.min, hi = +input.max;
          input.value = lo + (hi - lo) * ((k * 0.6180339887 + +input.dataset.index * 0.37) % 1);
        });
        const t0 = performance.now();
        await decodeOnce();
        times.push(performance.now() - t0);
      }
    } finally { busy = false; if (pending) pump(); }
    return times;
  };
  loadOrt().then((ort) => {
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = ortDir;
    return ort.InferenceSession.create(bytes, {executionProviders: ["wasm"]});
  }).then((s) => {
    session = s; busy = true;  // slider moves wait for the first frame
    return decodeOnce();
  }).then(() => {
    busy = false;
    api.firstFrameMs = performance.now() - start;
    api.state = "ready"; root.dataset.liveState = "ready";
    panel.style.display = ""; fallback.style.display = "none";
    if (pending) pump();
  }).catch(fail);
}"""


def describe_size(n_bytes: int) -> str:
    """A byte count for a caption: '84 KB', '1.7 MB'."""
    if n_bytes < 1_000_000:
        return f"{math.ceil(n_bytes / 1000)} KB"
    return f"{n_bytes / 1e6:.1f} MB"
