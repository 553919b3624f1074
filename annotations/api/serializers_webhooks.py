"""Webhooks, their deliveries and e-mail preferences in and out: a hook's secret appears only
in the response that registers it."""

import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from annotations.models import EmailPreference, Webhook, WebhookDelivery

EVENT_TYPES = serializers.ListField(
    child=serializers.ChoiceField(choices=Webhook.EventType.choices),
    min_length=1,
    max_length=len(Webhook.EventType.choices),
    help_text="The event types sent to the URL.",
)


# An absolute http(s) URL with no user name or password (checked again, with the hosts this
# deployment refuses, by ``webhook_url_checked``).
URL_PATTERN = r"^https?://[A-Za-z0-9._~%!$&'()*+,;=:\[\]-]+(/[^\s]*)?$"


def _url(**options):
    return serializers.RegexField(
        URL_PATTERN,
        max_length=500,
        help_text="An absolute http:// or https:// URL; redirects are not followed.",
        **options,
    )


class WebhookCreateInputSerializer(serializers.Serializer):
    url = _url()
    event_types = EVENT_TYPES
    active = serializers.BooleanField(default=True)


class WebhookUpdateInputSerializer(serializers.Serializer):
    url = _url(required=False)
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=Webhook.EventType.choices),
        min_length=1,
        max_length=len(Webhook.EventType.choices),
        required=False,
    )
    active = serializers.BooleanField(required=False)


class WebhookOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=Webhook.EventType.choices)
    )
    active = serializers.BooleanField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    created_at = serializers.DateTimeField()


class WebhookCreatedOutputSerializer(WebhookOutputSerializer):
    secret = serializers.CharField(
        help_text="The signing secret, shown in this response only: keep it to verify "
        "`X-Atlas-Signature`."
    )


class DeliveryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_type = serializers.ChoiceField(choices=Webhook.EventType.choices)
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices)
    attempts = serializers.IntegerField()
    response_status = serializers.IntegerField(allow_null=True)
    response_excerpt = serializers.CharField(help_text="The first 500 characters answered.")
    last_error = serializers.CharField()
    duration = serializers.FloatField(allow_null=True, help_text="Seconds the last attempt took.")
    created_at = serializers.DateTimeField()
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    payload = serializers.SerializerMethodField()

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_payload(self, delivery):
        """The JSON body sent."""
        return json.loads(delivery.body)


class EmailPreferenceInputSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=EmailPreference.Mode.choices)


class EmailPreferenceOutputSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(
        choices=EmailPreference.Mode.choices,
        help_text="off: no e-mail; immediate: one e-mail per notification; daily: one digest "
        "a day.",
    )
    kinds = serializers.ListField(
        child=serializers.CharField(), help_text="The notification kinds that are e-mailed."
    )
    address = serializers.CharField(help_text="Your account's e-mail address.")
