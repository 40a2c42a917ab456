"""Live decoders (lib/live.py): every chapter's decoder (an ``nn.Module``) exports to ONNX and matches
torch; the HTML output carries the model, the sliders and the fallback player; the shipped
ONNX Runtime Web files are the pinned ones."""

import base64
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from lib.checkpoint import load_pretrained
from lib.errors import ParameterError
from lib.live import (
    ORT_STATIC_DIR,
    FunctionDecoder,
    LiveSlider,
    export_onnx,
    live_slider_html,
    onnx_difference,
    random_codes,
)
from lib.nets import Conv64AEConfig, Conv64Autoencoder, image_decoder
from lib.sliders import ONNX_TOLERANCE, SliderSpec, latent_slider, live_decoder

ROOT = Path(__file__).resolve().parents[1]
ORT_DIR = ROOT / "book" / "_static" / "ort"


def _slider_set(n, low=-1.0, high=1.0):
    return [LiveSlider(f"c{i}", low, high, 0.0) for i in range(n)]


def _chapter_decoders():
    """(name, decode, sliders, tolerance) for the decode function of every chapter's slider,
    built from the shipped checkpoints with the helpers the chapters use."""
    from lib.atomic import block_decoder
    from lib.pmp import subspace_decoder
    from lib.taking_apart import disk_panels
    from lib.toroidal import polar_decoder

    warmup, _ = load_pretrained("intro/warmup_ae")
    hole, _ = load_pretrained("taking_apart/hole_none_seed0")
    type3, _ = load_pretrained("taking_apart/hole_type3_seed0")
    torus, _ = load_pretrained("toroidal/torus_ae")
    spikes, _ = load_pretrained("atomic/spikes_atomic")
    mnist, _ = load_pretrained("atomic/mnist_atomic")
    pmp, _ = load_pretrained("pmp/pmp_seed0")
    g = torch.Generator().manual_seed(0)
    spike_code = torch.rand(
        1, spikes.config.n_atoms, spikes.config.atom_dim, generator=g
    )
    mnist_code = torch.rand(1, mnist.config.n_atoms, mnist.config.atom_dim, generator=g)
    directions = np.linalg.qr(np.random.default_rng(0).normal(size=(10, 5)))[0].T
    d = torus.config.d
    return [
        (
            "00 warm-up AE",
            image_decoder(warmup, logits=False),
            _slider_set(2, -5, 5),
            ONNX_TOLERANCE,
        ),
        (
            "01 disks, two models",
            disk_panels([hole, type3]),
            [LiveSlider("radius", 0.0, 32.0, 14.0)],
            1e-3,  # float32 disk rendering inside the graph (chapter 01 says so)
        ),
        (
            "02 torus, angles and radii",
            polar_decoder(torus),
            _slider_set(d, -np.pi, np.pi) + _slider_set(d, 0.5, 1.5),
            ONNX_TOLERANCE,
        ),
        (
            "03 atomic spikes, two blocks",
            block_decoder(spikes, spike_code, [0, 1]),
            _slider_set(2 * spikes.config.atom_dim),
            ONNX_TOLERANCE,
        ),
        (
            "03 atomic MNIST, one block",
            block_decoder(mnist, mnist_code, [3]),
            _slider_set(mnist.config.atom_dim),
            ONNX_TOLERANCE,
        ),
        (
            "05 PMP subspaces",
            subspace_decoder(pmp, torch.zeros(10), directions),
            _slider_set(5, -2, 2),
            ONNX_TOLERANCE,
        ),
    ]


def test_every_chapter_decoder_exports_to_onnx_and_matches_torch(capsys):
    rows = []
    for name, decode, sliders, tolerance in _chapter_decoders():
        model = export_onnx(decode, len(sliders))
        difference = onnx_difference(model, decode, random_codes(sliders, 16, seed=1))
        rows.append(
            f"{name:<30} {len(model) / 1e3:7.0f} KB  max |torch - ONNX| {difference:.1e}"
        )
        assert difference <= tolerance, (name, difference)
    with capsys.disabled():
        print("\n" + "\n".join(rows))


def test_export_keeps_the_networks_trainable():
    net = torch.nn.Sequential(torch.nn.Linear(2, 9), torch.nn.Sigmoid())
    decode = FunctionDecoder(lambda c: net(c).view(-1, 1, 3, 3), net)
    model = export_onnx(decode, 2)
    assert all(p.requires_grad for p in net.parameters())
    codes = random_codes(_slider_set(2), 8)
    assert onnx_difference(model, decode, codes) < 1e-6
    with pytest.raises(ValueError, match="n_inputs must be an integer >= 1"):
        export_onnx(decode, 0)


def test_a_function_hiding_its_network_is_refused_and_a_module_exports_as_its_function():
    net = torch.nn.Linear(2, 4)

    def hidden(c):  # the network is not passed along: nothing says what to freeze
        return net(c).view(-1, 1, 2, 2)

    with pytest.raises(ParameterError, match="FunctionDecoder"):
        export_onnx(hidden, 2)
    # a decoder module exports to the same bytes as its computation wrapped as a function
    conv = Conv64Autoencoder(Conv64AEConfig())
    as_module = export_onnx(image_decoder(conv), 10)
    device = next(conv.parameters()).device

    def function(z):  # ImageDecoder.forward, written out
        return torch.sigmoid(conv.decode(z.float().to(device))).cpu()

    as_function = export_onnx(FunctionDecoder(function, conv), 10)
    assert as_module == as_function
    with pytest.raises(ParameterError, match="networks"):
        FunctionDecoder(hidden, "net")


def test_the_chapters_decoders_are_modules_holding_their_networks():
    for name, decode, _, _ in _chapter_decoders():
        assert isinstance(decode, torch.nn.Module), name
        assert sum(p.numel() for p in decode.parameters()) > 0, name


def test_a_wrong_export_is_caught():
    net = torch.nn.Linear(2, 4)
    decode = FunctionDecoder(lambda c: net(c).view(-1, 1, 2, 2), net)
    model = export_onnx(decode, 2)
    with torch.no_grad():
        net.weight.add_(0.5)  # torch has moved on; the exported model has not
    codes = random_codes(_slider_set(2), 4)
    assert onnx_difference(model, decode, codes) > 0.1


def test_live_decoder_html_embeds_model_sliders_and_fallback():
    net = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Sigmoid())
    ranges = {
        "a": (-1, 1, 0.5),
        "b": SliderSpec(-np.pi, np.pi, 0, periodic=True),
        "c": (0, 2, 1),
    }
    decode = FunctionDecoder(lambda c: net(c).view(-1, 1, 4, 4), net)
    page = live_decoder(decode, ranges, "<p>FALLBACK</p>")
    assert page.count('class="live-slider"') == 3
    assert re.findall(r"<span[^>]*>([^<]+)</span>", page) == ["a", "b", "c"]
    assert 'value="0.5"' in page and "<canvas" in page and "<p>FALLBACK</p>" in page
    config = json.loads(re.search(r"\}\)\((\{.*\})\);</script>", page, re.S).group(1))
    assert config["defaults"] == [0.5, 0, 1] and config["ortDir"] == ORT_STATIC_DIR
    assert base64.b64decode(config["model"])[0] == 0x08  # ONNX: field 1, ir_version
    assert re.search(r"https?://", page) is None, "a live decoder asks no other host"
    assert "differs from torch by at most" in page


def test_live_decoder_refuses_an_export_that_differs_or_ignores_its_input():
    def noisy(c):  # depends on c, but draws new noise on every call
        return (c.sum() + torch.rand(c.shape[0], 1, 2, 2)).clamp(0, 1)

    with pytest.raises(ValueError, match="differs from torch"):
        live_decoder(noisy, {"a": (0, 1, 0)}, "")
    with pytest.raises(ValueError, match="does not read its input"):
        live_decoder(lambda c: torch.rand(c.shape[0], 1, 2, 2), {"a": (0, 1, 0)}, "")


def test_latent_slider_in_the_book_is_a_live_decoder(monkeypatch):
    monkeypatch.setenv("BOOK_STATIC", "1")
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Sigmoid())
    shown = latent_slider(
        FunctionDecoder(lambda c: net(c).view(-1, 1, 4, 4), net),
        {"x": (-1, 1, 0), "y": (-1, 1, 0)},
    )
    assert 'class="live-decoder"' in shown.data
    assert 'class="live-fallback"' in shown.data and "anim-slider" in shown.data
    with pytest.raises(ValueError, match="at least one slider"):
        live_slider_html(b"", [], (2, 2), "")


def test_the_shipped_onnx_runtime_web_files_are_the_pinned_ones():
    manifest = json.loads((ORT_DIR / "MANIFEST.json").read_text())
    assert manifest["package"] == "onnxruntime-web" and manifest["license"] == "MIT"
    assert "Copyright (c) Microsoft Corporation" in (ORT_DIR / "LICENSE").read_text()
    assert set(manifest["files"]) == {
        "dist/ort.wasm.min.js",
        "dist/ort-wasm-simd-threaded.mjs",
        "dist/ort-wasm-simd-threaded.wasm",
    }
    script = (ORT_DIR / "ort.wasm.min.js").read_text()
    assert f'"{manifest["version"]}"' in script, "the script is not the pinned version"
    for name, record in manifest["files"].items():
        data = (ORT_DIR / Path(name).name).read_bytes()
        assert len(data) == record["bytes"], name
        assert hashlib.sha256(data).hexdigest() == record["sha256"], name
