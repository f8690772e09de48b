"""Training losses of the retrieval model (Lo et al. 2024, "Large Language Model Informed Patent
Image Retrieval"): image-text InfoNCE, multi-positive image-image loss over the images of a patent,
class-level supervised contrastive loss aware of class frequency, and their learned weighting.

Every loss takes L2-normalised embeddings. Labels are integer ids per batch item; ``-1`` marks an
item without a label (ignored as anchor and as candidate of the class loss).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

MAX_LOGIT_SCALE = 100.0
NO_LABEL = -1
_MASKED = -1e9


def clip_loss(image: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE between images and their texts (the CLIP loss).

    Args:
        image: ``(N, D)`` normalised image embeddings.
        text: ``(N, D)`` normalised text embeddings; ``text[i]`` belongs to ``image[i]``.
        logit_scale: the model's learnable log temperature (a scalar); the scale
            ``exp(logit_scale)`` is clamped to at most 100, as in CLIP.

    Returns:
        Scalar: mean of the image->text and text->image cross-entropies.
    """
    if image.shape != text.shape or image.ndim != 2:
        raise ValueError(
            f"image and text must both be (N, D), got {tuple(image.shape)} and {tuple(text.shape)}"
        )
    scale = logit_scale.exp().clamp(max=MAX_LOGIT_SCALE)
    logits = scale * image @ text.T
    target = torch.arange(image.shape[0], device=image.device)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


def supcon_terms(
    features: torch.Tensor,
    positives: torch.Tensor,
    candidates: torch.Tensor,
    temperature: float,
    logit_shift: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-anchor supervised contrastive loss (Khosla et al. 2020, "L_out" form).

    For anchor i: ``-mean_{p in P(i)} log( exp(z_ip) / sum_{a in A(i)} exp(z_ia) )`` with
    ``z = features @ features.T / temperature (+ logit_shift)`` and A(i) the candidates of i.

    Args:
        features: ``(N, D)`` normalised embeddings.
        positives: ``(N, N)`` bool, ``positives[i, j]``: j is a positive of anchor i (the
            diagonal must be False).
        candidates: ``(N, N)`` bool, the items in the denominator of anchor i (must include
            its positives, must exclude i itself).
        temperature: softmax temperature (> 0).
        logit_shift: optional ``(N, N)`` additive term of the logits (logit adjustment).

    Returns:
        ``(losses, has_positive)``: ``(N,)`` float per-anchor losses (0 where the anchor has no
        positive) and ``(N,)`` bool mask of the anchors that have one.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    logits = features @ features.T / temperature
    if logit_shift is not None:
        logits = logits + logit_shift
    # A large finite value, not -inf: rows with no candidate at all (skipped anchors) must give
    # finite values, or their NaN gradients would poison the whole batch.
    logits = logits.masked_fill(~candidates, _MASKED)
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    count = positives.sum(dim=1)
    has_positive = count > 0
    summed = torch.where(positives, log_prob, torch.zeros_like(log_prob)).sum(dim=1)
    losses = -summed / count.clamp(min=1)
    return torch.where(has_positive, losses, torch.zeros_like(losses)), has_positive


def _not_self(n: int, device: torch.device) -> torch.Tensor:
    return ~torch.eye(n, dtype=torch.bool, device=device)


class MultiPositiveLoss(nn.Module):
    """Instance loss between images with several positives: the other images of the same
    patent (and the other augmented view of the same image, which shares its patent id).

    SupCon average over positives; anchors without a positive are skipped; 0 (with a graph)
    when no anchor of the batch has one.

    Args:
        temperature: softmax temperature (default 0.1).
    """

    def __init__(self, temperature: float = 0.1) -> None:
        super().__init__()
        self.temperature = temperature

    def forward(self, features: torch.Tensor, groups: torch.Tensor) -> torch.Tensor:
        """Args: features ``(N, D)`` normalised, groups ``(N,)`` patent ids. Returns a scalar."""
        others = _not_self(features.shape[0], features.device)
        positives = (groups[:, None] == groups[None, :]) & others
        losses, has_positive = supcon_terms(features, positives, others, self.temperature)
        if not bool(has_positive.any()):
            return features.sum() * 0.0
        return losses[has_positive].mean()


class ClassContrastiveLoss(nn.Module):
    """Class-level supervised contrastive loss with class-frequency awareness.

    Positives of an anchor are the other items of its class. Two options against the long tail,
    both off by default:

    - class-balanced weights: anchor i weighs ``n_{c(i)} ** -beta`` (Cui et al. 2019), the weights
      normalised to mean 1 over the batch's anchors (``beta = 0``: plain mean);
    - logit adjustment (Menon et al. 2021; balanced contrastive learning, Zhu et al. 2022): the
      logit of every *negative* candidate j gets ``+ tau * log prior(c(j))``, so frequent classes
      weigh more in the denominator and rare classes must be separated from them by a margin.

    Items labelled ``-1`` take no part. Anchors with no positive are skipped; 0 when none has one.

    Args:
        class_counts: ``(C,)`` number of training items of each class id (all > 0).
        temperature: softmax temperature (default 0.1).
        beta: class-balanced weight exponent (0 = off).
        tau: logit adjustment strength (0 = off).
    """

    counts: torch.Tensor  # buffers, set in __init__
    log_prior: torch.Tensor

    def __init__(
        self,
        class_counts: Sequence[int] | torch.Tensor,
        *,
        temperature: float = 0.1,
        beta: float = 0.0,
        tau: float = 0.0,
    ) -> None:
        super().__init__()
        counts = torch.as_tensor(class_counts, dtype=torch.float32)
        if counts.ndim != 1 or counts.numel() == 0 or bool((counts <= 0).any()):
            raise ValueError("class_counts must be a non-empty 1-D sequence of positive counts")
        if beta < 0 or tau < 0:
            raise ValueError(f"beta and tau must be >= 0, got beta={beta}, tau={tau}")
        self.temperature, self.beta, self.tau = temperature, beta, tau
        self.register_buffer("counts", counts, persistent=False)
        self.register_buffer("log_prior", (counts / counts.sum()).log(), persistent=False)

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Args: features ``(N, D)`` normalised, labels ``(N,)`` class ids (-1 = none).
        Returns a scalar."""
        labelled = labels >= 0
        candidates = (
            labelled[:, None] & labelled[None, :] & _not_self(labels.shape[0], labels.device)
        )
        positives = (labels[:, None] == labels[None, :]) & candidates
        shift = None
        if self.tau > 0:
            prior = self.log_prior[labels.clamp(min=0)]
            shift = torch.where(positives, 0.0, self.tau * prior[None, :].expand_as(positives))
        losses, has_positive = supcon_terms(
            features, positives, candidates, self.temperature, shift
        )
        if not bool(has_positive.any()):
            return features.sum() * 0.0
        return (losses[has_positive] * self.anchor_weights(labels[has_positive])).mean()

    def anchor_weights(self, labels: torch.Tensor) -> torch.Tensor:
        """``(N,)`` weights of anchors with class ids ``labels`` (all >= 0): ``n_c ** -beta``,
        normalised to mean 1 (all ones when beta is 0)."""
        if self.beta == 0:
            return torch.ones(labels.shape, device=labels.device)
        weights = self.counts[labels].pow(-self.beta)
        return weights / weights.mean()


class UncertaintyWeighting(nn.Module):
    """Learned weighting of several losses (Kendall et al. 2018, homoscedastic uncertainty).

    ``total = sum_k 0.5 * exp(-s_k) * L_k + 0.5 * s_k`` with one learnable ``s_k`` (log variance)
    per term, initialised to 0. At the optimum ``s_k = log L_k``. With ``learn=False`` the
    weights stay fixed and the total is the plain sum of the terms.

    Args:
        names: the loss terms, e.g. ``("image_text", "patent", "class")``.
        learn: learn the weights (default) or keep equal weights.
    """

    def __init__(self, names: Sequence[str], *, learn: bool = True) -> None:
        super().__init__()
        if not names or len(set(names)) != len(names):
            raise ValueError(f"names must be distinct and non-empty, got {list(names)!r}")
        self.names = tuple(names)
        self.learn = learn
        self.log_vars = nn.Parameter(torch.zeros(len(names)), requires_grad=learn)

    def forward(self, terms: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Args: terms, one scalar per name (extra or missing names raise). Returns the total."""
        if set(terms) != set(self.names):
            raise ValueError(f"expected loss terms {sorted(self.names)}, got {sorted(terms)}")
        values = torch.stack([terms[name] for name in self.names])
        if not self.learn:
            return values.sum()
        s = self.log_vars.to(values.dtype)
        return (0.5 * torch.exp(-s) * values + 0.5 * s).sum()

    def weights(self) -> dict[str, float]:
        """Current effective weight ``0.5 * exp(-s_k)`` of each term (1.0 each when not learned)."""
        if not self.learn:
            return {name: 1.0 for name in self.names}
        return {
            name: float(0.5 * torch.exp(-s))
            for name, s in zip(self.names, self.log_vars.detach(), strict=True)
        }

    def log_variances(self) -> dict[str, float]:
        """The learned ``s_k`` of each term."""
        return {name: float(s) for name, s in zip(self.names, self.log_vars.detach(), strict=True)}
