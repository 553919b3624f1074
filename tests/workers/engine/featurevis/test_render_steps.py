"""A render reports every optimisation step of each batch, with the units of that batch."""

from workers.engine.featurevis.render import render_units


def test_each_step_of_each_batch_is_reported_with_its_units(tiny_network):
    seen = []

    render_units(
        tiny_network,
        "second",
        [4, 1, 2],
        steps=3,
        size=12,
        batch_size=2,
        on_step=lambda step, steps, units: seen.append((step, steps, units)),
    )

    assert seen == [
        (1, 3, [4, 1]),
        (2, 3, [4, 1]),
        (3, 3, [4, 1]),
        (1, 3, [2]),
        (2, 3, [2]),
        (3, 3, [2]),
    ]


def test_diversity_reports_each_unit_once_per_step(tiny_network):
    seen = []

    render_units(
        tiny_network,
        "second",
        [0, 3],
        objective="diversity",
        diversity=2,
        steps=2,
        size=12,
        on_step=lambda step, steps, units: seen.append((step, units)),
    )

    assert seen == [(1, [0, 3]), (2, [0, 3])]
