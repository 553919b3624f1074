"""Blind labelling rounds, as methods of ``Atlas`` (mixed into it)."""

import urllib.parse


class RoundMethods:
    """Labelling rounds: several annotators label the same units without seeing each other's
    labels; once closed, the round's agreement and the disagreement queue, where a reviewer
    decides each unit. A round's labels and scores answer 403 (``round_open``) until it
    closes."""

    def rounds(self, project):
        return self._all(_rounds_path(project))

    def labelling_round(self, project, round_id):
        """One round: units, choices, participants, your progress, the agreement once closed."""
        return self._get(_round_path(project, round_id))

    def open_round(
        self, project, network, title, participants, groups, layer=None, units=(), instructions=""
    ):
        """Open a round on every unit of ``layer`` or on ``units``, for ``participants``
        (usernames), choosing among ``groups`` (ids or dicts) and "other"."""
        payload = {
            "network": network,
            "layer": layer,
            "units": [_address(unit) for unit in units],
            "title": title,
            "participants": list(participants),
            "groups": [group["id"] if isinstance(group, dict) else group for group in groups],
            "instructions": instructions,
        }
        return self._http.request("POST", _rounds_path(project), payload=payload).body

    def my_labels(self, project, round_id):
        return self._get(f"{_round_path(project, round_id)}labels/")

    def save_labels(self, project, round_id, labels):
        """Save ``{unit: group id or None for "other"}`` (or ``{unit: (group, note)}``)."""
        rows = []
        for unit, choice in labels.items():
            group, note = choice if isinstance(choice, tuple) else (choice, "")
            rows.append({"unit": _address(unit), "group": group, "note": note})
        path = f"{_round_path(project, round_id)}labels/"
        return self._http.request("PUT", path, payload={"labels": rows}).body

    def submit_labels(self, project, round_id):
        return self._http.request("POST", f"{_round_path(project, round_id)}submit/").body

    def close_round(self, project, round_id):
        return self._http.request("POST", f"{_round_path(project, round_id)}close/").body

    def round_results(self, project, round_id):
        return self._get(f"{_round_path(project, round_id)}results/")

    def disagreements(self, project, round_id):
        return self._get(f"{_round_path(project, round_id)}disagreements/")

    def decide(self, project, round_id, unit, group):
        """Decide a disputed unit: ``group`` (id, dict, or None for "other")."""
        group = group["id"] if isinstance(group, dict) else group
        payload = {"unit": _address(unit), "group": group}
        path = f"{_round_path(project, round_id)}decisions/"
        return self._http.request("POST", path, payload=payload).body

    def apply_agreed(self, project, round_id):
        return self._http.request("POST", f"{_round_path(project, round_id)}apply-agreed/").body


def _rounds_path(project):
    return f"projects/{urllib.parse.quote(str(project), safe='')}/rounds/"


def _round_path(project, round_id):
    return f"{_rounds_path(project)}{int(round_id)}/"


def _address(unit):
    if isinstance(unit, dict):
        return unit["address"]
    if isinstance(unit, tuple):
        layer, index = unit
        return f"{layer}:{index}"
    return unit
