# Response-topic hijack fix (issue 13): anonymous ownership and claimable subscriptions

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dasfbroker", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="topic",
            name="owned_by_anonymous",
            field=models.BooleanField(
                default=False,
                help_text="Created by an anonymous caller. Only a response topic's anonymous "
                "owner gets rights from it; a missing owner never matches anyone.",
            ),
        ),
        migrations.AddField(
            model_name="topic",
            name="claimable_until",
            field=models.DateTimeField(
                blank=True,
                null=True,
                help_text="Created by a subscription before its request topic existed: until "
                "then, its creator's first request may make it that request's response topic.",
            ),
        ),
    ]
