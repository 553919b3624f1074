"""``Atlas``: one user's session with a Neuron Atlas server, one method per thing to do."""

import io
import json
import os
import time
import urllib.parse

from atlas_client.circuits import CircuitMethods
from atlas_client.rounds import RoundMethods
from atlas_client.transport import Transport

FINISHED_JOB_STATUSES = frozenset({"succeeded", "failed", "cancelled"})


class Atlas(CircuitMethods, RoundMethods):
    """A Neuron Atlas server, as the user whose API token it holds.

    Lists come back whole (every page fetched); objects come back as the API's JSON, as dicts.
    Wherever a group or hypothesis is expected, its id or its dict will do; wherever units are
    expected, addresses (``"mixed3b:379"``), ``(layer, index)`` pairs or unit dicts will do.
    Changes to versioned objects send ``If-Match`` with the version this client last read
    (reading the object first if it never did); a lost race raises ``StaleVersion``.
    """

    page_size = 1000

    def __init__(self, base_url, token=None, *, timeout=30.0, page_size=None):
        self._http = Transport(base_url, token, timeout)
        self._etags = {}
        if page_size is not None:
            self.page_size = page_size

    @classmethod
    def login(
        cls, base_url, username, password, *, token_name=None, expires_in_days=None, **options
    ):
        """A client holding a new API token of the user (``token_name`` tells it apart in
        ``tokens()``); ``logout()`` revokes it."""
        atlas = cls(base_url, **options)
        payload = {"username": username, "password": password}
        payload.update(_given(name=token_name, expires_in_days=expires_in_days))
        atlas._http.token = atlas._http.request("POST", "auth/token/", payload=payload).body[
            "token"
        ]
        return atlas

    @property
    def token(self):
        return self._http.token

    def logout(self):
        """Revoke the API token this client holds."""
        self._http.request("DELETE", "auth/token/")
        self._http.token = None

    # API tokens: each is shown once, when created; the server keeps only a hash.

    def tokens(self):
        """Your API tokens that have not expired (names, prefixes, expiry; never secrets)."""
        return self._all("auth/tokens/")

    def create_token(self, name, expires_in_days=None):
        """A new API token for a notebook or a CI job; its ``token`` is the secret."""
        payload = {"name": name, **_given(expires_in_days=expires_in_days)}
        return self._http.request("POST", "auth/tokens/", payload=payload).body

    def revoke_token(self, token):
        """Revoke one of your API tokens (its id or dict)."""
        self._http.request("DELETE", f"auth/tokens/{_id(token)}/")

    # The catalog and its renders.

    def projects(self):
        return self._all("projects/")

    def networks(self):
        return self._all("networks/")

    def layers(self, network):
        return self._get(f"networks/{_segment(network)}/layers/")

    def units(self, network, layer=None):
        return self._all(f"networks/{_segment(network)}/units/", layer=layer)

    def unit_card(self, network, address):
        """The unit and, per job kind and parameters, the artifacts of its latest render."""
        return self._get(f"networks/{_segment(network)}/units/{_segment(_address(address))}/card/")

    def request_job(self, network, kind, layer, units=None, params=None):
        """Queue a render of a layer (or of some unit indices of it); an identical job that is
        queued, running or done is returned instead of a new one."""
        payload = {"network": network, "kind": kind, "layer": layer, "params": params or {}}
        if units is not None:
            payload["units"] = list(units)
        return self._http.request("POST", "jobs/", payload=payload).body

    def job(self, job_id):
        return self._get(f"jobs/{_id(job_id)}/")

    def wait_for_job(self, job_id, timeout=600.0, poll=2.0):
        """The job once it succeeded, failed or was cancelled; TimeoutError after ``timeout``
        seconds."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.job(job_id)
            if job["status"] in FINISHED_JOB_STATUSES:
                return job
            if time.monotonic() + poll > deadline:
                raise TimeoutError(
                    f"job {_id(job_id)} is still {job['status']} after {timeout} seconds"
                )
            time.sleep(poll)

    # The taxonomy.

    def grid(self, project, network, layer, **filters):
        """A layer as the project sees it: ``results`` (every unit with its group and its
        open-hypothesis and comment counts) and ``sprites`` (the layer's sprite sheets).
        Filters: ``group`` (an id, or "none"), ``status`` ("unlabelled", "labelled",
        "under_review"), ``q`` (text in groups, hypotheses, comments)."""
        path = f"projects/{_segment(project)}/grid/{_segment(network)}/{_segment(layer)}/"
        if "group" in filters:
            filters["group"] = _id(filters["group"])
        pages = self._pages(path, **filters)
        grid = next(pages)
        grid["results"] += [unit for body in pages for unit in body["results"]]
        return grid

    def groups(self, project):
        return self._all(f"projects/{_segment(project)}/groups/")

    def group(self, project, group_id):
        return self._get(_group_path(project, group_id))

    def create_group(
        self, project, name, parent=None, *, description="", color=None, order=None, layer=None
    ):
        """A new group at the root or under ``parent``; ``layer=(network, layer)`` limits it to
        one layer."""
        payload = {"name": name, "parent": _id(parent), "description": description}
        payload.update(_given(color=color, order=order))
        if layer is not None:
            payload["layer"] = _layer_scope(layer)
        answer = self._http.request(
            "POST", f"projects/{_segment(project)}/groups/", payload=payload
        )
        self._remember(_group_path(project, answer.body["id"]), answer)
        return answer.body

    def update_group(self, project, group_id, *, version=None, **fields):
        """Change any of ``name``, ``description``, ``color``, ``order``, ``layer`` (a
        ``(network, layer)`` pair, or None to lift the scope) of the group as last read, or as
        it was at ``version``."""
        if fields.get("layer") is not None:
            fields["layer"] = _layer_scope(fields["layer"])
        return self._conditional("PATCH", _group_path(project, group_id), version, fields)

    def assign(self, project, network, units, group, note=""):
        """Put every unit into ``group`` (None: no group), all or nothing; returns
        ``{"units": how many were sent, "changed": how many changed group}``."""
        payload = {
            "network": network,
            "units": [_address(unit) for unit in units],
            "group": _id(group),
            "note": note,
        }
        return self._http.request(
            "POST", f"projects/{_segment(project)}/assignments/", payload=payload
        ).body

    # Exports, imports and releases.

    def export(
        self, project, format="json", *, network=None, release=None, comments=False, path=None
    ):
        """The taxonomy of one network (live, or release ``release``) as ``format``: "json"
        (a dict), "csv" or "html" (text). With ``path`` the download is streamed to that file
        instead, and the path is returned. ``network`` is needed only when the project studies
        several; ``comments`` adds the comments to a JSON export."""
        base = f"projects/{_segment(project)}/"
        if release is not None:
            base += f"releases/{_segment(release)}/"
        params = {"network": network, "comments": "true" if comments else None}
        target = f"{base}exports/{_segment(format)}/"
        if path is not None:
            with open(path, "wb") as out:
                self._http.download(target, out, params=params)
            return path
        buffer = io.BytesIO()
        self._http.download(target, buffer, params=params)
        text = buffer.getvalue().decode("utf-8")
        return json.loads(text) if format == "json" else text

    def import_taxonomy(
        self, project, network, content=None, *, path=None, format=None, dry_run=False
    ):
        """Import a taxonomy file (``content`` as text, or the file at ``path``) into one
        network's taxonomy: the JSON export, the CSV export or the simple CSV
        ``layer,unit,group,parent_group,description``. ``format`` ("json" or "csv") defaults to
        the file's suffix. Returns the report; a bad file raises AtlasError whose ``fields``
        name each bad row, and nothing changes. ``dry_run`` only reports."""
        if (content is None) == (path is None):
            raise TypeError("give either content or path")
        if path is not None:
            with open(path, encoding="utf-8") as handle:
                content = handle.read()
            format = format or os.path.splitext(str(path))[1].lstrip(".").lower()
        if format not in ("json", "csv"):
            raise ValueError(f"format must be 'json' or 'csv', not {format!r}")
        payload = {"network": network, "format": format, "content": content, "dry_run": dry_run}
        return self._http.request(
            "POST", f"projects/{_segment(project)}/imports/", payload=payload
        ).body

    def releases(self, project):
        """The project's releases, newest first."""
        return self._all(f"projects/{_segment(project)}/releases/")

    def release(self, project, name):
        return self._get(f"projects/{_segment(project)}/releases/{_segment(name)}/")

    def create_release(self, project, name, notes=""):
        """Freeze the taxonomy as release ``name`` (owners only); releases never change."""
        return self._http.request(
            "POST",
            f"projects/{_segment(project)}/releases/",
            payload={"name": name, "notes": notes},
        ).body

    def release_diff(self, project, name, against=None):
        """What changed from ``against`` (default: the release before) to release ``name``:
        ``groups`` (added, removed, renamed, moved, changed) and ``units`` (from, to)."""
        return self._get(
            f"projects/{_segment(project)}/releases/{_segment(name)}/diff/", against=against
        )

    # Hypotheses and reviews.

    def hypotheses(self, project, **filters):
        """The project's hypotheses, newest first; filters: status, author, network, unit,
        group."""
        return self._all(f"projects/{_segment(project)}/hypotheses/", **filters)

    def hypothesis(self, project, hypothesis_id):
        return self._get(_hypothesis_path(project, hypothesis_id))

    def propose(
        self,
        project,
        network,
        title,
        text,
        units,
        group=None,
        new_group=None,
        evidence=None,
        circuit=None,
    ):
        """A hypothesis about units of one network, proposing that they go into ``group`` (an
        existing group) or ``new_group`` (a name, or a dict with name, parent, description,
        color: created on acceptance); ``evidence`` is artifact ids; ``circuit`` the circuit
        (id or dict) it is about."""
        payload = {
            "network": network,
            "title": title,
            "text": text,
            "units": [_address(unit) for unit in units],
        }
        if group is not None:
            payload["proposed_group"] = _id(group)
        if new_group is not None:
            payload["new_group"] = {"name": new_group} if isinstance(new_group, str) else new_group
        if evidence is not None:
            payload["evidence"] = [_id(artifact) for artifact in evidence]
        if circuit is not None:
            payload["circuit"] = _id(circuit)
        answer = self._http.request(
            "POST", f"projects/{_segment(project)}/hypotheses/", payload=payload
        )
        self._remember(_hypothesis_path(project, answer.body["id"]), answer)
        return answer.body

    def revise(self, project, hypothesis_id, *, version=None, **fields):
        """Revise your open hypothesis as last read (or at ``version``); ``fields`` as the API
        names them: title, text, units, proposed_group, new_group, group, evidence. Reviews
        of earlier versions stop counting."""
        if "units" in fields:
            fields["units"] = [_address(unit) for unit in fields["units"]]
        for name in ("proposed_group", "group"):
            if fields.get(name) is not None:
                fields[name] = _id(fields[name])
        path = _hypothesis_path(project, hypothesis_id)
        return self._conditional("PATCH", path, version, fields)

    def review(self, project, hypothesis_id, verdict, comment="", *, version=None):
        """Review the hypothesis as last read (or at ``version``): ``"approve"``,
        ``"request_changes"`` or ``"reject"``. Returns the hypothesis after the review."""
        payload = {"verdict": verdict, "comment": comment}
        path = _hypothesis_path(project, hypothesis_id)
        return self._conditional("POST", path, version, payload, action="reviews/")

    def review_queue(self, project=None):
        """Open hypotheses waiting for your review, oldest first: in one project or all."""
        if project is None:
            return self._all("review-queue/")
        return self._all(f"projects/{_segment(project)}/review-queue/")

    # Discussion.

    def comment(self, project, target_type, target_id, body, parent=None):
        """Start a thread on a unit, group, hypothesis or circuit, or answer ``parent``. A unit
        is its id or ``"network/layer:index"``."""
        payload = {"target_type": target_type, "target_id": str(_id(target_id)), "body": body}
        if parent is not None:
            payload["parent"] = _id(parent)
        return self._http.request(
            "POST", f"projects/{_segment(project)}/comments/", payload=payload
        ).body

    def comments(self, project, target_type, target_id):
        """The threads on one target, oldest first, each with its ``replies``."""
        return self._all(
            f"projects/{_segment(project)}/comments/",
            target_type=target_type,
            target_id=str(_id(target_id)),
        )

    def notifications(self, unread=None):
        """Your notifications, newest first; ``unread=True`` or ``False`` to filter."""
        return self._all("notifications/", unread=None if unread is None else str(unread).lower())

    def mark_read(self, ids=None):
        """Mark these notifications (all of yours when None) read; returns how many were."""
        payload = {"all": True} if ids is None else {"ids": [_id(item) for item in ids]}
        return self._http.request("POST", "notifications/mark-read/", payload=payload).body[
            "marked"
        ]

    # Plumbing.

    def _get(self, path, **params):
        answer = self._http.request("GET", path, params=params)
        self._remember(path, answer)
        return answer.body

    def _all(self, path, **params):
        return [result for body in self._pages(path, **params) for result in body["results"]]

    def _pages(self, path, **params):
        page = 1
        while True:
            body = self._get(path, page=page, page_size=self.page_size, **params)
            yield body
            if body["next"] is None:
                return
            page += 1

    def _remember(self, path, answer):
        if answer.etag:
            self._etags[path] = answer.etag

    def _if_match(self, path, version):
        if version is not None:
            return f'"{version}"'
        if path not in self._etags:
            self._get(path)
        return self._etags[path]

    def _conditional(self, method, path, version, payload, action=""):
        """``method`` on the object at ``path`` (or on its ``action``), If-Match its version;
        the answer's ETag is the object's version from now on."""
        headers = {"If-Match": self._if_match(path, version)}
        answer = self._http.request(method, path + action, payload=payload, headers=headers)
        self._remember(path, answer)
        return answer.body


def _segment(value):
    return urllib.parse.quote(str(value), safe=":")


def _id(value):
    return value["id"] if isinstance(value, dict) else value


def _address(unit):
    if isinstance(unit, dict):
        return unit["address"]
    if isinstance(unit, tuple):
        layer, index = unit
        return f"{layer}:{index}"
    return unit


def _layer_scope(layer):
    if isinstance(layer, dict):
        return layer
    network, name = layer
    return {"network": network, "layer": name}


def _given(**values):
    return {name: value for name, value in values.items() if value is not None}


def _group_path(project, group_id):
    return f"projects/{_segment(project)}/groups/{_id(group_id)}/"


def _hypothesis_path(project, hypothesis_id):
    return f"projects/{_segment(project)}/hypotheses/{_id(hypothesis_id)}/"
