#!/usr/bin/env python3
"""PyTorch reference for the ViT training-step benchmark: images/second of one training step (forward, backward,
AdamW) of a ViT with LoRA or KoRA adapters on q/k/v, on this CPU.

How to run (from the repository root; needs PyTorch, e.g. Debian's `apt-get install -y python3-torch
libopenblas0-pthread`):
    node bench/bench.mjs --compare-torch        # runs this script next to the tfjs figures, in the same run
    python3 bench/torch-vit-peft-bench.py [--method lora|kora|full|frozen] [--dim 192] [--depth 12] [--batch 64]

It prints one line ending in `img_per_s=<rate>`, which bench/bench.mjs reads. The defaults are the ViT-Tiny shape
of bench/vit-step.mjs (dim 192, depth 12, 3 heads, MLP 4 x dim, 32 x 32 images, patch 4, 100 classes), LoRA rank 8,
KoRA composition width 4, 2 threads. Methods: `lora` adds low-rank deltas to q, k and v; `kora` adds the three
low-rank deltas' composition (concatenate, dim -> d_comp -> dim MLP, zero-initialised gate) to v; `full` trains
every weight; `frozen` trains the head only. Except for `full`, only the head and adapter weights are trainable,
so the timing includes exactly the backward work a parameter-efficient step needs.
"""

import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--method", default="lora", choices=["lora", "kora", "full", "frozen"])
parser.add_argument("--dim", type=int, default=192)
parser.add_argument("--depth", type=int, default=12)
parser.add_argument("--heads", type=int, default=3)
parser.add_argument("--img", type=int, default=32)
parser.add_argument("--patch", type=int, default=4)
parser.add_argument("--batch", type=int, default=64)
parser.add_argument("--rank", type=int, default=8)
parser.add_argument("--dcomp", type=int, default=4)
parser.add_argument("--steps", type=int, default=10, help="timed steps (after the warm-up steps)")
parser.add_argument("--warmup", type=int, default=2, help="untimed warm-up steps")
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--classes", type=int, default=100)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)


class LowRank(nn.Module):
    """x -> x Aᵀ Bᵀ with A (rank x dim) ~ N(0, 1/dim) and B zero, the LoRA initialisation."""

    def __init__(self, dim, rank):
        super().__init__()
        self.A = nn.Parameter(torch.randn(rank, dim) / math.sqrt(dim))
        self.B = nn.Parameter(torch.zeros(dim, rank))

    def forward(self, x):
        return x @ self.A.t() @ self.B.t()


class Attention(nn.Module):
    def __init__(self, dim, heads, method, rank, dcomp):
        super().__init__()
        self.heads, self.method = heads, method
        self.q, self.k, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))
        if method in ("lora", "kora"):
            self.lq, self.lk, self.lv = LowRank(dim, rank), LowRank(dim, rank), LowRank(dim, rank)
        if method == "kora":
            # Non-zero B so the composition's gradients are not trivially zero; the gate starts at 0 as in KoRA.
            for low_rank in (self.lq, self.lk, self.lv):
                nn.init.normal_(low_rank.B, std=0.01)
            self.comp = nn.Sequential(nn.Linear(3 * dim, dcomp), nn.GELU(), nn.Linear(dcomp, dim))
            self.g = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        batch, tokens, dim = x.shape
        q, k, v = self.q(x), self.k(x), self.v(x)
        if self.method == "lora":
            q, k, v = q + self.lq(x), k + self.lk(x), v + self.lv(x)
        if self.method == "kora":
            v = v + self.g * self.comp(torch.cat([self.lq(x), self.lk(x), self.lv(x)], -1))

        def split(t):
            return t.view(batch, tokens, self.heads, dim // self.heads).transpose(1, 2)

        scores = (split(q) @ split(k).transpose(-1, -2)) / math.sqrt(dim // self.heads)
        y = (scores.softmax(-1) @ split(v)).transpose(1, 2).reshape(batch, tokens, dim)
        return self.o(y)


class Block(nn.Module):
    def __init__(self, dim, heads, method, rank, dcomp):
        super().__init__()
        self.n1 = nn.LayerNorm(dim)
        self.a = Attention(dim, heads, method, rank, dcomp)
        self.n2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.a(self.n1(x))
        return x + self.mlp(self.n2(x))


class ViT(nn.Module):
    def __init__(self, a):
        super().__init__()
        dim, patches = a.dim, (a.img // a.patch) ** 2
        self.pe = nn.Conv2d(3, dim, a.patch, a.patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, patches + 1, dim) * 0.02)
        self.blocks = nn.ModuleList([Block(dim, a.heads, a.method, a.rank, a.dcomp) for _ in range(a.depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, a.classes)

    def forward(self, x):
        x = self.pe(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(len(x), -1, -1), x], 1) + self.pos
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])


model = ViT(args)
if args.method != "full":
    adapter_names = (".lq.", ".lk.", ".lv.", ".comp.", ".g")
    for name, parameter in model.named_parameters():
        parameter.requires_grad = "head" in name or any(part in name for part in adapter_names)
trainable = [parameter for parameter in model.parameters() if parameter.requires_grad]
total_count = sum(parameter.numel() for parameter in model.parameters())
trainable_count = sum(parameter.numel() for parameter in trainable)
optimizer = torch.optim.AdamW(trainable, lr=1e-3)
images = torch.randn(args.batch, 3, args.img, args.img)
labels = torch.randint(0, args.classes, (args.batch,))


def step():
    optimizer.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
    return loss


for _ in range(args.warmup):
    step()
started = time.perf_counter()
for _ in range(args.steps):
    step()
seconds = (time.perf_counter() - started) / args.steps
print(
    f"torch {torch.__version__} threads={args.threads} method={args.method} params={total_count} "
    f"trainable={trainable_count} ({100 * trainable_count / total_count:.2f}%) batch={args.batch} "
    f"step_s={seconds:.4f} img_per_s={args.batch / seconds:.1f}"
)
