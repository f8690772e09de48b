"""retrieval/selectors/class_focus.py: the best hits' classes ranked first."""

import pytest

from retrieval.selectors.class_focus import ClassFocus, FigureClasses, FocusClass, apply_class_focus

# Figures 1-6 of patents A-E: A and B (the two best) are games of D21 / 21-01, C a vehicle,
# D a game of the same classes far down the list, E without any class.
CLASSES = {
    1: FigureClasses("A", "D21", "21-01"),
    2: FigureClasses("B", "D21", "21-01"),
    3: FigureClasses("C", "D12", "12-08"),
    4: FigureClasses("A", "D21", "21-01"),
    5: FigureClasses("D", "D21", "21-01"),
    6: FigureClasses("E", "", ""),
}
FUSED = [(1, 0.90, {"joint": 1}), (2, 0.80, {"joint": 2}), (3, 0.78, {"joint": 3}), (6, 0.70, {"joint": 4}),
         (4, 0.60, {"joint": 5}), (5, 0.50, {"joint": 6})]


def test_the_voted_classes_rise_and_every_hit_keeps_its_fused_score():
    focused, focus = apply_class_focus(FUSED, weight=0.5, patents=3, classes=CLASSES)
    # votes: A 1, B 1/2 for D21 and 21-01; C 1/3 for D12 and 12-08 -> shares 0.818 / 0.182;
    # scores scaled over the list: 1.0, 0.75, 0.7, 0.5, 0.25, 0.0, then + 0.5 x (US + Locarno share);
    # the unclassed 6 is taken at the mix of the list's classified patents (A, B, D of D21 /
    # 21-01, C of D12 / 12-08: 3/4 and 1/4), so its share is 0.75 x 0.818 + 0.25 x 0.182 = 0.659
    # in each scheme: below A's and B's, above C's. A's second figure (4) passes the vehicle (3);
    # D's (5, at the bottom of the range) comes near it (0.818 against 0.882) but not above
    assert [f for f, *_ in focused] == [1, 2, 6, 4, 3, 5]
    scores = {f: s for f, s, _, _ in focused}
    assert scores == {f: s for f, s, _ in FUSED}  # the fused score is reported unchanged
    boosts = {f: b for f, _, _, b in focused}
    assert boosts[5] == pytest.approx(0.5 * 2 * (1.5 / (1.5 + 1 / 3)), abs=1e-5)
    assert boosts[3] == pytest.approx(0.5 * 2 * ((1 / 3) / (1.5 + 1 / 3)), abs=1e-5)
    share = 1.5 / (1.5 + 1 / 3)
    assert boosts[6] == pytest.approx(0.5 * 2 * (0.75 * share + 0.25 * (1 - share)), abs=1e-5)  # unclassed: its mix
    assert focus is not None and focus.patents == ["A", "B", "C"] and focus.weight == 0.5
    assert [(c.scheme, c.label) for c in focus.classes] == [
        ("us_class_main", "D21"), ("us_class_main", "D12"), ("locarno_class", "21-01"), ("locarno_class", "12-08")]
    assert focus.classes[0].share == pytest.approx(0.8182, abs=1e-4)


# A list of display devices: the two best patents are unclassed in Locarno (granted before it was
# printed), the third is a tablet of 14-02; further down, another of 14-02 and one of 14-04,
# all D14, and a chair of D6 / 06-01.
DEVICES = {
    11: FigureClasses("OLD1", "D14", ""),
    12: FigureClasses("OLD2", "D14", ""),
    13: FigureClasses("TABLET", "D14", "14-02"),
    14: FigureClasses("OLD3", "D14", ""),
    15: FigureClasses("LAPTOP", "D14", "14-02"),
    16: FigureClasses("SCREEN", "D14", "14-04"),
    17: FigureClasses("CHAIR", "D6", "06-01"),
    18: FigureClasses("FOREIGN", "", ""),
}


def test_an_unclassed_voter_votes_by_the_classes_of_its_kind_in_the_list():
    """Two unclassed voters and one of 14-02: the vote is not 14-02 alone, and the tablet
    (surely 14-02) ranks above an unclassed device of the same score (only probably 14-02)."""
    fused = [(11, 0.9, {}), (12, 0.85, {}), (13, 0.8, {}), (14, 0.8, {}), (15, 0.7, {}), (16, 0.6, {}),
             (17, 0.5, {}), (18, 0.5, {})]
    focused, focus = apply_class_focus(fused, weight=0.5, patents=3, classes=DEVICES)
    assert focus is not None and focus.patents == ["OLD1", "OLD2", "TABLET"]
    # the list's D14 patents with a Locarno class: 14-02 twice, 14-04 once -> an unclassed D14
    # votes 2/3 for 14-02; the votes: 14-02 2/3 + 2/3 x 1/2 + 1/3, 14-04 1/3 + 1/3 x 1/2
    locarno = {c.label: c.share for c in focus.classes if c.scheme == "locarno_class"}
    assert locarno == pytest.approx({"14-02": (4 / 3) / (11 / 6), "14-04": 0.5 / (11 / 6)}, abs=1e-4)
    order = [f for f, *_ in focused]
    assert order.index(13) < order.index(14)  # same fused score: the classified one first
    boosts = {f: b for f, _, _, b in focused}
    share = (4 / 3) / (11 / 6)
    assert boosts[13] == pytest.approx(0.5 * (1 + share), abs=1e-5)
    assert boosts[14] == pytest.approx(0.5 * (1 + 2 / 3 * share + 1 / 3 * (1 - share)), abs=1e-5)
    # a document with no class at all is taken at the mix of the whole list: US 6/7 D14, 1/7 D6
    assert boosts[18] == pytest.approx(0.5 * (6 / 7 + (2 / 4) * share + (1 / 4) * (1 - share)), abs=1e-5)
    assert boosts[17] == 0.0  # the chair: neither of its classes was voted


def test_a_page_names_the_classes_holding_a_tenth_of_the_votes():
    focus = ClassFocus(weight=0.5, patents=["A"], classes=[
        FocusClass("us_class_main", "D14", 1.0), FocusClass("locarno_class", "14-02", 0.85),
        FocusClass("locarno_class", "14-03", 0.08), FocusClass("locarno_class", "06-01", 0.07)])
    assert [c.label for c in focus.shown()] == ["D14", "14-02"] and focus.hidden() == 2
    assert focus.voted() == {"us_class_main": {"D14"}, "locarno_class": {"14-02"}}


def test_each_patent_votes_once_in_the_order_of_its_best_figure():
    fused = [(1, 0.9, {}), (4, 0.85, {}), (3, 0.8, {}), (2, 0.7, {})]  # A twice, then C, then B
    _, focus = apply_class_focus(fused, weight=0.5, patents=2, classes=CLASSES)
    assert focus is not None and focus.patents == ["A", "C"]


def test_off_when_the_weight_is_zero_or_no_voter_has_a_class():
    unchanged = [(f, s, r, 0.0) for f, s, r in FUSED]
    assert apply_class_focus(FUSED, weight=0.0, patents=3, classes=CLASSES) == (unchanged, None)
    unclassed = {f: FigureClasses(c.patent_id, "", "") for f, c in CLASSES.items()}
    assert apply_class_focus(FUSED, weight=0.5, patents=3, classes=unclassed) == (unchanged, None)
    assert apply_class_focus([], weight=0.5, patents=3, classes=CLASSES) == ([], None)


def test_the_weight_is_in_units_of_the_lists_score_range(settings):
    """Cosine scores and RRF sums differ by orders of magnitude: the same weight must move the
    same figures whatever the scale."""
    settings.RETRIEVAL_FUSION_DEPTH = 100
    small = [(f, s / 100, r) for f, s, r in FUSED]
    order = [f for f, *_ in apply_class_focus(FUSED, weight=0.5, patents=3, classes=CLASSES)[0]]
    assert [f for f, *_ in apply_class_focus(small, weight=0.5, patents=3, classes=CLASSES)[0]] == order


def test_an_unclassed_copy_of_the_best_hit_stays_above_the_voted_class():
    classes = {**CLASSES, 7: FigureClasses("COPY", "", "")}
    fused = [(1, 0.95, {}), (7, 0.95, {}), (2, 0.80, {}), (3, 0.60, {}), (5, 0.50, {})]
    focused, _ = apply_class_focus(fused, weight=0.5, patents=3, classes=classes)
    assert [f for f, *_ in focused][:3] == [1, 7, 2]


def test_a_weak_weight_moves_only_near_ties():
    focused, _ = apply_class_focus(FUSED, weight=0.05, patents=3, classes=CLASSES)
    # 3 (0.78, the other class) and 2 (0.80) are near each other; 5 (0.50) stays last
    assert [f for f, *_ in focused][-1] == 5 and [f for f, *_ in focused][:2] == [1, 2]


def test_the_settings_give_the_default_weight(settings):
    settings.RETRIEVAL_CLASS_FOCUS_WEIGHT = 0.0
    assert apply_class_focus(FUSED, classes=CLASSES)[1] is None
    settings.RETRIEVAL_CLASS_FOCUS_WEIGHT, settings.RETRIEVAL_CLASS_FOCUS_PATENTS = 0.5, 1
    focus = apply_class_focus(FUSED, classes=CLASSES)[1]
    assert focus is not None and focus.patents == ["A"] and focus.classes[0].share == 1.0


def test_the_summary_names_every_voted_class_with_its_share():
    focus = ClassFocus(weight=0.5, patents=["USD1", "USD2"], classes=[
        FocusClass("us_class_main", "D14", 0.5455), FocusClass("locarno_class", "14-02", 0.4),
        FocusClass("locarno_class", "14-04", 0.06)])
    assert focus.summary() == "D14 55%, 14-02 40%, 14-04 6%"


def test_equal_scores_keep_the_fused_order_whose_ties_the_drawing_broke():
    """fuse() orders equal scores by the drawing's rank, then by id; the focus must not undo
    that by sorting equal scores by figure id (figure 9, the drawing's first, stays ahead of 2)."""
    classes = {9: FigureClasses("P", "D21", "21-01"), 2: FigureClasses("Q", "D21", "21-01"),
               5: FigureClasses("R", "D21", "21-01")}
    fused = [(9, 0.8, {"image": 1, "text": 2}), (2, 0.8, {"image": 2, "text": 1}), (5, 0.4, {"image": 3})]
    focused, focus = apply_class_focus(fused, weight=0.5, patents=3, classes=classes)
    assert focus is not None
    assert [f for f, *_ in focused] == [9, 2, 5]
