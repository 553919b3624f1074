"""The seed of ``bench/api.py``: a realistic project written with ``bulk_create``.

One network (InceptionV1's twelve main layers, their widths scaled to the units asked for), a
taxonomy of 84 layer-scoped groups, 60% of the units assigned, hypotheses with units, reviews
and proposals, comments in threads on units, hypotheses and groups, two renders per layer with
their artifacts, and an event per change; never through the API. See bench/API.md.
"""

import json
import math
import time
from datetime import timedelta

PROJECT = "bench"
NETWORK = "bench-inception"
# InceptionV1's main layers: width and spatial size; widths are scaled to the units asked for.
INCEPTION_V1 = (
    ("conv2d0", 64, 112),
    ("conv2d1", 64, 56),
    ("conv2d2", 192, 56),
    ("mixed3a", 256, 28),
    ("mixed3b", 480, 28),
    ("mixed4a", 508, 14),
    ("mixed4b", 512, 14),
    ("mixed4c", 512, 14),
    ("mixed4d", 528, 14),
    ("mixed4e", 832, 14),
    ("mixed5a", 832, 7),
    ("mixed5b", 1024, 7),
)
GRID_LAYER = "mixed4a"
GROUPS_PER_LAYER = 6
ASSIGNED_SHARE = 0.6
HYPOTHESIS_STATUSES = {"open": 0.3, "accepted": 0.5, "rejected": 0.1, "withdrawn": 0.1}
COMMENT_TARGETS = {"unit": 0.7, "hypothesis": 0.2, "group": 0.1}
THREAD_ROOT_SHARE = 0.35
REVIEWERS, ANNOTATORS = 5, 20
CIRCUITS, CIRCUIT_UNITS_PER_LAYER, CIRCUIT_LAYERS = 20, 4, 3
# The measuring reviewer's notifications (mentions, reviews, replies); a fifth unread.
NOTIFICATIONS, UNREAD_SHARE = 2_000, 0.2
FULL = {"units": 10_000, "comments": 100_000, "hypotheses": 5_000}
QUICK = {"units": 2_000, "comments": 10_000, "hypotheses": 500}
BATCH = 5_000


def layer_widths(total_units):
    """InceptionV1's widths scaled so that they add up to ``total_units``."""
    scale = total_units / sum(width for _, width, _ in INCEPTION_V1)
    widths = [max(1, round(width * scale)) for _, width, _ in INCEPTION_V1]
    widths[-1] += total_units - sum(widths)
    return widths


def sprite_index(job, units, tile=64, gap=1):
    """The index a render writes beside a layer's sprite sheet (the layout of
    ``workers.engine.images.sprite_sheet``, plus what ``add_layer_sprite`` adds to it)."""
    columns = math.ceil(math.sqrt(len(units)))
    rows = math.ceil(len(units) / columns)
    return {
        "tile_width": tile,
        "tile_height": tile,
        "columns": columns,
        "rows": rows,
        "gap": gap,
        "width": columns * (tile + gap) - gap,
        "height": rows * (tile + gap) - gap,
        "units": [
            {"index": unit.index, "x": column * (tile + gap), "y": row * (tile + gap)}
            for position, unit in enumerate(units)
            for row, column in [divmod(position, columns)]
        ],
        "layer": units[0].layer.name,
        "network": NETWORK,
        "kind": job.kind,
    }


def label(unit):
    return f"{unit.layer.name}:{unit.index}"


def _bulk(model, rows):
    return model.objects.bulk_create(rows, batch_size=BATCH)


def analyze():
    """Refresh the planner's statistics, as autovacuum does some time after a bulk load.

    Without it PostgreSQL plans the grid for the empty tables it last saw: on this seed a page
    took seconds instead of milliseconds (bench/API.md has the figure)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


class Seed:
    """Builds the project; keeps what the measurements need (ids, the reviewer's token)."""

    def __init__(self, sizes, rng):
        self.sizes = sizes
        self.rng = rng
        self.counts = {}

    def run(self):
        started = time.perf_counter()
        self.people()
        self.catalog()
        self.renders()
        self.taxonomy()
        self.hypotheses()
        self.comments()
        self.circuits()
        self.notifications()
        self.unit_counts()
        self.counts["seconds"] = round(time.perf_counter() - started, 1)
        analyze()
        return self

    def unit_counts(self):
        """The grid's per-unit counts, which the services keep as they write and a bulk load
        must rebuild (bulk_create goes around the services)."""
        from annotations.services.unit_counts import unit_counts_rebuild

        unit_counts_rebuild(project_id=self.project.pk)

    def people(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.hashers import make_password

        from annotations.models import Membership, Project, Role
        from annotations.services.tokens import token_create

        user_model = get_user_model()
        names = ["bench-owner"] + [f"bench-reviewer-{n}" for n in range(REVIEWERS)]
        names += [f"bench-annotator-{n}" for n in range(ANNOTATORS)]
        users = _bulk(
            user_model, [user_model(username=name, password=make_password(None)) for name in names]
        )
        self.owner, self.reviewers = users[0], users[1 : 1 + REVIEWERS]
        self.annotators = users[1 + REVIEWERS :]
        self.project = Project.objects.create(slug=PROJECT, name="Benchmark", created_by=self.owner)
        roles = [Role.OWNER] + [Role.REVIEWER] * REVIEWERS + [Role.ANNOTATOR] * ANNOTATORS
        _bulk(
            Membership,
            [
                Membership(project=self.project, user=u, role=r)
                for u, r in zip(users, roles, strict=True)
            ],
        )
        # The one who measures: a reviewer, so the review queue has something to show.
        self.token = token_create(actor=self.reviewers[0], name="bench").secret

    def catalog(self):
        from annotations.models import ProjectNetwork
        from workers.models import Layer, Network, Unit

        self.network = Network.objects.create(
            name=NETWORK, source=Network.Source.BUILTIN, arch="inception_v1", random_seed=0
        )
        ProjectNetwork.objects.create(project=self.project, network=self.network)
        widths = layer_widths(self.sizes["units"])
        self.layers = _bulk(
            Layer,
            [
                Layer(
                    network=self.network,
                    name=name,
                    kind="conv",
                    order=order,
                    channels=width,
                    height=size,
                    width=size,
                    receptive_field=3 + 16 * order,
                    stride=224 // size,
                )
                for order, ((name, _, size), width) in enumerate(
                    zip(INCEPTION_V1, widths, strict=True)
                )
            ],
        )
        self.units = _bulk(
            Unit,
            [
                Unit(network=self.network, layer=layer, index=index)
                for layer in self.layers
                for index in range(layer.channels)
            ],
        )
        self.units_by_layer = {layer.pk: [] for layer in self.layers}
        for unit in self.units:
            self.units_by_layer[unit.layer_id].append(unit)
        self.counts["layers"] = {layer.name: layer.channels for layer in self.layers}
        self.counts["units"] = len(self.units)

    def renders(self):
        """Per layer, a feature visualization and a dataset-examples job, each with a sprite
        sheet and its index, and an image per unit and variant."""
        from django.core.files.base import ContentFile
        from django.core.files.storage import default_storage

        from workers.models import Artifact, Job

        variants = {"feature_visualization": ("positive", "negative"), "dataset_examples": ("top",)}
        jobs = _bulk(
            Job,
            [
                Job(
                    kind=kind,
                    network=self.network,
                    layer=layer,
                    params={"bench": True},
                    params_hash="0" * 64,
                    request_hash=f"{number:064x}",
                    status=Job.Status.SUCCEEDED,
                    progress=1.0,
                    created_by=self.owner,
                )
                for number, (layer, kind) in enumerate(
                    (layer, kind) for layer in self.layers for kind in variants
                )
            ],
        )

        def artifact(job, kind, variant, unit=None):
            name = f"bench/{job.pk}/{unit.index if unit else 'layer'}-{variant}.png"
            return Artifact(
                job=job,
                network=self.network,
                layer_id=job.layer_id,
                unit=unit,
                kind=kind,
                variant=variant,
                file=name,
                content_type="image/png",
                size_bytes=20_000,
                sha256="0" * 64,
                params=job.params,
                code_version="bench",
            )

        rows = []
        for job in jobs:
            rows.append(artifact(job, Artifact.Kind.LAYER_SPRITE, ""))
            index = artifact(job, Artifact.Kind.LAYER_INDEX, "")
            # The grid reads the index (its layout goes inline); the images are never read.
            layout = sprite_index(job, self.units_by_layer[job.layer_id])
            index.file = default_storage.save(
                f"bench/{job.pk}/sprite.json", ContentFile(json.dumps(layout).encode())
            )
            rows.append(index)
            for unit in self.units_by_layer[job.layer_id]:
                rows += [
                    artifact(job, Artifact.Kind.UNIT_IMAGE, v, unit) for v in variants[job.kind]
                ]
        self.counts["jobs"] = len(jobs)
        self.counts["artifacts"] = len(_bulk(Artifact, rows))

    def taxonomy(self):
        from annotations.models import Assignment, Group

        roots = _bulk(
            Group,
            [
                Group(project=self.project, name=layer.name, layer=layer, created_by=self.owner)
                for layer in self.layers
            ],
        )
        children = _bulk(
            Group,
            [
                Group(
                    project=self.project,
                    parent=root,
                    name=f"{root.name} family {n}",
                    color=f"#{self.rng.randrange(0x1000000):06x}",
                    order=n,
                    layer_id=root.layer_id,
                    created_by=self.rng.choice(self.reviewers),
                )
                for root in roots
                for n in range(GROUPS_PER_LAYER)
            ],
        )
        self.groups = roots + children
        self.groups_by_layer = {layer.pk: [] for layer in self.layers}
        for group in children:
            self.groups_by_layer[group.layer_id].append(group)
        assigned = self.rng.sample(self.units, round(len(self.units) * ASSIGNED_SHARE))
        assignments = _bulk(
            Assignment,
            [
                Assignment(
                    project=self.project,
                    unit=unit,
                    group=self.rng.choice(self.groups_by_layer[unit.layer_id]),
                    assigned_by=self.rng.choice(self.annotators),
                )
                for unit in assigned
            ],
        )
        self.group_of = {a.unit_id: a.group_id for a in assignments}
        self.events(
            [
                self.event(group.created_by, "group.created", "group", group.pk, group.name)
                for group in self.groups
            ]
            + [
                self.event(a.assigned_by, "unit.assigned", "unit", a.unit_id, label(a.unit))
                for a in assignments
            ]
        )
        self.counts["groups"] = len(self.groups)
        self.counts["assignments"] = len(assignments)

    def hypotheses(self):
        from annotations.models import Hypothesis, HypothesisUnit, Review

        statuses = self.rng.choices(
            list(HYPOTHESIS_STATUSES),
            weights=HYPOTHESIS_STATUSES.values(),
            k=self.sizes["hypotheses"],
        )
        layers = self.rng.choices(self.layers, k=len(statuses))
        hypotheses = _bulk(
            Hypothesis,
            [
                Hypothesis(
                    project=self.project,
                    network=self.network,
                    author=self.rng.choice(self.annotators),
                    title=f"{layer.name}: detectors {n}",
                    text="These units respond to the same feature; see the dataset examples.",
                    status=status,
                    proposed_group=self.rng.choice(self.groups_by_layer[layer.pk]),
                    evidence=[],
                )
                for n, (status, layer) in enumerate(zip(statuses, layers, strict=True))
            ],
        )
        hypothesis_units, reviews, events = [], [], []
        for hypothesis, layer in zip(hypotheses, layers, strict=True):
            members = self.units_by_layer[layer.pk]
            for unit in self.rng.sample(members, min(len(members), self.rng.randint(1, 12))):
                hypothesis_units.append(
                    HypothesisUnit(
                        hypothesis=hypothesis,
                        unit=unit,
                        expected_group_id=self.group_of.get(unit.pk),
                    )
                )
            verdict = self.verdict(hypothesis.status)
            if verdict:
                reviewer = self.rng.choice(self.reviewers)
                reviews.append(
                    Review(hypothesis=hypothesis, reviewer=reviewer, verdict=verdict, version=1)
                )
            verbs = ["created"] if hypothesis.status == "open" else ["created", hypothesis.status]
            events += [
                self.event(
                    hypothesis.author,
                    f"hypothesis.{verb}",
                    "hypothesis",
                    hypothesis.pk,
                    hypothesis.title,
                )
                for verb in verbs
            ]
        _bulk(HypothesisUnit, hypothesis_units)
        _bulk(Review, reviews)
        self.events(events)
        self.hypothesis_ids = [h.pk for h in hypotheses]
        self.counts["hypotheses"] = len(hypotheses)
        self.counts["open_hypotheses"] = statuses.count("open")
        self.counts["hypothesis_units"] = len(hypothesis_units)
        self.counts["reviews"] = len(reviews)

    def circuits(self):
        """Circuits of three consecutive layers, four units each, every unit of a layer joined
        to every unit of the next by a 3×3 kernel (as ``grow`` writes them)."""
        from annotations.models import Circuit, CircuitEdge, CircuitNode

        circuits = _bulk(
            Circuit,
            [
                Circuit(
                    project=self.project,
                    network=self.network,
                    name=f"circuit {n}",
                    description="Curve detectors built from earlier line detectors.",
                    created_by=self.rng.choice(self.reviewers),
                )
                for n in range(CIRCUITS)
            ],
        )
        nodes, layers_of = [], {}
        for circuit in circuits:
            start = self.rng.randrange(len(self.layers) - CIRCUIT_LAYERS + 1)
            layers = self.layers[start : start + CIRCUIT_LAYERS]
            layers_of[circuit.pk] = []
            for layer in layers:
                members = self.rng.sample(self.units_by_layer[layer.pk], CIRCUIT_UNITS_PER_LAYER)
                row = [CircuitNode(circuit=circuit, unit=u, role="detects curves") for u in members]
                nodes += row
                layers_of[circuit.pk].append(row)
        _bulk(CircuitNode, nodes)
        kernel = [[round(self.rng.uniform(-1, 1), 3) for _ in range(3)] for _ in range(3)]
        edges = [
            CircuitEdge(
                circuit_id=circuit_id,
                source=source,
                target=target,
                magnitude=1.0,
                sign=1,
                kind=CircuitEdge.Kind.DIRECT,
                kernel=kernel,
                origin={"bench": True},
            )
            for circuit_id, rows in layers_of.items()
            for earlier, later in zip(rows, rows[1:], strict=False)
            for source in earlier
            for target in later
        ]
        _bulk(CircuitEdge, edges)
        self.circuit_ids = [c.pk for c in circuits]
        self.counts["circuits"] = len(circuits)
        self.counts["circuit_nodes"] = len(nodes)
        self.counts["circuit_edges"] = len(edges)

    def notifications(self):
        """The measuring reviewer's notifications, about hypotheses of the project."""
        from annotations.models import Notification

        rows = [
            Notification(
                recipient=self.reviewers[0],
                project=self.project,
                actor=self.rng.choice(self.annotators),
                kind=self.rng.choice(list(Notification.Kind)),
                target_type="hypothesis",
                target_id=self.rng.choice(self.hypothesis_ids),
                text="mentioned you in a comment on a hypothesis",
                read_at=None if self.rng.random() < UNREAD_SHARE else self.now(),
            )
            for _ in range(NOTIFICATIONS)
        ]
        self.counts["notifications"] = len(_bulk(Notification, rows))

    def verdict(self, status):
        """The review that closed a hypothesis; for a third of the open ones, a request for
        changes."""
        if status == "open":
            return "request_changes" if self.rng.random() < 0.3 else None
        return {"accepted": "approve", "rejected": "reject"}.get(status)

    def comments(self):
        """Thread roots first (replies need their ids), then replies; one event each."""
        from annotations.models import Comment

        total = self.sizes["comments"]
        root_count = round(total * THREAD_ROOT_SHARE)
        kinds = self.rng.choices(list(COMMENT_TARGETS), weights=COMMENT_TARGETS.values(), k=total)
        roots = []
        for start in range(0, root_count, BATCH):
            batch = [
                self.comment(Comment, kind)
                for kind in kinds[start : min(root_count, start + BATCH)]
            ]
            roots += [
                (c.pk, c.target_type, c.target_id, c.target_label) for c in _bulk(Comment, batch)
            ]
            self.comment_events(batch)
        for start in range(root_count, total, BATCH):
            batch = [
                self.comment(Comment, None, root=self.rng.choice(roots))
                for _ in range(start, min(total, start + BATCH))
            ]
            self.comment_events(_bulk(Comment, batch))
        self.counts["comments"] = total
        self.counts["threads"] = root_count

    def comment(self, comment_model, kind, root=None):
        if root is None:
            target_id, label = self.comment_target(kind)
            root_id = None
        else:
            root_id, kind, target_id, label = root
        deleted = self.rng.random() < 0.01
        resolved = root is None and self.rng.random() < 0.2
        return comment_model(
            project=self.project,
            target_type=kind,
            target_id=target_id,
            target_label=label,
            parent_id=root_id,
            root_id=root_id,
            author=self.rng.choice(self.annotators + self.reviewers),
            body="" if deleted else "Looks like a curve detector to me; compare the negatives.",
            body_html="<p>Looks like a curve detector to me; compare the negatives.</p>",
            deleted_at=self.now() if deleted else None,
            resolved_at=self.now() if resolved else None,
            resolved_by=self.owner if resolved else None,
        )

    def comment_target(self, kind):
        if kind == "unit":
            unit = self.rng.choice(self.units)
            return unit.pk, f"{NETWORK}/{label(unit)}"
        if kind == "hypothesis":
            return self.rng.choice(self.hypothesis_ids), "a hypothesis"
        group = self.rng.choice(self.groups)
        return group.pk, group.name

    def comment_events(self, comments):
        self.events(
            [
                self.event(
                    comment.author,
                    "comment.posted",
                    "comment",
                    comment.pk,
                    f"comment on {comment.target_type} {comment.target_label}",
                )
                for comment in comments
            ]
        )

    def event(self, actor, verb, target_type, target_id, target_label):
        from annotations.models import Event

        return Event(
            project=self.project,
            actor=actor,
            verb=verb,
            target_type=target_type,
            target_id=target_id,
            target_label=target_label,
        )

    def events(self, rows):
        from annotations.models import Event

        self.counts["events"] = self.counts.get("events", 0) + len(_bulk(Event, rows))

    @staticmethod
    def now():
        from django.utils import timezone

        return timezone.now() - timedelta(days=1)
