"""Search documents stored and indexed on PostgreSQL (bench/API.md: 2.5 s for a word in every
comment, each comment's ``to_tsvector`` computed twice per search with no index).

Each searched table gets ``search_vector``, a generated ``tsvector`` of its searched fields (the
document ``SearchVector(*fields, config="english")`` used to compute per query), and a GIN
index on it. PostgreSQL only, and unknown to the models: SQLite searches by substring and has
neither, and no model instance ever loads the vector. The searched fields are listed in
``annotations.selectors.search.FIELDS``; changing one needs a migration like this one.
"""

from django.db import migrations

# table -> the searched columns, as annotations.selectors.search.FIELDS names them.
DOCUMENTS = {
    "annotations_group": ("name", "description"),
    "annotations_hypothesis": ("title", "text"),
    "annotations_comment": ("body",),
    "annotations_assignment": ("note",),
    "annotations_circuit": ("name", "description"),
}


def _document(columns):
    text = " || ' ' || ".join(f"coalesce({column}, '')" for column in columns)
    return f"to_tsvector('english'::regconfig, {text})"


def add_search_vectors(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in DOCUMENTS.items():
        schema_editor.execute(
            f"ALTER TABLE {table} ADD COLUMN search_vector tsvector "
            f"GENERATED ALWAYS AS ({_document(columns)}) STORED"
        )
        schema_editor.execute(
            f"CREATE INDEX {table}_search ON {table} USING gin (search_vector)"
        )


def remove_search_vectors(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in DOCUMENTS:
        schema_editor.execute(f"ALTER TABLE {table} DROP COLUMN search_vector")


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0015_notification_review_request"),
    ]

    operations = [migrations.RunPython(add_search_vectors, remove_search_vectors)]
