"""Inter-annotator agreement of a labelling round: kappas, alpha, agreement and matrices.

Pure NumPy, on purpose: each statistic is a few lines over a count table, and the web process
that closes a round stays light (scikit-learn would bring SciPy into every web worker for one
function; ``krippendorff`` and ``statsmodels`` would be new dependencies for the same few
lines). The tests check every statistic against the published worked examples and against
scikit-learn's ``cohen_kappa_score``.

Tables:
- ``counts``: one row per unit, one column per category, how many annotators chose the
  category for the unit (rows may sum differently where labels are missing).
- a statistic that is undefined for its table (a kappa where chance agreement is 1, because
  everyone always chose one category) is ``None``, never NaN: summaries are stored as JSON.
"""

from typing import NamedTuple

import numpy as np


class FleissKappa(NamedTuple):
    """Fleiss' kappa over all categories, and per category (Fleiss 1971, eq. 9 and 11)."""

    kappa: float | None
    per_category: list[float | None]
    observed: float
    expected: float


def _ratio_or_none(numerator, denominator):
    if denominator == 0:
        return None
    return float(numerator / denominator)


def cohen_kappa(table):
    """Cohen's kappa of a two-annotator contingency table (rows: the first annotator's
    category, columns: the second's)."""
    table = np.asarray(table, dtype=float)
    total = table.sum()
    observed = np.trace(table) / total
    expected = float(table.sum(axis=1) @ table.sum(axis=0)) / total**2
    return _ratio_or_none(observed - expected, 1 - expected)


def fleiss_kappa(counts):
    """Fleiss' kappa of ``counts`` where every unit has the same number (>= 2) of labels."""
    counts = np.asarray(counts, dtype=float)
    units, _ = counts.shape
    raters = counts[0].sum()
    if not np.all(counts.sum(axis=1) == raters) or raters < 2:
        raise ValueError("Fleiss' kappa needs the same number (>= 2) of labels on every unit.")
    proportions = counts.sum(axis=0) / (units * raters)
    per_unit = ((counts * (counts - 1)).sum(axis=1)) / (raters * (raters - 1))
    observed = float(per_unit.mean())
    expected = float((proportions**2).sum())
    spread = proportions * (1 - proportions)
    disagreement = (counts * (raters - counts)).sum(axis=0)
    scale = units * raters * (raters - 1)
    per_category = [
        None if spread[j] == 0 else float(1 - disagreement[j] / (scale * spread[j]))
        for j in range(len(proportions))
    ]
    return FleissKappa(
        kappa=_ratio_or_none(observed - expected, 1 - expected),
        per_category=per_category,
        observed=observed,
        expected=expected,
    )


def coincidence_matrix(counts):
    """Krippendorff's coincidence matrix: ``o[c][k]``, the pairable values c-k within units,
    each unit weighted by 1 / (its labels - 1); units with fewer than two labels drop out."""
    counts = np.asarray(counts, dtype=float)
    labels = counts.sum(axis=1)
    pairable = counts[labels >= 2]
    weights = 1 / (pairable.sum(axis=1) - 1)
    pairs = np.einsum("u,uc,uk->ck", weights, pairable, pairable)
    return pairs - np.diag((pairable * weights[:, None]).sum(axis=0))


def krippendorff_alpha_nominal(counts):
    """Krippendorff's alpha for nominal data, missing labels allowed (Krippendorff 2011,
    "Computing Krippendorff's Alpha-Reliability", section C)."""
    coincidences = coincidence_matrix(counts)
    per_value = coincidences.sum(axis=1)
    total = per_value.sum()
    if total < 2:
        return None
    observed = coincidences.sum() - np.trace(coincidences)
    expected = (total**2 - (per_value**2).sum()) / (total - 1)
    if expected == 0:
        return None
    return float(1 - observed / expected)


def percent_agreement(counts):
    """The share of units with two or more labels on which every label is the same."""
    counts = np.asarray(counts, dtype=float)
    labels = counts.sum(axis=1)
    pairable = counts[labels >= 2]
    if len(pairable) == 0:
        return None
    return float((pairable.max(axis=1) == pairable.sum(axis=1)).mean())


def confusion_matrix(first, second, categories):
    """Rows: ``first``'s categories, columns: ``second``'s, over paired lists of choices."""
    position = {category: index for index, category in enumerate(categories)}
    table = np.zeros((len(categories), len(categories)), dtype=int)
    for one, other in zip(first, second, strict=True):
        table[position[one], position[other]] += 1
    return table


def round_agreement(*, annotators, categories, labels):
    """The agreement summary of a round: ``labels`` is ``{unit: {annotator: category}}``
    (a unit an annotator did not label is missing from its dict).

    Over units labelled by every annotator ("complete"): Cohen's kappa with the confusion
    matrix (two annotators), Fleiss' kappa overall and per category (any number, for two it is
    Scott's pi). Over every unit with two or more labels: Krippendorff's alpha (nominal), raw
    agreement (share of units whose labels all agree), the coincidence matrix, and the labels
    per category.
    """
    position = {category: index for index, category in enumerate(categories)}
    units = list(labels)
    counts = np.zeros((len(units), len(categories)), dtype=int)
    for row, unit in enumerate(units):
        for category in labels[unit].values():
            counts[row, position[category]] += 1
    complete_rows = [row for row, unit in enumerate(units) if len(labels[unit]) == len(annotators)]
    complete = counts[complete_rows]
    fleiss = fleiss_kappa(complete) if len(complete) and len(annotators) >= 2 else None
    confusion = None
    cohen = None
    if len(annotators) == 2 and len(complete):
        first, second = annotators
        complete_units = [units[row] for row in complete_rows]
        table = confusion_matrix(
            [labels[unit][first] for unit in complete_units],
            [labels[unit][second] for unit in complete_units],
            categories,
        )
        confusion = table.tolist()
        cohen = cohen_kappa(table)
    pairable = counts.sum(axis=1) >= 2
    agreed = pairable & (counts.max(axis=1) == counts.sum(axis=1))
    return {
        "annotators": list(annotators),
        "categories": list(categories),
        "units": len(units),
        "units_complete": len(complete_rows),
        "units_agreed": int(agreed.sum()),
        "units_disagreed": int((pairable & ~agreed).sum()),
        "percent_agreement": percent_agreement(counts),
        "cohen_kappa": cohen,
        "fleiss_kappa": fleiss.kappa if fleiss else None,
        "krippendorff_alpha": krippendorff_alpha_nominal(counts),
        "confusion_matrix": confusion,
        "coincidence_matrix": np.round(coincidence_matrix(counts), 6).tolist(),
        "per_category": [
            {
                "category": category,
                "labels": int(counts[:, index].sum()),
                "fleiss_kappa": fleiss.per_category[index] if fleiss else None,
            }
            for index, category in enumerate(categories)
        ],
    }
