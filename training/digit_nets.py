"""Networks for 28×28 digits: judge classifier, autoencoder, latent-space and pixel-space GANs.

Sized for two CPU cores: every generator stays under a few million multiply-adds per image so
that onnxruntime turns out 10,000 digits in well under a second, and each trains in minutes.
Images are float [batch, 28, 28] in [0, 1] at every module boundary, as in the exported contract.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


class Classifier(nn.Module):
    """Small VGG-style CNN; ``features`` (the 128-d penultimate layer) feed every image metric."""

    def __init__(self, width: int = 32, features: int = 128):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.BatchNorm2d(2 * width), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2 * width * 49, features), nn.ReLU())
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(features, 10))

    def forward(self, image):
        """Logits [batch, 10]."""
        return self.head(self.body(image.unsqueeze(1)))

    def features(self, image):
        return self.body(image.unsqueeze(1))


class Judge(nn.Module):
    """The exported classifier: ``image`` → (``probs``, ``features``)."""

    def __init__(self, classifier: Classifier):
        super().__init__()
        self.net = classifier

    def forward(self, image):
        h = self.net.body(image.unsqueeze(1))
        return torch.softmax(self.net.head(h), dim=1), h


class Encoder(nn.Module):
    def __init__(self, latent_dim: int = 32, width: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(0.2),                        # 14×14
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),  # 7×7
            nn.Flatten(), nn.Linear(2 * width * 49, latent_dim))

    def forward(self, image):
        return self.net(image.unsqueeze(1))


class ImageDecoder(nn.Module):
    """``latent`` (or noise + label for the pixel cGAN) → image in [0, 1], DCGAN-style."""

    def __init__(self, in_dim: int, width: int = 32):
        super().__init__()
        self.width = width
        self.fc = nn.Sequential(nn.Linear(in_dim, 4 * width * 49), nn.BatchNorm1d(4 * width * 49), nn.ReLU())
        self.up = nn.Sequential(
            nn.ConvTranspose2d(4 * width, 2 * width, 4, 2, 1), nn.BatchNorm2d(2 * width), nn.ReLU(),  # 14×14
            nn.ConvTranspose2d(2 * width, 1, 4, 2, 1), nn.Sigmoid())                                  # 28×28

    def forward(self, x):
        h = self.fc(x).view(-1, 4 * self.width, 7, 7)
        return self.up(h).squeeze(1)


class PixelGenerator(ImageDecoder):
    """Noise + one-hot digit → image (the pixel-space cGAN's generator)."""

    def __init__(self, latent_dim: int, n_classes: int, width: int = 32):
        super().__init__(latent_dim + n_classes, width)

    def forward(self, z, label=None):
        return super().forward(z if label is None else torch.cat([z, label], 1))


class PixelDiscriminator(nn.Module):
    """Spectral-norm CNN with a projection head for the label (Miyato & Koyama 2018).

    ``lower`` holds the layers FreezeD keeps frozen when fine-tuning on a small target set.
    """

    def __init__(self, n_classes: int = 0, width: int = 32):
        super().__init__()
        self.lower = nn.Sequential(
            spectral_norm(nn.Conv2d(1, width, 4, 2, 1)), nn.LeakyReLU(0.2),             # 14×14
            spectral_norm(nn.Conv2d(width, 2 * width, 4, 2, 1)), nn.LeakyReLU(0.2))     # 7×7
        self.upper = nn.Sequential(nn.Flatten(), spectral_norm(nn.Linear(2 * width * 49, 128)), nn.LeakyReLU(0.2))
        self.out = spectral_norm(nn.Linear(128, 1))
        self.embed = spectral_norm(nn.Linear(n_classes, 128, bias=False)) if n_classes else None

    def forward(self, image, label=None):
        h = self.upper(self.lower(image.unsqueeze(1)))
        logit = self.out(h)
        if self.embed is not None:
            logit = logit + (self.embed(label) * h).sum(1, keepdim=True)
        return logit


class LatentGenerator(nn.Module):
    """Noise (+ one-hot digit) → standardised autoencoder latent; MLP as in R4 (``hidden``: the layers'
    widths, each followed by BatchNorm unless ``batchnorm`` is off)."""

    def __init__(self, noise_dim: int, latent_dim: int, n_classes: int = 0, hidden=(256, 256),
                 batchnorm: bool = True):
        super().__init__()
        layers, width = [], noise_dim + n_classes
        for h in hidden:
            layers += [nn.Linear(width, h), *([nn.BatchNorm1d(h)] if batchnorm else []), nn.LeakyReLU(0.2)]
            width = h
        self.net = nn.Sequential(*layers, nn.Linear(width, latent_dim))

    def forward(self, z, label=None):
        return self.net(z if label is None else torch.cat([z, label], 1))


class LatentDiscriminator(nn.Module):
    """Latent (+ one-hot digit, concatenated as in R4) → logit. With ``pac`` > 1 it judges ``pac``
    consecutive rows together (PacGAN, Lin et al. 2018): one logit per pack, so a batch that repeats
    a few modes is easier to tell from a real one."""

    def __init__(self, latent_dim: int, n_classes: int = 0, hidden=(256, 256), pac: int = 1):
        super().__init__()
        self.pac = pac
        layers, width = [], (latent_dim + n_classes) * pac
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(0.2)]
            width = h
        self.net = nn.Sequential(*layers, nn.Linear(width, 1))

    def forward(self, latent, label=None):
        x = latent if label is None else torch.cat([latent, label], 1)
        return self.net(x if self.pac == 1 else x.reshape(-1, x.shape[1] * self.pac))


def noise_code(z: torch.Tensor, k: int) -> torch.Tensor:
    """One-hot of the largest of the first ``k`` noise values: uniform over k for standard normal noise, so a
    discrete code drawn from the model's own noise (no labels, nothing added to its input)."""
    head = z[:, :k]
    return (head == head.amax(1, keepdim=True)).to(z.dtype)


class CodedGenerator(nn.Module):
    """An unconditional generator fed its noise and a discrete code taken from that noise (``noise_code``).

    A continuous map from one Gaussian has to bridge separate clusters (the digits) with in-between
    samples; a k-valued code lets it put its mass on k separate pieces. Which piece draws what is left to
    the GAN and to InfoGAN's mutual-information term (Chen et al. 2016): no label is used.
    """

    def __init__(self, net: LatentGenerator, k: int):
        super().__init__()
        self.net, self.k = net, k

    def forward(self, z):
        return self.net(z, noise_code(z, self.k))


class CodeRecogniser(nn.Module):
    """InfoGAN's Q: latent → logits of the code that drew it (trained with the generator)."""

    def __init__(self, latent_dim: int, k: int, hidden: int = 256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, k))

    def forward(self, latent):
        return self.net(latent)


class MLPGenerator(nn.Module):
    """R5's plain MNIST generator: Linear(100, 256)-ReLU-Linear(256, 784)-Tanh, pixels in [-1, 1]."""

    def __init__(self, noise_dim: int = 100, hidden: int = 256):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(noise_dim, hidden), nn.ReLU(), nn.Linear(hidden, 784), nn.Tanh())

    def forward(self, z):
        return self.net(z).view(-1, 28, 28)


class MLPDiscriminator(nn.Module):
    """R5's plain discriminator: Linear(784, 256)-LeakyReLU(0.2)-Linear(256, 1); the sigmoid lives in the loss."""

    def __init__(self, hidden: int = 256):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, image):
        return self.net(image)
