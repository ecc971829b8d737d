"""The peer for `benchmarks/compare_peer.py`: InfoGAN's MNIST training step in PyTorch, timed.

python benchmarks/peer_torch_infogan_mnist.py --batch=64 --steps=40 [--warmup=5] [--threads=N]

Needs only torch and numpy (run it with a torch venv's Python; the repo does not depend on torch). The
networks are the paper's MNIST ones (Chen et al. 2016, arXiv:1606.03657, Appendix C, Table 1), as
`infogan_tf/models.py`'s `mnist` architecture:

  G: FC 1024-BN-ReLU, FC 7x7x128-BN-ReLU, deconv 4x4 64 stride 2-BN-ReLU, deconv 4x4 1 stride 2, sigmoid
  D: conv 4x4 64 stride 2-lReLU, conv 4x4 128 stride 2-BN-lReLU, FC 1024-BN-lReLU (the shared body);
     D head FC 1; Q head FC 128-BN-lReLU, then 10 categorical logits and 2 continuous means

with lReLU slope 0.1, BN decay 0.9 and epsilon 1e-5. Latent: z 62 x Unif(-1, 1), one Cat(10), 2 x
Unif(-1, 1). Adam(beta1 = 0.5), G lr 1e-3, D/Q lr 2e-4. One step:

  1. fake = G(z, c);
  2. D/Q step on -V - lambda L_I: body, D head and Q head on softplus(-D(x)) + softplus(D(fake)) minus
     lambda_cat L_I(cat) + lambda_cont L_I(cont) on the fake batch (G not touched); lambda_cat = 1,
     lambda_cont = 0.1; L_I(cat) = ln 10 - cross-entropy, L_I(cont) = ln 2 + log N(c; mu, 1);
  3. G step through the updated D/Q on the same fake batch: softplus(-D(fake)) - lambda L_I.

Real and fake batches go through D in separate calls, so each is batch-normalised on its own. The data
are random images held in memory (the step's cost does not depend on their content). The last line is
`images_per_s=<N>`, the number compare_peer.py reads.
"""

from __future__ import annotations

import argparse
import math
import platform
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

NOISE, CATEGORIES, CONTINUOUS = 62, 10, 2
LAMBDA_CAT, LAMBDA_CONT = 1.0, 0.1
SLOPE = 0.1
BN = {"momentum": 0.1, "eps": 1e-5}  # PyTorch's momentum 0.1 is a moving-average decay of 0.9
LOG_2 = math.log(2.0)
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(NOISE + CATEGORIES + CONTINUOUS, 1024, bias=False),
            nn.BatchNorm1d(1024, **BN),
            nn.ReLU(),
            nn.Linear(1024, 7 * 7 * 128, bias=False),
            nn.BatchNorm1d(7 * 7 * 128, **BN),
            nn.ReLU(),
        )
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1, bias=False),  # 7 -> 14
            nn.BatchNorm2d(64, **BN),
            nn.ReLU(),
            nn.ConvTranspose2d(64, 1, 4, stride=2, padding=1),  # 14 -> 28
            nn.Sigmoid(),
        )

    def forward(self, latent: torch.Tensor) -> torch.Tensor:
        return self.deconv(self.fc(latent).view(-1, 128, 7, 7))


class Discriminator(nn.Module):
    """The shared body, D's real/fake logit and Q's code parameters."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 64, 4, stride=2, padding=1),  # 28 -> 14
            nn.LeakyReLU(SLOPE),
            nn.Conv2d(64, 128, 4, stride=2, padding=1, bias=False),  # 14 -> 7
            nn.BatchNorm2d(128, **BN),
            nn.LeakyReLU(SLOPE),
            nn.Flatten(),
            nn.Linear(7 * 7 * 128, 1024, bias=False),
            nn.BatchNorm1d(1024, **BN),
            nn.LeakyReLU(SLOPE),
        )
        self.d_head = nn.Linear(1024, 1)
        self.q_head = nn.Sequential(
            nn.Linear(1024, 128, bias=False),
            nn.BatchNorm1d(128, **BN),
            nn.LeakyReLU(SLOPE),
            nn.Linear(128, CATEGORIES + CONTINUOUS),
        )

    def forward(self, images: torch.Tensor):
        features = self.body(images)
        q = self.q_head(features)
        return self.d_head(features).squeeze(1), q[:, :CATEGORIES], q[:, CATEGORIES:]


def sample_latent(batch: int, generator: torch.Generator):
    """G's input (z, one-hot c_cat, c_cont) and the codes Q must recover."""
    z = torch.rand(batch, NOISE, generator=generator) * 2 - 1
    categories = torch.randint(0, CATEGORIES, (batch,), generator=generator)
    continuous = torch.rand(batch, CONTINUOUS, generator=generator) * 2 - 1
    latent = torch.cat([z, F.one_hot(categories, CATEGORIES).float(), continuous], dim=1)
    return latent, categories, continuous


def info_lower_bound(cat_logits, cont_mean, categories, continuous):
    """lambda-weighted L_I per example, and the unweighted L_I summed over codes (for the log)."""
    cat = math.log(CATEGORIES) - F.cross_entropy(cat_logits, categories, reduction="none")
    cont = (LOG_2 - 0.5 * (continuous - cont_mean) ** 2 - HALF_LOG_2PI).sum(dim=1)  # fixed sigma = 1
    return LAMBDA_CAT * cat + LAMBDA_CONT * cont, cat + cont


class InfoGAN:
    def __init__(self):
        self.generator, self.discriminator = Generator(), Discriminator()
        self.g_optimizer = torch.optim.Adam(self.generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
        self.d_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def step(self, real: torch.Tensor, latent, categories, continuous) -> dict[str, float]:
        fake = self.generator(latent)

        # D/Q step on -V - lambda L_I; G's output is a constant here.
        real_logit, _, _ = self.discriminator(real)
        fake_logit, cat_logits, cont_mean = self.discriminator(fake.detach())
        weighted, info = info_lower_bound(cat_logits, cont_mean, categories, continuous)
        d_gan = F.softplus(-real_logit) + F.softplus(fake_logit)
        d_loss = (d_gan - weighted).mean()
        self.d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self.d_optimizer.step()

        # G step through the updated D/Q on the same fake batch and codes; only G's weights move, so D's
        # own weight gradients are not computed.
        self.discriminator.requires_grad_(False)
        fake_logit, cat_logits, cont_mean = self.discriminator(fake)
        g_weighted, _ = info_lower_bound(cat_logits, cont_mean, categories, continuous)
        g_gan = F.softplus(-fake_logit)
        g_loss = (g_gan - g_weighted).mean()
        self.g_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        self.g_optimizer.step()
        self.discriminator.requires_grad_(True)
        return {"d_loss": d_gan.mean().detach(), "g_loss": g_gan.mean().detach(), "info_lb": info.mean().detach()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64, help="Batch size (real and fake each).")
    parser.add_argument("--steps", type=int, default=40, help="Timed training steps.")
    parser.add_argument("--warmup", type=int, default=5, help="Untimed steps first.")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default).")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.batch < 2 or args.steps < 1 or args.warmup < 0:
        parser.error("--batch must be at least 2 (batch norm), --steps at least 1, --warmup at least 0.")
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = torch.Generator().manual_seed(args.seed)

    model = InfoGAN()
    model.generator.train()
    model.discriminator.train()
    # A few batches of random images and latents, made before the clock starts.
    pool = 4
    reals = [torch.rand(args.batch, 1, 28, 28, generator=rng) for _ in range(pool)]
    latents = [sample_latent(args.batch, rng) for _ in range(pool)]

    for i in range(args.warmup):
        model.step(reals[i % pool], *latents[i % pool])
    start = time.perf_counter()
    for i in range(args.steps):
        metrics = model.step(reals[i % pool], *latents[i % pool])
    metrics = {name: float(value) for name, value in metrics.items()}  # waits for the last step
    seconds = time.perf_counter() - start
    if not all(np.isfinite(list(metrics.values()))):
        raise SystemExit(f"non-finite losses after {args.steps} steps: {metrics}")

    print(
        f"torch={torch.__version__} python={platform.python_version()} threads={torch.get_num_threads()} "
        f"batch={args.batch} warmup={args.warmup} steps={args.steps}"
    )
    print(" ".join(f"{name}={value:.4f}" for name, value in metrics.items()))
    print(f"seconds_per_step={seconds / args.steps:.5f}")
    print(f"images_per_s={args.steps * args.batch / seconds:.1f}")


if __name__ == "__main__":
    main()
