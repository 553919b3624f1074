"""Agreement statistics against published worked examples (hand-computed small tables)."""

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from annotations.formats.agreement import (
    cohen_kappa,
    coincidence_matrix,
    confusion_matrix,
    fleiss_kappa,
    krippendorff_alpha_nominal,
    percent_agreement,
    round_agreement,
)

# Fleiss (1971) as worked on Wikipedia's "Fleiss' kappa" page: 10 subjects, 14 raters each,
# 5 categories; p_j = .143 .200 .279 .150 .229, P-bar = .378, P-bar_e = .213, kappa = .210.
FLEISS_WIKIPEDIA = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", C: nominal data, four
# observers, twelve units, missing values (None); alpha = 0.743.
KRIPPENDORFF_OBSERVERS = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def _counts(observers, values):
    return [
        [sum(1 for observer in observers if observer[unit] == value) for value in values]
        for unit in range(len(observers[0]))
    ]


def test_cohen_kappa_of_the_textbook_yes_no_table_is_0_4():
    # 50 items: both yes 20, first yes second no 5, first no second yes 10, both no 15.
    assert cohen_kappa([[20, 5], [10, 15]]) == pytest.approx(0.4)


def test_cohen_kappa_matches_scikit_learn_on_three_categories():
    first = list("aabbccabcabcaacb")
    second = list("abbbcaabcabbcacb")
    table = confusion_matrix(first, second, ["a", "b", "c"])

    assert cohen_kappa(table) == pytest.approx(cohen_kappa_score(first, second))


def test_cohen_kappa_is_undefined_when_both_always_chose_one_category():
    assert cohen_kappa([[7, 0], [0, 0]]) is None


def test_confusion_matrix_rows_are_the_first_annotators_choices():
    table = confusion_matrix(["x", "x", "y"], ["x", "y", "y"], ["x", "y"])

    assert table.tolist() == [[1, 1], [0, 1]]


def test_fleiss_kappa_of_the_wikipedia_worked_example_is_0_210():
    result = fleiss_kappa(FLEISS_WIKIPEDIA)

    assert round(result.kappa, 3) == 0.210
    assert round(result.observed, 3) == 0.378
    assert round(result.expected, 3) == 0.213


def test_fleiss_per_category_kappas_weight_back_to_the_overall_kappa():
    # Fleiss (1971), eq. 12: kappa = sum_j p_j q_j kappa_j / sum_j p_j q_j.
    result = fleiss_kappa(FLEISS_WIKIPEDIA)
    proportions = np.asarray(FLEISS_WIKIPEDIA).sum(axis=0) / 140
    spread = proportions * (1 - proportions)

    assert np.dot(spread, result.per_category) / spread.sum() == pytest.approx(result.kappa)


def test_fleiss_per_category_kappa_of_a_hand_computed_table():
    # 3 units, 2 raters, categories (a, b): unit 1 a/a, unit 2 a/b, unit 3 b/b.
    # p_a = 3/6 = .5; kappa_a = 1 - sum n_ia (2 - n_ia) / (3 * 2 * 1 * .25) = 1 - 1/1.5 = 1/3.
    result = fleiss_kappa([[2, 0], [1, 1], [0, 2]])

    assert result.per_category == [pytest.approx(1 / 3), pytest.approx(1 / 3)]
    assert result.kappa == pytest.approx(1 / 3)


def test_fleiss_kappa_refuses_units_with_different_numbers_of_labels():
    with pytest.raises(ValueError):
        fleiss_kappa([[2, 0], [1, 0]])


def test_krippendorff_alpha_nominal_of_the_worked_example_with_missing_data_is_0_743():
    counts = _counts(KRIPPENDORFF_OBSERVERS, [1, 2, 3, 4, 5])

    assert round(krippendorff_alpha_nominal(counts), 3) == 0.743


def test_coincidence_matrix_of_the_worked_example_sums_to_the_pairable_values():
    # The worked example has 40 pairable values (unit 12's single value drops out); value 3
    # appears 10 times among them, and o_33 = 4 + 4 (units 3 and 4: four 3s each, 4*3/3 pairs).
    matrix = coincidence_matrix(_counts(KRIPPENDORFF_OBSERVERS, [1, 2, 3, 4, 5]))

    assert matrix.sum() == pytest.approx(40)
    assert matrix[2].sum() == pytest.approx(10)
    assert matrix[2, 2] == pytest.approx(8)


def test_percent_agreement_counts_units_whose_labels_all_agree():
    # Unit 3 has a single label and is not pairable.
    assert percent_agreement([[2, 0], [1, 1], [1, 0], [0, 3]]) == pytest.approx(2 / 3)


def test_round_agreement_of_two_annotators_with_a_missing_label():
    summary = round_agreement(
        annotators=["ada", "bob"],
        categories=["curves", "other"],
        labels={
            1: {"ada": "curves", "bob": "curves"},
            2: {"ada": "curves", "bob": "other"},
            3: {"ada": "other", "bob": "other"},
            4: {"ada": "other"},
        },
    )

    assert summary == {
        "annotators": ["ada", "bob"],
        "categories": ["curves", "other"],
        "units": 4,
        "units_complete": 3,
        "units_agreed": 2,
        "units_disagreed": 1,
        "percent_agreement": pytest.approx(2 / 3),
        "cohen_kappa": pytest.approx(cohen_kappa([[1, 1], [0, 1]])),
        "fleiss_kappa": pytest.approx(1 / 3),
        "krippendorff_alpha": pytest.approx(krippendorff_alpha_nominal([[2, 0], [1, 1], [0, 2]])),
        "confusion_matrix": [[1, 1], [0, 1]],
        "coincidence_matrix": [[2.0, 1.0], [1.0, 2.0]],
        "per_category": [
            {"category": "curves", "labels": 3, "fleiss_kappa": pytest.approx(1 / 3)},
            {"category": "other", "labels": 4, "fleiss_kappa": pytest.approx(1 / 3)},
        ],
    }


def test_round_agreement_of_three_annotators_has_no_cohen_kappa_or_confusion_matrix():
    summary = round_agreement(
        annotators=["ada", "bob", "cy"],
        categories=["curves", "other"],
        labels={1: {"ada": "curves", "bob": "curves", "cy": "other"}},
    )

    assert (summary["cohen_kappa"], summary["confusion_matrix"]) == (None, None)
