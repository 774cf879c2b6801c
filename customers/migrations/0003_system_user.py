"""The system account that management commands act as unless told --actor.

A superuser (so commands such as create_customer pass RLS) that cannot sign in: inactive,
with an unusable password.
"""

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import migrations


def create_system_user(apps, schema_editor):
    User = apps.get_model("customers", "User")
    User.objects.get_or_create(
        username=settings.ATLAS_SYSTEM_USERNAME,
        defaults={
            "is_superuser": True,
            "is_staff": False,
            "is_active": False,
            "password": make_password(None),
            "first_name": "qlik_atlas",
            "last_name": "system",
        },
    )


def delete_system_user(apps, schema_editor):
    apps.get_model("customers", "User").objects.filter(username=settings.ATLAS_SYSTEM_USERNAME).delete()


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_row_level_security")]

    operations = [migrations.RunPython(create_system_user, delete_system_user)]
