"""Reading an import file (the JSON export, the CSV export, or the simple CSV) into one plan
shape: the groups it names, by path, and each unit's group. Problems are collected per row
and raised together, so the report names every bad row at once.
"""

import csv
import io
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jsonschema

from annotations.colors import is_color
from annotations.formats.csv_cells import csv_text
from annotations.formats.taxonomy_export import path_names
from annotations.models import Group
from server import text_limits
from server.errors import Unprocessable, ValidationFailed
from server.parsers import MAX_JSON_DEPTH, NUL, check_text_tree

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "taxonomy-export-v1.schema.json"
SIMPLE_CSV_COLUMNS = ("layer", "unit", "group", "parent_group", "description")
EXPORT_CSV_REQUIRED = ("network", "layer", "unit", "group_path")
MAX_REPORTED_PROBLEMS = 1000
GROUP_NAME_LENGTH = Group._meta.get_field("name").max_length
# A field left as the project has it (a CSV says nothing about colors or layer scopes).
KEEP = object()


class Problems:
    """Problems found in a file, by where they are (``rows.12``, ``units.3``, ``file``)."""

    def __init__(self):
        self.fields = {}
        self.count = 0

    def add(self, where, message):
        self.count += 1
        if len(self.fields) < MAX_REPORTED_PROBLEMS or where in self.fields:
            self.fields.setdefault(where, []).append(message)

    def raise_if_any(self, what):
        if not self.count:
            return
        fields = dict(self.fields)
        if self.count > sum(len(messages) for messages in fields.values()):
            fields["more"] = [f"{self.count} problems in all; the first ones are listed."]
        raise Unprocessable(
            f"{what} has {self.count} problem{'s' if self.count != 1 else ''}; nothing was "
            "imported.",
            code="import_invalid",
            fields=fields,
        )


@dataclass
class GroupSpec:
    """A group the file names: its path of names from the root and the fields it sets."""

    path: tuple
    where: str
    description: object = KEEP
    color: object = KEEP
    order: object = KEEP
    layer: object = KEEP
    doc_id: int | None = None


@dataclass
class UnitSpec:
    where: str
    layer: str
    index: int
    group: tuple | None
    note: str = ""
    # A username from the file (kept when they are a member of the project), or KEEP for
    # the importer.
    assigned_by: object = KEEP


@dataclass
class SimpleRow:
    """A row of the simple CSV: its group as written, ``parent_group``'s names then
    ``group``'s (a path from some group of the file or the project, or from the root; see
    ``ImportChanges._resolve_simple_groups``), and the description it gives that group."""

    where: str
    line: int
    names: tuple
    description: str


@dataclass
class ImportFile:
    format: str
    network: dict | None = None
    groups: list = field(default_factory=list)
    units: list = field(default_factory=list)
    hypotheses: list = field(default_factory=list)
    # Circuits and confirmed universality links (JSON only; optional since 1.1).
    circuits: list = field(default_factory=list)
    links: list = field(default_factory=list)
    group_paths_by_id: dict = field(default_factory=dict)
    # The CSV export: each row's network column.
    network_rows: dict = field(default_factory=dict)
    # The simple CSV: one SimpleRow per row with a group, in file order.
    simple_rows: list = field(default_factory=list)
    # Problems with rows found while reading; the import adds its own and reports them all.
    problems: Problems = field(default_factory=Problems)


def read_import_file(*, format, content):
    """The plan of an import file's ``content`` (text or bytes) in ``format`` (json or csv)."""
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise _malformed(f"The file is not UTF-8 text ({error.reason}).") from error
    if NUL in content:
        line = content.count("\n", 0, content.index(NUL)) + 1
        raise _malformed(f"The file holds a NUL character (line {line}).")
    if format == "json":
        return _read_json(content)
    if format == "csv":
        return _read_csv(content)
    raise ValidationFailed(
        f"Unknown import format {format!r}.", fields={"format": ["One of: json, csv."]}
    )


def _malformed(message):
    return Unprocessable(
        f"Malformed file: {message} Nothing was imported.",
        code="import_invalid",
        fields={"file": [message]},
    )


@cache
def _schema_validators():
    """The whole document's validator, and one for a single entry of ``units``."""
    schema = json.loads(SCHEMA_PATH.read_text())
    unit_schema = {**schema["properties"]["units"]["items"], "$defs": schema["$defs"]}
    return jsonschema.Draft202012Validator(schema), jsonschema.Draft202012Validator(unit_schema)


UNIT_FIELDS = {
    "layer": (str,),
    "unit": (int,),
    "group": (int, type(None)),
    "note": (str,),
    "assigned_by": (str, type(None)),
    "assigned_at": (str,),
    # Derived evidence an export writes (a unit that never fired); not imported.
    "never_fired_on": (str,),
}


def _plainly_valid_unit(row):
    """What the schema asks of a ``units`` entry, checked in plain Python: validating ten
    thousand entries with jsonschema alone costs seconds; it only explains the bad ones."""
    return (
        type(row) is dict
        and row.keys() <= UNIT_FIELDS.keys()
        and {"layer", "unit", "group"} <= row.keys()
        and all(type(value) in UNIT_FIELDS[key] for key, value in row.items())
        and row["unit"] >= 0
        and len(row.get("note", "")) <= text_limits.NOTE
    )


def _read_json(content):
    try:
        document = json.loads(content)
    except ValueError as error:
        raise _malformed(f"Not JSON: {error}.") from error
    except RecursionError:
        raise _malformed(f"Not JSON: nested deeper than {MAX_JSON_DEPTH} levels.") from None
    try:
        # Escaped NULs (\u0000) and runaway nesting, refused as in any API body.
        check_text_tree(document)
    except ValidationFailed as refusal:
        raise Unprocessable(
            f"Malformed file: {refusal.detail} Nothing was imported.",
            code="import_invalid",
            fields=refusal.fields,
        ) from None
    problems = Problems()
    validator, unit_validator = _schema_validators()
    units = document.get("units") if isinstance(document, dict) else None
    if isinstance(units, list):
        document = {**document, "units": []}
    for error in validator.iter_errors(document):
        where = ".".join(str(part) for part in error.absolute_path) or "file"
        problems.add(where, error.message)
    for position, row in enumerate(units if isinstance(units, list) else []):
        if _plainly_valid_unit(row):
            continue
        for error in unit_validator.iter_errors(row):
            path = ".".join(["units", str(position), *map(str, error.absolute_path)])
            problems.add(path, error.message)
    if isinstance(units, list):
        document["units"] = units
    problems.raise_if_any("The file")
    plan = ImportFile(format="json", network=document["network"], problems=problems)
    _json_groups(document["groups"], plan, problems)
    # Without its groups the rest cannot be checked: these problems are reported first.
    problems.raise_if_any("The file")
    for position, row in enumerate(document["units"]):
        where = f"units.{position}"
        group = row["group"]
        if group is not None and group not in plan.group_paths_by_id:
            problems.add(where, f"Group {group} is not among the file's groups.")
            continue
        plan.units.append(
            UnitSpec(
                where=where,
                layer=row["layer"],
                index=row["unit"],
                group=None if group is None else plan.group_paths_by_id[group],
                note=row.get("note", ""),
                assigned_by=row.get("assigned_by"),
            )
        )
    for position, hypothesis in enumerate(document["hypotheses"]):
        for name in ("group", "proposed_group"):
            value = hypothesis.get(name)
            if value is not None and value not in plan.group_paths_by_id:
                problems.add(
                    f"hypotheses.{position}.{name}",
                    f"Group {value} is not among the file's groups.",
                )
        plan.hypotheses.append({**hypothesis, "where": f"hypotheses.{position}"})
    plan.circuits = document.get("circuits", [])
    plan.links = document.get("links", [])
    return plan


def _json_groups(groups, plan, problems):
    by_id = {}
    for position, group in enumerate(groups):
        where = f"groups.{position}"
        if group["id"] in by_id:
            problems.add(where, f"Group id {group['id']} is used twice.")
            continue
        by_id[group["id"]] = (where, group)
    paths = {}

    def path_of(group_id, seen):
        if group_id in paths:
            return paths[group_id]
        where, group = by_id[group_id]
        parent = group["parent"]
        if parent is None:
            path = (group["name"].strip(),)
        elif parent not in by_id:
            problems.add(where, f"Parent {parent} is not among the file's groups.")
            path = None
        elif parent in seen:
            problems.add(where, f"{group['name']!r} is inside itself (a cycle of parents).")
            path = None
        else:
            above = path_of(parent, seen | {group_id})
            path = None if above is None else (*above, group["name"].strip())
        paths[group_id] = path
        return path

    taken = {}
    for group_id, (where, group) in by_id.items():
        path = path_of(group_id, {group_id})
        if path is None:
            continue
        if not path[-1]:
            problems.add(where, "A group needs a name.")
            continue
        if list(path) != [name.strip() for name in group["path"]]:
            problems.add(
                where,
                f"path {group['path']!r} does not match the parents, which give {list(path)!r}.",
            )
            continue
        if path in taken:
            problems.add(
                where,
                f"Two groups named {path[-1]!r} under the same parent ({taken[path]} and "
                f"{where}): the names collide.",
            )
            continue
        if not is_color(group["color"]):
            problems.add(where, f"color {group['color']!r} is not written #rrggbb.")
            continue
        taken[path] = where
        plan.group_paths_by_id[group_id] = path
        plan.groups.append(
            GroupSpec(
                path=path,
                where=where,
                description=group["description"],
                color=group["color"].lower(),
                order=group["order"],
                layer=group["layer"],
                doc_id=group_id,
            )
        )


def _read_csv(content):
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise _malformed("The file is empty.") from None
    except csv.Error as error:
        raise _malformed(f"Not CSV: {error}.") from error
    header = [name.strip().lower() for name in header]
    if "group_path" in header:
        columns = _columns(header, EXPORT_CSV_REQUIRED, ("status", "changed_by", "changed_at"))
        return _read_rows(reader, columns, _export_row, "csv")
    columns = _columns(header, SIMPLE_CSV_COLUMNS[:3], SIMPLE_CSV_COLUMNS[3:])
    return _read_rows(reader, columns, _simple_row, "csv")


def _columns(header, required, optional):
    missing = [name for name in required if name not in header]
    if missing or len(set(header)) != len(header):
        raise Unprocessable(
            "The CSV header must be `layer,unit,group[,parent_group,description]` (the simple "
            "CSV) or that of the CSV export (`network,layer,unit,group_path,...`); nothing was "
            "imported.",
            code="import_invalid",
            fields={"rows.1": [f"Header {','.join(header)!r} lacks {', '.join(missing)}."]}
            if missing
            else {"rows.1": ["A column is named twice."]},
        )
    return {name: header.index(name) for name in (*required, *optional) if name in header}


def _read_rows(reader, columns, read_row, format):
    plan = ImportFile(format=format)
    problems = plan.problems
    rows = []
    width = max(columns.values()) + 1
    try:
        for line, values in enumerate(reader, start=2):
            if not any(value.strip() for value in values):
                continue
            where = f"rows.{line}"
            if len(values) < width:
                problems.add(where, f"Line {line} has {len(values)} columns, not {width}.")
                continue
            row = {name: csv_text(values[position]).strip() for name, position in columns.items()}
            index = row["unit"]
            if not index.isdigit():
                problems.add(where, f"Line {line}: unit {index!r} is not a unit index.")
                continue
            rows.append((where, line, row))
    except csv.Error as error:
        raise _malformed(f"Not CSV: {error}.") from error
    read_row(rows, plan, problems)
    return plan


def _export_row(rows, plan, problems):
    """The CSV export read back: ``group_path`` names the group from the root (empty: none)."""
    networks = set()
    paths = {}
    for where, line, row in rows:
        networks.add(row["network"])
        path = None
        if row["group_path"]:
            path = path_names(row["group_path"])
            if not all(path):
                problems.add(where, f"Line {line}: group_path {row['group_path']!r} has a blank.")
                continue
            if max(map(len, path)) > GROUP_NAME_LENGTH:
                problems.add(
                    where,
                    f"Line {line}: a group name is longer than {GROUP_NAME_LENGTH} characters.",
                )
                continue
            for depth in range(1, len(path) + 1):
                paths.setdefault(path[:depth], where)
        plan.units.append(
            UnitSpec(
                where=where,
                layer=row["layer"],
                index=int(row["unit"]),
                group=path,
                assigned_by=(row.get("changed_by") or None) if "changed_by" in row else KEEP,
            )
        )
    if len(networks) > 1:
        problems.add("network", f"The file mixes networks: {', '.join(sorted(networks))}.")
    plan.network = {"name": networks.pop()} if len(networks) == 1 else None
    plan.groups = [GroupSpec(path=path, where=where) for path, where in paths.items()]
    plan.network_rows = {where: row["network"] for where, _, row in rows}


def _simple_row(rows, plan, problems):
    """The simple CSV: a group by its path, ``parent_group / group`` (either may itself be a
    path, names between ` / `); paths are worked out against the file itself first and the
    project's groups later (see ``ImportChanges._resolve_simple_groups``)."""
    for where, line, row in rows:
        group, parent = row["group"], row.get("parent_group", "")
        description = row.get("description", "")
        if not group:
            problems.add(where, f"Line {line}: the group is empty.")
            continue
        if group == parent:
            problems.add(where, f"Line {line}: {group!r} cannot be its own parent.")
            continue
        names = (path_names(parent) if parent else ()) + path_names(group)
        if not all(names):
            column = "group" if not all(path_names(group)) else "parent_group"
            problems.add(
                where,
                f"Line {line}: {column} {row[column]!r} has an empty name between ` / ` "
                "(a slash inside a name is written \\/).",
            )
            continue
        if max(map(len, names)) > GROUP_NAME_LENGTH:
            problems.add(
                where, f"Line {line}: a group name is longer than {GROUP_NAME_LENGTH} characters."
            )
            continue
        if len(description) > text_limits.DESCRIPTION:
            problems.add(
                where,
                f"Line {line}: the description is longer than {text_limits.DESCRIPTION} "
                "characters.",
            )
            continue
        plan.simple_rows.append(SimpleRow(where, line, names, description))
        plan.units.append(
            UnitSpec(where=where, layer=row["layer"], index=int(row["unit"]), group=names)
        )
    plan.format = "simple_csv"
