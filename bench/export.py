"""Exporting and importing a 10,000-unit taxonomy: time and peak memory (issue 6, acceptance 5).

A project studies one network (InceptionV1's twelve main layers, widths scaled to 10,000
units); its taxonomy has a root group per layer with seven layer-scoped subgroups (96 groups),
every unit in one of them, and 200 hypotheses of three units with a review each; seeded with
``bulk_create``. Measured, each against a baseline in the same run:

- export (JSON, CSV, HTML) through ``taxonomy_export``, consuming every chunk; baseline: the
  same JSON units written by a naive exporter (ORM objects, related rows fetched one by one);
- import of the JSON and the CSV export into a new, empty project on the same network through
  ``taxonomy_import``, and the same JSON again (nothing to change); baseline: the groups made
  with ``group_create`` and the units filed with ``assignments_apply`` (the bulk path behind
  ``POST assignments/``, at most 5,000 units per call), also into a new project;
- peak Python heap (tracemalloc) of one export of each format and one JSON import, in a
  separate pass, since tracing slows the code it watches.

Targets: export ≤ 1 s, import ≤ 5 s (PostgreSQL). Exits 1 when an import does not reproduce
the taxonomy exactly; missed targets are reported, not failed. See bench/EXPORT.md.
"""

import argparse
import gc
import json
import random
import shutil
import sys
import time
import tracemalloc

import measure

UNITS = 10_000
QUICK_UNITS = 2_000
SUBGROUPS = 7
HYPOTHESES = 200
INCEPTION_V1 = (
    ("conv2d0", 64), ("conv2d1", 64), ("conv2d2", 192), ("mixed3a", 256), ("mixed3b", 480),
    ("mixed4a", 508), ("mixed4b", 512), ("mixed4c", 512), ("mixed4d", 528), ("mixed4e", 832),
    ("mixed5a", 832), ("mixed5b", 1024),
)  # fmt: skip
TARGET_EXPORT_SECONDS = 1.0
TARGET_IMPORT_SECONDS = 5.0


def layer_widths(total_units):
    """InceptionV1's widths scaled so that they add up to ``total_units``."""
    scale = total_units / sum(width for _, width in INCEPTION_V1)
    widths = [max(1, round(width * scale)) for _, width in INCEPTION_V1]
    widths[-1] += total_units - sum(widths)
    return widths


def seed(total_units):
    from django.contrib.auth import get_user_model

    from annotations.models import (
        Assignment,
        Group,
        Hypothesis,
        HypothesisUnit,
        Membership,
        Project,
        ProjectNetwork,
        Review,
        Role,
    )
    from workers.models import Layer, Network, Unit

    rng = random.Random(0)
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"researcher{n}") for n in range(6)
    )
    owner = users[0]
    network = Network.objects.create(
        name="bench-inception", source="builtin", arch="inception_v1", random_seed=0
    )
    layers = Layer.objects.bulk_create(
        Layer(network=network, name=name, kind="conv", order=order, channels=width, height=14,
              width=14)
        for order, ((name, _), width) in enumerate(
            zip(INCEPTION_V1, layer_widths(total_units), strict=True)
        )
    )  # fmt: skip
    Unit.objects.bulk_create(
        (Unit(network=network, layer=layer, index=i)
         for layer in layers for i in range(layer.channels)),
        batch_size=5000,
    )  # fmt: skip
    project = Project.objects.create(slug="bench", name="Bench", created_by=owner)
    ProjectNetwork.objects.create(project=project, network=network)
    Membership.objects.bulk_create(
        Membership(project=project, user=user, role=Role.OWNER if user == owner else Role.REVIEWER)
        for user in users
    )
    roots = Group.objects.bulk_create(
        Group(project=project, name=f"{layer.name} families", order=layer.order) for layer in layers
    )
    subgroups = {}
    for layer, root in zip(layers, roots, strict=True):
        subgroups[layer.pk] = Group.objects.bulk_create(
            Group(project=project, parent=root, layer=layer, name=f"{layer.name} family {k}",
                  description=f"Family {k} of {layer.name}.", color=f"#{k * 30:02x}8844", order=k)
            for k in range(SUBGROUPS)
        )  # fmt: skip
    units = list(Unit.objects.filter(network=network).order_by("layer__order", "index"))
    Assignment.objects.bulk_create(
        (
            Assignment(project=project, unit=unit,
                       group=subgroups[unit.layer_id][rng.randrange(SUBGROUPS)],
                       source="direct", assigned_by=rng.choice(users), note="")
            for unit in units
        ),
        batch_size=5000,
    )  # fmt: skip
    hypotheses = Hypothesis.objects.bulk_create(
        Hypothesis(project=project, network=network, author=rng.choice(users[1:]),
                   title=f"Hypothesis {n}", text="They look alike.",
                   status=rng.choice(["open", "accepted", "rejected"]))
        for n in range(HYPOTHESES)
    )  # fmt: skip
    rows, reviews = [], []
    for hypothesis in hypotheses:
        start = rng.randrange(len(units) - 3)
        rows += [
            HypothesisUnit(hypothesis=hypothesis, unit=unit) for unit in units[start : start + 3]
        ]
        reviews.append(Review(hypothesis=hypothesis, reviewer=owner, verdict="approve", version=1))
    HypothesisUnit.objects.bulk_create(rows, batch_size=5000)
    Review.objects.bulk_create(reviews)
    return {"project": project, "network": network, "owner": owner, "users": users}


def new_project(seeded, slug):
    """An empty project with the seeded project's team: an import credits people only when
    they are members (README, "Exports, imports and releases")."""
    from annotations.models import Membership, Project, ProjectNetwork

    project = Project.objects.create(slug=slug, name=slug)
    ProjectNetwork.objects.create(project=project, network=seeded["network"])
    Membership.objects.bulk_create(
        Membership(project=project, user_id=member.user_id, role=member.role)
        for member in Membership.objects.filter(project=seeded["project"])
    )
    return project


def export_bytes(seeded, format, project=None):
    """Run one export to the end, as a download would; returns (bytes written, document)."""
    from annotations.services.exports import taxonomy_export

    export = taxonomy_export(
        project=project or seeded["project"],
        network=seeded["network"],
        actor=seeded["owner"],
        format=format,
    )
    size = 0
    for chunk in export.chunks:
        size += len(chunk.encode())
    return size


def export_text(seeded, format, project=None):
    from annotations.services.exports import taxonomy_export

    export = taxonomy_export(
        project=project or seeded["project"],
        network=seeded["network"],
        actor=seeded["owner"],
        format=format,
    )
    return "".join(export.chunks)


def naive_export(seeded):
    """The baseline exporter: model instances, each related row fetched when first touched."""
    from annotations.models import Assignment

    units = []
    for row in Assignment.objects.filter(project=seeded["project"]).order_by("unit_id"):
        units.append(
            {
                "layer": row.unit.layer.name,
                "unit": row.unit.index,
                "group": row.group.pk,
                "note": row.note,
                "assigned_by": row.assigned_by.username if row.assigned_by else None,
                "assigned_at": row.assigned_at.isoformat(),
            }
        )
    return len(json.dumps({"units": units}).encode())


def import_into(seeded, project, format, content):
    from annotations.services.imports import taxonomy_import

    return taxonomy_import(
        project=project, network=seeded["network"], actor=seeded["owner"], format=format,
        content=content,
    )  # fmt: skip


def baseline_import(seeded, project, document):
    """The groups through ``group_create`` and the units through ``assignments_apply``."""
    from annotations.services.assignments import MAX_UNITS_PER_REQUEST, assignments_apply
    from annotations.services.groups import group_create
    from workers.models import Layer, Unit

    layers = {layer.name: layer for layer in Layer.objects.filter(network=seeded["network"])}
    groups = {}
    for group in document["groups"]:
        groups[group["id"]] = group_create(
            project=project, actor=seeded["owner"], name=group["name"],
            parent=groups.get(group["parent"]), description=group["description"],
            color=group["color"], order=group["order"], layer=layers.get(group["layer"]),
        )  # fmt: skip
    units = {
        (unit.layer.name, unit.index): unit
        for unit in Unit.objects.filter(network=seeded["network"]).select_related("layer")
    }
    changes = [
        (units[(row["layer"], row["unit"])], groups[row["group"]]) for row in document["units"]
    ]
    for start in range(0, len(changes), MAX_UNITS_PER_REQUEST):
        assignments_apply(
            project=project, changes=changes[start : start + MAX_UNITS_PER_REQUEST],
            actor=seeded["owner"],
        )  # fmt: skip


def comparable(document):
    """The document without ids and timestamps (see README, "Exports, imports and releases")."""
    paths = {group["id"]: group["path"] for group in document["groups"]}
    return {
        "groups": [
            {k: v for k, v in group.items() if k not in ("id", "parent")}
            for group in document["groups"]
        ],
        "units": [
            {**{k: v for k, v in unit.items() if k != "assigned_at"}, "group": paths[unit["group"]]}
            for unit in document["units"]
        ],
        "hypotheses": [
            {k: v for k, v in h.items() if k not in ("id", "created_at", "accepted_at")}
            | {"reviews": [{k: v for k, v in r.items() if k != "created_at"} for r in h["reviews"]]}
            for h in document["hypotheses"]
        ],
    }


def timed(repeats, action, prepare=None):
    samples = []
    for _ in range(repeats):
        argument = prepare() if prepare else None
        gc.collect()
        started = time.perf_counter()
        action(argument)
        samples.append(time.perf_counter() - started)
    return samples


def peak_heap_mb(action):
    gc.collect()
    tracemalloc.start()
    try:
        action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return round(peak / 2**20, 2)


def run(total_units, repeats):
    from django.db import connection

    measure.log(f"export: seeding {total_units} units")
    started = time.perf_counter()
    seeded = seed(total_units)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    seed_seconds = round(time.perf_counter() - started, 2)
    source_json = export_text(seeded, "json")
    source_csv = export_text(seeded, "csv")
    document = json.loads(source_json)
    measure.log(f"export: seeded in {seed_seconds} s; exporting")

    exports = {
        format: timed(repeats, lambda _, format=format: export_bytes(seeded, format))
        for format in ("json", "csv", "html")
    }
    # One related row per query makes the naive exporter slow: it runs fewer times.
    naive = timed(max(1, repeats // 3), lambda _: naive_export(seeded))

    measure.log("export: importing")
    counter = iter(range(10_000))

    def fresh(_=None):
        return new_project(seeded, f"copy-{next(counter)}")

    imports = {
        format: timed(
            repeats, lambda project, format=format, content=content: import_into(
                seeded, project, format, content), fresh,
        )
        for format, content in (("json", source_json), ("csv", source_csv))
    }  # fmt: skip
    again = fresh()
    import_into(seeded, again, "json", source_json)
    imports["json_again"] = timed(
        repeats, lambda _: import_into(seeded, again, "json", source_json)
    )
    baseline = timed(repeats, lambda project: baseline_import(seeded, project, document), fresh)

    problems = []
    copy = fresh()
    report = import_into(seeded, copy, "json", source_json)
    if comparable(json.loads(export_text(seeded, "json", copy))) != comparable(document):
        problems.append("the JSON import did not reproduce the exported document")
    csv_copy = fresh()
    import_into(seeded, csv_copy, "csv", source_csv)
    exported_csv = export_text(seeded, "csv", csv_copy).splitlines()
    if [line.rsplit(",", 1)[0] for line in exported_csv] != [
        line.rsplit(",", 1)[0].replace(",under_review,", ",labelled,")
        for line in source_csv.splitlines()
    ]:
        problems.append("the CSV import did not reproduce the exported CSV")
    if report["units_assigned"] != total_units:
        problems.append(f"the import assigned {report['units_assigned']} units, not {total_units}")

    measure.log("export: peak memory (tracemalloc)")
    memory = {
        f"export_{format}": peak_heap_mb(lambda format=format: export_bytes(seeded, format))
        for format in ("json", "csv", "html")
    }
    memory["naive_export_json"] = peak_heap_mb(lambda: naive_export(seeded))
    memory_project = fresh()
    memory["import_json"] = peak_heap_mb(
        lambda: import_into(seeded, memory_project, "json", source_json)
    )

    export_medians = {format: measure.median(samples) for format, samples in exports.items()}
    import_medians = {label: measure.median(samples) for label, samples in imports.items()}
    return {
        "name": "taxonomy_export_import",
        "measured": "taxonomy_export (every chunk consumed) and taxonomy_import into an empty "
        "project, in process",
        "units": "seconds; MiB of peak Python heap",
        "seed": {
            "units": total_units,
            "groups": len(document["groups"]),
            "assigned_units": len(document["units"]),
            "hypotheses": len(document["hypotheses"]),
            "json_bytes": len(source_json.encode()),
            "csv_bytes": len(source_csv.encode()),
            "seconds": seed_seconds,
        },
        "baseline": {
            "export": {"label": "naive ORM export of the units to JSON", **measure.summary(naive)},
            "import": {
                "label": "group_create per group + assignments_apply per 5,000 units",
                **measure.summary(baseline),
            },
        },
        "candidate": {
            "export": {format: measure.summary(samples) for format, samples in exports.items()},
            "import": {label: measure.summary(samples) for label, samples in imports.items()},
        },
        "ratio": {
            "export_json": measure.ratio(measure.median(naive), export_medians["json"]),
            "import_json": measure.ratio(measure.median(baseline), import_medians["json"]),
        },
        "ratio_meaning": measure.RATIO_MEANING,
        "peak_python_heap_mib": memory,
        "targets": {
            "export_seconds": TARGET_EXPORT_SECONDS,
            "import_seconds": TARGET_IMPORT_SECONDS,
            "export_met": {
                format: median <= TARGET_EXPORT_SECONDS for format, median in export_medians.items()
            },
            "import_met": {
                label: median <= TARGET_IMPORT_SECONDS for label, median in import_medians.items()
            },
        },
        "problems": problems,
        "repeats": repeats,
        "machine": measure.machine_facts(database=measure.database_facts()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs of each measurement (5)")
    parser.add_argument("--quick", action="store_true", help="2,000 units, 2 runs: a smoke test")
    args = parser.parse_args(argv)
    total_units = QUICK_UNITS if args.quick else UNITS
    repeats = 2 if args.quick else args.repeats
    if repeats < 1:
        parser.error("--repeats must be at least 1")
    var_dir = measure.setup_django()
    try:
        with measure.throwaway_database():
            result = run(total_units, repeats)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    measure.emit(result)
    for problem in result["problems"]:
        measure.log(f"export: {problem}")
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
