"""Server-rendered page shells. Each page reads and writes through the REST API from the
browser; the Python side only authorizes the project and names what the page is about."""

from itertools import groupby

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from annotations.api.throttles import CredentialsRateThrottle
from annotations.models import EmailPreference, Role, Webhook
from annotations.policies import can_in_role
from annotations.selectors.comments import comment_get
from annotations.selectors.networks import project_networks
from annotations.selectors.projects import project_get_for_user, projects_for_user
from frontend.selectors import labelled_share_by_layer
from server.errors import DomainError
from workers import jobkinds
from workers.addresses import MalformedAddress, UnitAddress
from workers.models import Job, Network
from workers.selectors.catalog import layers_of, networks_for_user


def landing(request):
    networks = []
    projects = []
    if request.user.is_authenticated:
        projects = list(projects_for_user(user=request.user))
        networks = [
            {"network": network, "layers": list(layers_of(network=network))}
            for network in networks_for_user(user=request.user)
        ]
    return render(request, "frontend/landing.html", {"networks": networks, "projects": projects})


class ThrottledLoginView(LoginView):
    """The sign-in page, sharing the per-address attempt budget of the token endpoint."""

    template_name = "frontend/login.html"

    def post(self, request, *args, **kwargs):
        throttle = CredentialsRateThrottle()
        if not throttle.allow_request(request, self):
            context = {"throttled_for": int(throttle.wait() or 0) + 1, "form": self.get_form()}
            return render(request, self.template_name, context, status=429)
        return super().post(request, *args, **kwargs)


def _project(request, slug):
    """The project if the user may see it; a missing and a forbidden project are both 404."""
    try:
        return project_get_for_user(user=request.user, slug=slug)
    except DomainError as error:
        raise Http404(str(error)) from error


def _page(request, slug, template, **context):
    project = _project(request, slug)
    return render(request, f"frontend/{template}", {"project": project, **context})


@login_required
def project_page(request, slug):
    project = _project(request, slug)
    layers = labelled_share_by_layer(project=project)
    networks = [
        {"network": network, "layers": list(network_layers)}
        for network, network_layers in groupby(layers, key=lambda layer: layer.network)
    ]
    return render(request, "frontend/project.html", {"project": project, "networks": networks})


@login_required
def grid_page(request, slug, network, layer):
    return _page(request, slug, "grid.html", network=network, layer=layer)


@login_required
def unit_page(request, slug, network, address):
    return _page(request, slug, "unit.html", network=network, address=address)


@login_required
def taxonomy_page(request, slug):
    return _page(request, slug, "taxonomy.html")


@login_required
def hypothesis_page(request, slug, hypothesis_id):
    return _page(request, slug, "hypothesis.html", hypothesis_id=hypothesis_id)


@login_required
def circuit_page(request, slug, circuit_id):
    return _page(request, slug, "circuit.html", circuit_id=circuit_id)


@login_required
def reviews_page(request, slug):
    return _page(request, slug, "reviews.html")


@login_required
def rounds_page(request, slug):
    """The project's labelling rounds; owners and reviewers open one here."""
    project = _project(request, slug)
    may_open = can_in_role(request.user, "round.open", project, role=project.user_role)
    networks = project_networks(project=project)
    return render(
        request,
        "frontend/rounds.html",
        {"project": project, "may_open": may_open, "networks": networks},
    )


@login_required
def round_page(request, slug, round_id):
    return _page(request, slug, "round.html", round_id=round_id)


@login_required
def exports_page(request, slug):
    project = _project(request, slug)
    networks = project_networks(project=project)
    return render(request, "frontend/exports.html", {"project": project, "networks": networks})


@login_required
def settings_page(request, slug):
    """Review policy, members and networks (owners change them, other members read them), the
    project's webhooks (owners) and the user's own e-mail choice."""
    project = _project(request, slug)
    studied = project_networks(project=project)
    manage = can_in_role(request.user, "project.update", project, role=project.user_role)
    webhooks = can_in_role(request.user, "webhook.manage", project, role=project.user_role)
    addable = []
    if manage:
        taken = {network.pk for network in studied}
        addable = [
            network
            for network in networks_for_user(user=request.user)
            if network.pk not in taken and network.status != Network.Status.FAILED
        ]
    return render(
        request,
        "frontend/settings.html",
        {
            "project": project,
            "networks": studied,
            "addable": addable,
            "roles": Role.values,
            "manage": manage,
            "manage_webhooks": webhooks,
            "email_modes": EmailPreference.Mode.choices,
            "webhook_events": Webhook.EventType.choices,
        },
    )


# The request form offers every kind a user may request, the most used first.
KIND_ORDER = ["feature_visualization", "dataset_examples", "weights", "first_layer_weights"]


def _job_kinds():
    names = sorted(
        jobkinds.REQUESTABLE_KINDS,
        key=lambda name: (
            name not in KIND_ORDER,
            KIND_ORDER.index(name) if name in KIND_ORDER else 0,
        ),
    )
    # The weights job reads the nearest earlier layer with spatial kernels by default.
    labels = {**dict(Job.Kind.choices), "weights": "weights from an earlier layer"}
    return [
        {
            "name": name,
            "label": labels.get(name, name.replace("_", " ")),
            "description": jobkinds.JOB_KINDS[name].description,
        }
        for name in names
    ]


@login_required
def jobs_page(request, slug):
    project = _project(request, slug)
    layers = labelled_share_by_layer(project=project)
    context = {
        "project": project,
        "layers": layers,
        "job_kinds": _job_kinds(),
        "tuning_families": jobkinds.TUNING_FAMILIES,
        "tuning_angle_steps": jobkinds.JOB_KINDS["tuning"].params["angle_step"].choices,
    }
    return render(request, "frontend/jobs.html", context)


COMPARE_ROWS = [
    ("group", "Group"),
    ("featurevis", "Feature visualization"),
    ("examples", "Dataset examples"),
    ("distribution", "Activation histogram"),
    ("weights", "Incoming weights"),
    ("stats", "Statistics"),
]
# Columns a screen can still show side by side.
COMPARE_MAX_UNITS = 12


@login_required
def compare_page(request, slug, network):
    """Units of one network side by side: ``?units=features.2:1,features.2:5``."""
    project = _project(request, slug)
    try:
        addresses = [
            str(UnitAddress.parse(text))
            for text in request.GET.get("units", "").split(",")
            if text.strip()
        ]
    except MalformedAddress as error:
        raise Http404(str(error)) from error
    units = list(dict.fromkeys(addresses))[:COMPARE_MAX_UNITS]
    context = {"project": project, "network": network, "units": units, "rows": COMPARE_ROWS}
    return render(request, "frontend/compare.html", context)


@login_required
def comment_page(request, slug, comment_id):
    """Where a comment lives: its target's page, scrolled to the comment."""
    project = _project(request, slug)
    try:
        comment = comment_get(project=project, comment_id=comment_id)
    except DomainError as error:
        raise Http404(str(error)) from error
    anchor = f"#comment-{comment.pk}"
    if comment.target_type == "hypothesis":
        url = reverse("frontend:hypothesis", args=[slug, comment.target_id])
    elif comment.target_type == "unit" and "/" in comment.target_label:
        network, address = comment.target_label.split("/", 1)
        url = reverse("frontend:unit", args=[slug, network, address])
    elif comment.target_type == "group":
        url = reverse("frontend:taxonomy", args=[slug])
        anchor = f"#group-{comment.target_id}"
    elif comment.target_type == "circuit":
        url = reverse("frontend:circuit", args=[slug, comment.target_id])
    else:
        url = reverse("frontend:project", args=[slug])
    return redirect(url + anchor)
