"""Writing an exported taxonomy as JSON or CSV text, chunk by chunk.

The writers read a taxonomy (``annotations.selectors.exports``: groups as lists, units as
iterators) and yield text; they hold no more than one chunk of rows. The JSON document follows
``annotations/schemas/taxonomy-export-v1.schema.json``.
"""

import io
import itertools
import json

from annotations.formats.csv_cells import CsvWriter
from workers.addresses import UnitAddress

FORMAT_NAME = "neuron-atlas.taxonomy"
FORMAT_VERSION = 1
CSV_HEADER = ("network", "layer", "unit", "group_path", "status", "changed_by", "changed_at")
ROWS_PER_CHUNK = 1000
# Between the names of a group's path ("Curves / Curves 3a"), in CSV files and reports.
PATH_SEPARATOR = " / "
ESCAPE = "\\"


def path_text(path):
    """A group's path as one CSV cell: its names joined by PATH_SEPARATOR. A name's own slash
    that a reader could take for a separator (one beside a space or at the name's edge) is
    written ``\\/``, and a backslash before a slash or a backslash is doubled, so that
    ``path_names`` reads back exactly ``path``: a group named "Red / green" is one name."""
    return PATH_SEPARATOR.join(_escaped(name) for name in path)


def path_names(text):
    """The names of the path written in ``text`` (the inverse of ``path_text``): split at each
    PATH_SEPARATOR that is not escaped, ``\\/`` and ``\\\\`` read as ``/`` and ``\\``, every
    other character as itself, each name stripped."""
    if ESCAPE not in text:
        return tuple(name.strip() for name in text.split(PATH_SEPARATOR))
    names, name, position = [], [], 0
    while position < len(text):
        pair = text[position : position + 2]
        if pair in (ESCAPE + "/", ESCAPE + ESCAPE):
            name.append(pair[1])
            position += 2
        elif text.startswith(PATH_SEPARATOR, position):
            names.append("".join(name).strip())
            name = []
            position += len(PATH_SEPARATOR)
        else:
            name.append(text[position])
            position += 1
    names.append("".join(name).strip())
    return tuple(names)


def _escaped(name):
    written = []
    for position, char in enumerate(name):
        before = name[position - 1] if position else " "
        after = name[position + 1] if position + 1 < len(name) else " "
        if char == ESCAPE and after in (ESCAPE, "/"):
            written.append(ESCAPE + ESCAPE)
        elif char == "/" and " " in (before, after):
            written.append(ESCAPE + "/")
        else:
            written.append(char)
    return "".join(written)


def network_document(network):
    return {
        "name": network.name,
        "arch": network.arch,
        "source": network.source,
        "weights_sha256": network.weights_sha256,
        "random_seed": network.random_seed,
        "input_size": network.input_size,
    }


def json_chunks(taxonomy, *, layers, exported_at, include_comments, report):
    """The JSON document of ``taxonomy`` (with the network's ``layers``); ``report(units
    written, None)`` after each chunk of units."""
    project, network, release = taxonomy.project, taxonomy.network, taxonomy.release
    counts = taxonomy.unit_counts()
    head = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "exported_at": exported_at.isoformat(),
        "project": {"slug": project.slug, "name": project.name},
        "release": None
        if release is None
        else {
            "name": release.name,
            "notes": release.notes,
            "created_by": release.created_by.username if release.created_by else None,
            "created_at": release.created_at.isoformat(),
        },
        "network": network_document(network),
    }
    yield "{\n" + ",\n".join(f"{_dump(key)}: {_dump(value)}" for key, value in head.items())
    never_fired = taxonomy.never_fired()
    layers = [
        {
            "name": layer.name,
            "kind": layer.kind,
            "order": layer.order,
            "channels": layer.channels,
            "height": layer.height,
            "width": layer.width,
            **({"never_fired": never_fired[layer.name]} if layer.name in never_fired else {}),
        }
        for layer in layers
    ]
    yield ',\n"layers": ' + _list_lines(layers)
    # Assigned units that never fired, by layer: each marked with the dataset's name.
    silent = {
        layer: (found["dataset"], frozenset(found["units"])) for layer, found in never_fired.items()
    }
    groups = []
    for group in taxonomy.groups():
        per_layer = {
            layer["name"]: counts[(group["id"], layer["name"])]
            for layer in layers
            if (group["id"], layer["name"]) in counts
        }
        groups.append({**group, "unit_counts": per_layer})
    yield ',\n"groups": ' + _list_lines(groups)
    yield ',\n"units": ['
    done = 0
    rows = taxonomy.assignments()
    while batch := list(itertools.islice(rows, ROWS_PER_CHUNK)):
        lines = (
            _dump(
                {
                    "layer": layer,
                    "unit": index,
                    "group": group_id,
                    "note": note,
                    "assigned_by": assigned_by,
                    "assigned_at": assigned_at.isoformat(),
                    **_never_fired_on(silent, layer, index),
                }
            )
            for _, layer, index, group_id, note, assigned_by, assigned_at in batch
        )
        yield ("," if done else "") + "\n" + ",\n".join(lines)
        done += len(batch)
        report(done, None)
    yield "\n]"
    yield ',\n"hypotheses": '
    yield from _stream_list(taxonomy.hypotheses())
    yield ',\n"circuits": ' + _list_lines(taxonomy.circuits())
    yield ',\n"links": ' + _list_lines(taxonomy.links())
    yield ',\n"rounds": ' + _list_lines(taxonomy.rounds())
    if include_comments:
        yield ',\n"comments": '
        yield from _stream_list(taxonomy.comments())
    yield "\n}\n"


def csv_chunks(taxonomy, *, total, report):
    """One CSV row per unit of the network, labelled or not; ``report(units written,
    total)`` after each chunk."""
    paths = {group["id"]: path_text(group["path"]) for group in taxonomy.groups()}
    under_review = taxonomy.units_under_review()
    buffer = io.StringIO()
    writer = CsvWriter(buffer)
    writer.writerow(CSV_HEADER)
    done = 0
    for _, layer, index, assignment in taxonomy.units():
        if UnitAddress(layer, index) in under_review:
            status = "under_review"
        else:
            status = "labelled" if assignment else "unlabelled"
        if assignment is None:
            writer.writerow((taxonomy.network.name, layer, index, "", status, "", ""))
        else:
            _, _, _, group_id, _, assigned_by, assigned_at = assignment
            writer.writerow(
                (
                    taxonomy.network.name,
                    layer,
                    index,
                    paths.get(group_id, ""),
                    status,
                    assigned_by or "",
                    assigned_at.isoformat(),
                )
            )
        done += 1
        if done % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            report(done, total)
    yield buffer.getvalue()
    report(done, total)


def _never_fired_on(silent, layer, index):
    """``{"never_fired_on": dataset}`` for a unit that never fired on it, else nothing."""
    dataset, units = silent.get(layer, (None, frozenset()))
    return {"never_fired_on": dataset} if index in units else {}


def _dump(value):
    return json.dumps(value, ensure_ascii=False)


def _stream_list(items):
    """A JSON list of ``items`` (an iterator), one per line, ``ROWS_PER_CHUNK`` per chunk."""
    items = iter(items)
    first = True
    while batch := list(itertools.islice(items, ROWS_PER_CHUNK)):
        yield ("[\n" if first else ",\n") + ",\n".join(_dump(item) for item in batch)
        first = False
    yield "[]" if first else "\n]"


def _list_lines(items):
    if not items:
        return "[]"
    return "[\n" + ",\n".join(_dump(item) for item in items) + "\n]"
