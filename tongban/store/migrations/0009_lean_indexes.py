"""Lean indexes: fewer index writes per case step.

Every index of a table is written when a row is inserted, and on PostgreSQL also when a
row is updated and any indexed column changes (a step changes state, pending role and
deadline, so its update is never HOT and inserts an entry into every index of store_case).
These indexes were written on every step and read by no query:

- store_case: the single-column indexes Django adds to each foreign key. applicant is
  covered by case_applicant (applicant, -submitted_at); created_by with an idempotency key
  by case_idempotency_unique (the only lookup by created_by); matter and org are never
  filtered on (deleting a matter version, an org or a user, all PROTECTed, now scans).
  handler, parent and bundle are NULL for most cases: partial indexes (where set) serve
  `x = ?` without being written for the others.
- store_event.case_id: covered by event_seq_unique (case, seq).
- store_outbox.case_id and the unique index on delivery_id: nothing looks a message up by
  either; duplicate deliveries are caught by store_delivery.delivery_id (unique).

The foreign-key indexes are dropped by name (introspected) instead of through AlterField,
which on SQLite would copy store_case once per field. Dropping the inline UNIQUE of
store_outbox.delivery_id does rebuild store_outbox on SQLite.
"""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# (model, field) whose single-column foreign-key index goes.
FK_INDEXES = [
    ("case", "applicant"),
    ("case", "bundle"),
    ("case", "created_by"),
    ("case", "handler"),
    ("case", "matter"),
    ("case", "org"),
    ("case", "parent"),
    ("event", "case"),
    ("outbox", "case"),
]


def _drop_fk_indexes(apps, schema_editor):
    for model_name, field_name in FK_INDEXES:
        model = apps.get_model("store", model_name)
        column = model._meta.get_field(field_name).column
        names = schema_editor._constraint_names(
            model, [column], index=True, unique=False, primary_key=False
        )
        for name in names:
            schema_editor.execute(schema_editor._delete_index_sql(model, name))


def _create_fk_indexes(apps, schema_editor):
    for model_name, field_name in FK_INDEXES:
        model = apps.get_model("store", model_name)
        field = model._meta.get_field(field_name)
        schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))


class Migration(migrations.Migration):
    dependencies = [
        ("store", "0008_dispatch"),  # brief: 0007_request_links; see the report
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="applicant",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="bundle",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="cases",
                        to="store.bundle",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="created_by",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="handler",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="matter",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="store.matterversion",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="org",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="store.org",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="parent",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="spawned",
                        to="store.case",
                    ),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="case",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="store.case",
                    ),
                ),
                migrations.AlterField(
                    model_name="outbox",
                    name="case",
                    field=models.ForeignKey(
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="store.case",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunPython(_drop_fk_indexes, _create_fk_indexes),
            ],
        ),
        migrations.AlterField(
            model_name="outbox",
            name="delivery_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("handler__isnull", False)),
                fields=["handler"],
                name="case_handler",
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("parent__isnull", False)), fields=["parent"], name="case_parent"
            ),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("bundle__isnull", False)), fields=["bundle"], name="case_bundle"
            ),
        ),
    ]
