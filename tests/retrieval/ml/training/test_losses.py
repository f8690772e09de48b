import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from retrieval.ml.training.losses import (
    ClassContrastiveLoss,
    MultiPositiveLoss,
    UncertaintyWeighting,
    clip_loss,
    supcon_terms,
)
from retrieval.ml.training.objective import Objective, ObjectiveConfig

pytestmark = pytest.mark.ml
torch.set_num_threads(1)


def _unit(rows: list[list[float]]) -> torch.Tensor:
    return F.normalize(torch.tensor(rows, dtype=torch.float32), dim=1)


def _random_unit(n: int, d: int = 8, seed: int = 0) -> torch.Tensor:
    return F.normalize(torch.randn(n, d, generator=torch.Generator().manual_seed(seed)), dim=1)


def test_clip_loss_matches_hand_computed_2x2() -> None:
    image = _unit([[1, 0], [0, 1]])
    text = _unit([[1, 0], [1, 1]])
    # similarities: [[1, 1/sqrt2], [0, 1/sqrt2]], scale e^0 = 1
    s = 1 / math.sqrt(2)
    row = [-(1 - math.log(math.e + math.exp(s))), -(s - math.log(1 + math.exp(s)))]
    col = [-(1 - math.log(math.e + 1)), -(s - math.log(math.exp(s) + math.exp(s)))]
    expected = (sum(row) / 2 + sum(col) / 2) / 2
    assert float(clip_loss(image, text, torch.tensor(0.0))) == pytest.approx(expected, rel=1e-6)


def test_clip_loss_clamps_the_scale_at_100() -> None:
    image, text = _random_unit(4, seed=1), _random_unit(4, seed=2)
    at_cap = clip_loss(image, text, torch.tensor(math.log(100.0)))
    above = clip_loss(image, text, torch.tensor(math.log(1000.0)))
    assert float(above) == pytest.approx(float(at_cap))


def test_clip_loss_is_symmetric_and_permutation_invariant() -> None:
    image, text = _random_unit(5, seed=3), _random_unit(5, seed=4)
    scale = torch.tensor(2.0)
    perm = torch.tensor([3, 0, 4, 1, 2])
    base = float(clip_loss(image, text, scale))
    assert float(clip_loss(text, image, scale)) == pytest.approx(base, rel=1e-6)
    assert float(clip_loss(image[perm], text[perm], scale)) == pytest.approx(base, rel=1e-6)


def _supcon_reference(z: np.ndarray, pos: np.ndarray, cand: np.ndarray, t: float) -> np.ndarray:
    """Loop-by-loop SupCon: -mean over positives of log softmax over candidates."""
    sims = z @ z.T / t
    out = np.zeros(len(z))
    for i in range(len(z)):
        ps = np.flatnonzero(pos[i])
        if ps.size == 0:
            continue
        denominator = np.log(np.exp(sims[i, cand[i]]).sum())
        out[i] = -np.mean([sims[i, p] - denominator for p in ps])
    return out


def test_multi_positive_loss_matches_hand_computed_3x3() -> None:
    # items 0 and 1 share a patent; item 2 has no positive and is skipped as anchor.
    z = _unit([[1, 0], [0.6, 0.8], [0, 1]])
    groups = torch.tensor([7, 7, 9])
    # sims: z0.z1 = 0.6, z0.z2 = 0, z1.z2 = 0.8; temperature 1
    anchor0 = -(0.6 - math.log(math.exp(0.6) + math.exp(0.0)))
    anchor1 = -(0.6 - math.log(math.exp(0.6) + math.exp(0.8)))
    loss = MultiPositiveLoss(temperature=1.0)(z, groups)
    assert float(loss) == pytest.approx((anchor0 + anchor1) / 2, rel=1e-6)


def test_multi_positive_loss_averages_over_several_positives() -> None:
    z = _random_unit(7, seed=5)
    groups = torch.tensor([0, 0, 0, 1, 1, 2, 3])
    others = ~np.eye(7, dtype=bool)
    pos = (groups.numpy()[:, None] == groups.numpy()[None, :]) & others
    ref = _supcon_reference(z.double().numpy(), pos, others, 0.1)
    has = pos.any(1)
    assert float(MultiPositiveLoss(0.1)(z, groups)) == pytest.approx(ref[has].mean(), rel=1e-5)


def test_multi_positive_loss_is_zero_without_positives_and_still_differentiable() -> None:
    z = _random_unit(4, seed=6).requires_grad_()
    loss = MultiPositiveLoss()(z, torch.arange(4))
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert z.grad is not None and bool(torch.isfinite(z.grad).all())


def test_losses_ignore_the_scale_of_vectors_before_normalisation() -> None:
    raw = torch.randn(6, 8, generator=torch.Generator().manual_seed(7))
    scaled = raw * torch.tensor([1.0, 3.0, 0.5, 10.0, 2.0, 7.0])[:, None]
    groups, labels = torch.tensor([0, 0, 1, 1, 2, 2]), torch.tensor([0, 1, 0, 1, 0, -1])
    class_loss = ClassContrastiveLoss([3, 2], beta=0.5, tau=1.0)
    for loss in (lambda z: MultiPositiveLoss()(z, groups), lambda z: class_loss(z, labels)):
        assert float(loss(F.normalize(raw, dim=1))) == pytest.approx(
            float(loss(F.normalize(scaled, dim=1))), rel=1e-5
        )


def test_losses_are_invariant_to_permuting_the_batch() -> None:
    z = _random_unit(8, seed=8)
    groups, labels = torch.tensor([0, 0, 1, 1, 2, 3, 3, 4]), torch.tensor([0, 0, 1, 1, 0, 2, 2, -1])
    perm = torch.randperm(8, generator=torch.Generator().manual_seed(0))
    patent, classes = MultiPositiveLoss(), ClassContrastiveLoss([4, 2, 2], beta=1.0, tau=0.5)
    assert float(patent(z[perm], groups[perm])) == pytest.approx(float(patent(z, groups)), rel=1e-5)
    assert float(classes(z[perm], labels[perm])) == pytest.approx(
        float(classes(z, labels)), rel=1e-5
    )


def test_class_loss_without_options_is_plain_supcon_ignoring_unlabelled_items() -> None:
    z = _random_unit(6, seed=9)
    labels = torch.tensor([0, 0, 1, 1, 1, -1])
    lab = labels.numpy()
    labelled = lab >= 0
    cand = labelled[:, None] & labelled[None, :] & ~np.eye(6, dtype=bool)
    pos = (lab[:, None] == lab[None, :]) & cand
    ref = _supcon_reference(z.double().numpy(), pos, cand, 0.1)
    loss = ClassContrastiveLoss([2, 3])(z, labels)
    assert float(loss) == pytest.approx(ref[pos.any(1)].mean(), rel=1e-5)


def test_class_loss_logit_adjustment_matches_hand_computed_case() -> None:
    # anchor 0 (class 0, prior 0.25) has positive 1 and negative 2 (class 1, prior 0.75).
    z = _unit([[1, 0], [0.6, 0.8], [0, 1]])
    labels = torch.tensor([0, 0, 1])
    tau = 2.0
    shift = tau * math.log(0.75)
    anchor0 = -(0.6 - math.log(math.exp(0.6) + math.exp(0.0 + shift)))
    anchor1 = -(0.6 - math.log(math.exp(0.6) + math.exp(0.8 + shift)))
    loss = ClassContrastiveLoss([1, 3], temperature=1.0, tau=tau)(z, labels)
    assert float(loss) == pytest.approx((anchor0 + anchor1) / 2, rel=1e-6)


def test_logit_adjustment_leaves_positives_unshifted() -> None:
    z = _random_unit(4, seed=10)
    labels = torch.tensor([0, 0, 0, 0])
    plain = ClassContrastiveLoss([4])(z, labels)
    adjusted = ClassContrastiveLoss([4], tau=3.0)(z, labels)
    assert float(adjusted) == pytest.approx(float(plain), rel=1e-6)


def test_balanced_weights_give_rare_class_anchors_more_weight() -> None:
    loss = ClassContrastiveLoss([100, 4], beta=0.5)
    weights = loss.anchor_weights(torch.tensor([0, 0, 0, 1, 1]))
    assert float(weights.mean()) == pytest.approx(1.0)
    assert float(weights[3]) / float(weights[0]) == pytest.approx(5.0)  # (100 / 4) ** 0.5
    assert bool((ClassContrastiveLoss([100, 4]).anchor_weights(torch.tensor([0, 1])) == 1).all())


def test_balanced_class_loss_matches_weighted_reference() -> None:
    z = _random_unit(6, seed=11)
    labels = torch.tensor([0, 0, 0, 0, 1, 1])
    counts = [50, 2]
    lab = labels.numpy()
    cand = ~np.eye(6, dtype=bool)
    ref = _supcon_reference(z.double().numpy(), (lab[:, None] == lab[None, :]) & cand, cand, 0.1)
    w = np.array([counts[c] ** -1.0 for c in lab])
    w = w / w.mean()
    loss = ClassContrastiveLoss(counts, beta=1.0)(z, labels)
    assert float(loss) == pytest.approx(float((ref * w).mean()), rel=1e-5)


def test_class_loss_is_zero_when_no_anchor_has_a_labelled_positive() -> None:
    z = _random_unit(3, seed=12).requires_grad_()
    loss = ClassContrastiveLoss([1, 1])(z, torch.tensor([0, 1, -1]))
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert bool(torch.isfinite(z.grad).all())


def test_class_loss_rejects_bad_counts() -> None:
    with pytest.raises(ValueError):
        ClassContrastiveLoss([3, 0])
    with pytest.raises(ValueError):
        ClassContrastiveLoss([3], beta=-1)


def test_supcon_terms_give_finite_gradients_with_unlabelled_rows() -> None:
    z = _random_unit(4, seed=13).requires_grad_()
    none = torch.zeros(4, 4, dtype=torch.bool)
    cand = none.clone()
    cand[0, 1] = cand[1, 0] = True
    losses, has = supcon_terms(z, cand, cand, 0.1)
    losses[has].mean().backward()
    assert has.tolist() == [True, True, False, False]
    assert bool(torch.isfinite(z.grad).all())


def test_uncertainty_weighting_formula_and_fixed_mode() -> None:
    weighting = UncertaintyWeighting(["a", "b"])
    with torch.no_grad():
        weighting.log_vars.copy_(torch.tensor([0.0, math.log(4.0)]))
    total = weighting({"a": torch.tensor(2.0), "b": torch.tensor(8.0)})
    assert float(total.detach()) == pytest.approx(0.5 * 2.0 + 0.5 * 8.0 / 4 + 0.5 * math.log(4.0))
    fixed = UncertaintyWeighting(["a", "b"], learn=False)
    assert float(fixed({"a": torch.tensor(2.0), "b": torch.tensor(8.0)})) == pytest.approx(10.0)
    assert fixed.weights() == {"a": 1.0, "b": 1.0}
    with pytest.raises(ValueError):
        weighting({"a": torch.tensor(1.0)})


def test_uncertainty_weights_learn_toward_log_of_each_loss() -> None:
    weighting = UncertaintyWeighting(["small", "large"])
    optimizer = torch.optim.Adam(weighting.parameters(), lr=0.05)
    terms = {"small": torch.tensor(0.5), "large": torch.tensor(6.0)}
    for _ in range(600):
        optimizer.zero_grad()
        weighting(terms).backward()
        optimizer.step()
    learned = weighting.log_variances()
    assert learned["small"] == pytest.approx(math.log(0.5), abs=0.05)
    assert learned["large"] == pytest.approx(math.log(6.0), abs=0.05)
    assert weighting.weights()["small"] > weighting.weights()["large"]


def test_objective_combines_the_chosen_terms() -> None:
    z, t = _random_unit(4, seed=14), _random_unit(4, seed=15)
    groups, labels = torch.tensor([0, 0, 1, 1]), torch.tensor([0, 0, 0, 1])
    objective = Objective(ObjectiveConfig(("image_text", "patent"), uncertainty=False))
    total, terms = objective(z, t, torch.tensor(0.0), groups, labels)
    assert set(terms) == {"image_text", "patent"}
    assert float(total) == pytest.approx(float(terms["image_text"] + terms["patent"]))
    two_views = Objective(ObjectiveConfig(("image_text", "class")), class_counts=[3, 1])
    _, terms = two_views(
        torch.cat([z, z]), t, torch.tensor(0.0), groups.repeat(2), labels.repeat(2)
    )
    assert float(terms["image_text"]) == pytest.approx(float(clip_loss(z, t, torch.tensor(0.0))))
    with pytest.raises(ValueError):
        ObjectiveConfig(("image_text", "nope"))
