"""The training objective: the chosen loss terms and their weighting, as one module.

Term names: ``image_text`` (:func:`~.losses.clip_loss`), ``patent``
(:class:`~.losses.MultiPositiveLoss`), ``class`` (:class:`~.losses.ClassContrastiveLoss`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from retrieval.ml.training.losses import (
    ClassContrastiveLoss,
    MultiPositiveLoss,
    UncertaintyWeighting,
    clip_loss,
)

__all__ = ["LOSS_NAMES", "Objective", "ObjectiveConfig", "term_name"]

#: Command-line loss names and the term names they stand for.
LOSS_NAMES = {"image-text": "image_text", "patent": "patent", "class": "class"}


def term_name(cli_name: str) -> str:
    """``"image-text"`` -> ``"image_text"``; raises ValueError for an unknown loss name."""
    if cli_name not in LOSS_NAMES:
        raise ValueError(f"unknown loss {cli_name!r}: choose from {', '.join(LOSS_NAMES)}")
    return LOSS_NAMES[cli_name]


@dataclass(frozen=True, slots=True)
class ObjectiveConfig:
    """Which terms, and their settings.

    Attributes:
        terms: term names, any non-empty subset of ``image_text``, ``patent``, ``class``.
        temperature: softmax temperature of the image-image terms (the image-text term uses the
            model's learnable ``logit_scale``).
        balance_beta: class-balanced weight exponent of the class term (0 = off).
        logit_adjust: logit adjustment strength tau of the class term (0 = off).
        uncertainty: learn the term weights (Kendall et al. 2018); else plain sum.
    """

    terms: tuple[str, ...]
    temperature: float = 0.1
    balance_beta: float = 0.0
    logit_adjust: float = 0.0
    uncertainty: bool = True

    def __post_init__(self) -> None:
        known = set(LOSS_NAMES.values())
        if (
            not self.terms
            or not set(self.terms) <= known
            or len(set(self.terms)) != len(self.terms)
        ):
            raise ValueError(
                f"terms must be distinct names from {sorted(known)}, got {self.terms!r}"
            )
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")


class Objective(nn.Module):
    """The weighted sum of the active loss terms.

    Args:
        cfg: the terms and settings.
        class_counts: training items per class index (needed when ``class`` is a term).
    """

    def __init__(self, cfg: ObjectiveConfig, class_counts: Sequence[int] = ()) -> None:
        super().__init__()
        self.cfg = cfg
        self.patent = MultiPositiveLoss(cfg.temperature)
        self.classes: ClassContrastiveLoss | None = None
        if "class" in cfg.terms:
            if not class_counts:
                raise ValueError(
                    "the class loss needs labelled training items, and none has a label"
                )
            self.classes = ClassContrastiveLoss(
                class_counts,
                temperature=cfg.temperature,
                beta=cfg.balance_beta,
                tau=cfg.logit_adjust,
            )
        self.weighting = UncertaintyWeighting(cfg.terms, learn=cfg.uncertainty)

    @property
    def needs_text(self) -> bool:
        """Whether the text tower takes part."""
        return "image_text" in self.cfg.terms

    def forward(
        self,
        images: torch.Tensor,
        texts: torch.Tensor | None,
        logit_scale: torch.Tensor,
        groups: torch.Tensor,
        labels: torch.Tensor,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The total loss and each term.

        Args:
            images: ``(V * B, D)`` normalised image embeddings: V views of the same B items,
                view after view (``images[:B]`` is the first view).
            texts: ``(B, D)`` normalised text embeddings of the B items (None without the
                image-text term).
            logit_scale: the model's log scale of the image-text logits.
            groups: ``(V * B,)`` patent index of each row of ``images``.
            labels: ``(V * B,)`` class index of each row, -1 = none.

        Returns:
            ``(total, terms)``, scalars; terms keyed by term name.
        """
        images = images.float()
        terms: dict[str, torch.Tensor] = {}
        if "image_text" in self.cfg.terms:
            if texts is None:
                raise ValueError("the image-text loss needs text embeddings")
            texts = texts.float()
            terms["image_text"] = clip_loss(images[: texts.shape[0]], texts, logit_scale.float())
        if "patent" in self.cfg.terms:
            terms["patent"] = self.patent(images, groups)
        if self.classes is not None:
            terms["class"] = self.classes(images, labels)
        return self.weighting(terms), terms
