"""10,000 digits through onnxruntime vs the same generator in torch eager, measured in one run.

The whole path is timed on both sides: noise, labels, generator (and decoder for latent models),
clipping. The torch twin is the same module class as the export; its weights are freshly
initialised because speed does not depend on their values — the script checks that the twin has
exactly as many parameters as the ONNX graphs hold, so both sides do the same arithmetic.

  python -m benchmarks.bench_digits [--n 10000] [--repeat 5] [--threads 2]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import onnx
import onnxruntime as ort
import torch

from explorer.runtime import models as em
from explorer.runtime.images import generate_images
from training import digit_nets as nets
from training import run_digits


def twin(card: dict):
    """The torch modules that produced the model's ONNX graphs (generator [+ decoder])."""
    arch = card.id.removeprefix("mnist-").split("-seed")[0]
    noise = card.training.config["noise_dim"]
    if arch == "pixel-cgan":
        return [nets.PixelGenerator(noise, 10, width=card.training.config.get("width", 32))]
    if arch == "mlp-gan":
        return [run_digits.TanhToUnit(nets.MLPGenerator(noise))]
    latent = run_digits.AE_LATENT
    G = nets.LatentGenerator(noise, latent, 10 if card.condition else 0)
    return [run_digits.StandardisedGenerator(G, torch.zeros(latent), torch.ones(latent)),
            run_digits.LatentToImage(nets.ImageDecoder(latent, width=card.training.config.get("decoder_width", 32)))]


def onnx_parameters(path) -> int:
    return sum(int(np.prod(t.dims)) for t in onnx.load(str(path)).graph.initializer)


def torch_path(modules, n: int, seed: int, noise_dim: int, conditional: bool) -> np.ndarray:
    gen = torch.Generator().manual_seed(seed)
    with torch.inference_mode():
        x = torch.randn(n, noise_dim, generator=gen)
        args = (x, torch.eye(10)[torch.arange(n) % 10]) if conditional else (x,)
        for m in modules:
            x = m(*args)
            args = (x,)
        return x.clamp(0, 1).numpy()


def timed(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{args.n:,} digits, median of {args.repeat}, {args.threads} threads, onnxruntime {ort.__version__}, "
          f"torch {torch.__version__}")
    print(f"{'model':22} {'onnxruntime s':>14} {'torch eager s':>14} {'ratio':>7}  ONNX MB")
    cards, _ = em.discover()
    for model_id, card in cards.items():
        if card.kind != "image":
            continue
        options = ort.SessionOptions()
        options.intra_op_num_threads = args.threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # leave torch its cores
        folder = em.models_root() / model_id
        model = em.Model(model_id, card, folder, {
            name: ort.InferenceSession(str(folder / e.path), options, providers=["CPUExecutionProvider"])
            for name, e in card.files.items() if e.path.endswith(".onnx")})
        modules = [m.eval() for m in twin(card)]
        graphs = ["generator.onnx"] + (["decoder.onnx"] if "decoder" in model.sessions else [])
        expected = sum(onnx_parameters(folder / g) for g in graphs)
        got = sum(p.numel() for m in modules for p in m.parameters())
        # BatchNorm statistics (buffers) and a few scalar constants also live in the graph, hence the slack
        assert abs(got - expected) <= 16 + sum(b.numel() for m in modules for b in m.buffers()), (model_id, got, expected)
        conditional = bool(card.condition)

        def onnx_run():
            codes = model.label_codes(args.n, 0, {d: 1.0 for d in model.classes}) if conditional else None
            return generate_images(model, model.noise(args.n, 0), codes, batch=args.n)

        t_onnx = timed(onnx_run, args.repeat)
        t_torch = timed(lambda: torch_path(modules, args.n, 0, model.latent_dim, conditional), args.repeat)
        size = sum((folder / g).stat().st_size for g in graphs) / 2 ** 20
        print(f"{model_id:22} {t_onnx:14.3f} {t_torch:14.3f} {t_torch / t_onnx:6.2f}×  {size:.1f}")


if __name__ == "__main__":
    main()
