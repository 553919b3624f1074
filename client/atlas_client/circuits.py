"""Circuits and universality links, as methods of ``Atlas`` (mixed into it)."""

import time
import urllib.parse

from atlas_client.errors import AtlasError

WEIGHTS_TIMEOUT = 600.0


class CircuitMethods:
    """Circuits: named subgraphs of one network's units joined by the engine's weights; and
    universality links between units (or groups) of different networks. Every change to a
    circuit (nodes and edges included) sends If-Match with the circuit's version as last read
    and returns the whole circuit.

    The weights are computed by a worker's job, once per pair of layers: the first edge or
    grow between two layers waits for that job (up to ``timeout`` seconds, then
    ``TimeoutError``) and is sent again once it has finished."""

    def circuits(self, project):
        return self._all(f"projects/{_segment(project)}/circuits/")

    def circuit(self, project, circuit_id):
        """One circuit with its nodes and edges (magnitude, sign, kind, kernel)."""
        return self._get(_circuit_path(project, circuit_id))

    def create_circuit(self, project, network, name, description=""):
        answer = self._http.request(
            "POST",
            f"projects/{_segment(project)}/circuits/",
            payload={"network": network, "name": name, "description": description},
        )
        self._remember(_circuit_path(project, answer.body["id"]), answer)
        return answer.body

    def update_circuit(self, project, circuit_id, *, version=None, **fields):
        """Change the ``name`` and/or ``description`` of the circuit."""
        return self._conditional("PATCH", _circuit_path(project, circuit_id), version, fields)

    def delete_circuit(self, project, circuit_id, *, version=None):
        self._conditional("DELETE", _circuit_path(project, circuit_id), version, None)

    def add_node(self, project, circuit_id, unit, role="", *, version=None):
        """Add a unit (``"layer:index"``, a pair or a unit dict) of the circuit's network."""
        payload = {"unit": _address(unit), "role": role}
        path = _circuit_path(project, circuit_id)
        return self._conditional("POST", path, version, payload, action="nodes/")

    def update_node(self, project, circuit_id, node, role, *, version=None):
        """Rewrite a node's role."""
        path = _circuit_path(project, circuit_id)
        payload = {"role": role}
        return self._conditional("PATCH", path, version, payload, action=f"nodes/{_id(node)}/")

    def remove_node(self, project, circuit_id, node, *, version=None):
        """Remove a node (its id or dict) and the edges that touch it."""
        path = _circuit_path(project, circuit_id)
        return self._conditional("DELETE", path, version, None, action=f"nodes/{_id(node)}/")

    def add_edge(
        self,
        project,
        circuit_id,
        source,
        target,
        *,
        version=None,
        timeout=WEIGHTS_TIMEOUT,
        poll=2.0,
    ):
        """Join two nodes (ids or dicts) by the engine's weight from ``source`` to ``target``."""
        payload = {"source": _id(source), "target": _id(target)}
        path = _circuit_path(project, circuit_id)
        return self._weighed(path, version, payload, "edges/", timeout, poll)

    def remove_edge(self, project, circuit_id, edge, *, version=None):
        path = _circuit_path(project, circuit_id)
        return self._conditional("DELETE", path, version, None, action=f"edges/{_id(edge)}/")

    def grow(
        self,
        project,
        circuit_id,
        node,
        *,
        direction="inputs",
        k=3,
        threshold=0.0,
        version=None,
        timeout=WEIGHTS_TIMEOUT,
        poll=2.0,
    ):
        """From ``node``, add the ``k`` strongest ``inputs`` (or ``outputs``) by L2 norm, at
        least ``threshold``, as nodes and edges."""
        payload = {"node": _id(node), "direction": direction, "k": k, "threshold": threshold}
        path = _circuit_path(project, circuit_id)
        return self._weighed(path, version, payload, "grow/", timeout, poll)

    def _weighed(self, path, version, payload, action, timeout, poll):
        """POST a change that reads weights; while the server answers 409 ``weights_pending``,
        wait for the job it names and send the change again (nothing changed meanwhile)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self._conditional("POST", path, version, payload, action=action)
            except AtlasError as error:
                if error.code != "weights_pending":
                    raise
                [job_id] = error.fields["job"]
                job = self.wait_for_job(job_id, timeout=deadline - time.monotonic(), poll=poll)
                if job["status"] != "succeeded":
                    raise AtlasError(
                        error.status,
                        "weights_failed",
                        f"Job {job_id}, computing the weights, {job['status']}: {job['error']}",
                        {"job": [job_id]},
                    ) from error

    def circuit_history(self, project, circuit_id):
        return self._all(_circuit_path(project, circuit_id) + "history/")

    def links(self, project, status=None):
        return self._all(f"projects/{_segment(project)}/links/", status=status)

    def propose_link(self, project, a, b, note="", correlation=None):
        """Propose that ``a`` and ``b`` are the same feature: two ``(network, "layer:index")``
        pairs, or two groups (ids or dicts)."""
        payload = {"note": note, "correlation": correlation}
        for side, value in (("a", a), ("b", b)):
            if isinstance(value, tuple):
                network, unit = value
                payload[f"unit_{side}"] = {"network": network, "unit": _address(unit)}
            else:
                payload[f"group_{side}"] = _id(value)
        answer = self._http.request("POST", f"projects/{_segment(project)}/links/", payload=payload)
        self._remember(_link_path(project, answer.body["id"]), answer)
        return answer.body

    def review_link(self, project, link_id, verdict, note="", *, version=None):
        """``"confirm"`` or ``"reject"`` a proposed link (not one you proposed)."""
        path = _link_path(project, link_id)
        payload = {"verdict": verdict, "note": note}
        return self._conditional("POST", path, version, payload, action="review/")

    def unit_links(self, project, network, address):
        """The confirmed links of one unit, from either side."""
        return self._get(
            f"projects/{_segment(project)}/units/{_segment(network)}/{_segment(address)}/links/"
        )


def _segment(value):
    return urllib.parse.quote(str(value), safe=":")


def _id(value):
    return value["id"] if isinstance(value, dict) else value


def _address(unit):
    if isinstance(unit, dict):
        return unit.get("address") or unit["unit"]
    if isinstance(unit, tuple):
        layer, index = unit
        return f"{layer}:{index}"
    return unit


def _circuit_path(project, circuit_id):
    return f"projects/{_segment(project)}/circuits/{_id(circuit_id)}/"


def _link_path(project, link_id):
    return f"projects/{_segment(project)}/links/{_id(link_id)}/"
