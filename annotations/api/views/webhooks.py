from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.serializers_webhooks import (
    DeliveryOutputSerializer,
    EmailPreferenceInputSerializer,
    EmailPreferenceOutputSerializer,
    WebhookCreatedOutputSerializer,
    WebhookCreateInputSerializer,
    WebhookOutputSerializer,
    WebhookUpdateInputSerializer,
)
from annotations.api.views.base import ProjectView
from annotations.models import EmailPreference
from annotations.selectors.webhooks import (
    deliveries_of,
    delivery_get,
    email_mode_of,
    webhook_get,
    webhooks_of,
)
from annotations.services.emails import email_preference_set
from annotations.services.webhooks import (
    webhook_create,
    webhook_delete,
    webhook_redeliver,
    webhook_update,
)
from server.pagination import AtlasPagination
from server.schema import ERROR

OWNER_ERRORS = {401: ERROR, 403: ERROR, 404: ERROR}


class WebhookListView(ProjectView):
    project_action = "webhook.manage"
    pagination_class = AtlasPagination

    @extend_schema(
        operation_id="projects_webhooks_list",
        responses={200: WebhookOutputSerializer(many=True), **OWNER_ERRORS},
        description="The project's webhooks (never their secrets). Owners only.",
    )
    def get(self, request, slug):
        return self.page_response(webhooks_of(project=self.project), WebhookOutputSerializer)

    @extend_schema(
        operation_id="projects_webhooks_create",
        request=WebhookCreateInputSerializer,
        responses={201: WebhookCreatedOutputSerializer, 400: ERROR, **OWNER_ERRORS},
        description="Register a URL for some event types. The answer holds the signing "
        "secret, shown this once. Owners only.",
    )
    def post(self, request, slug):
        payload = WebhookCreateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        webhook = webhook_create(project=self.project, **payload.validated_data, actor=request.user)
        return Response(
            WebhookCreatedOutputSerializer(webhook).data, status=status.HTTP_201_CREATED
        )


class WebhookDetailView(ProjectView):
    project_action = "webhook.manage"

    @extend_schema(
        operation_id="projects_webhooks_retrieve",
        responses={200: WebhookOutputSerializer, **OWNER_ERRORS},
        description="One webhook. Owners only.",
    )
    def get(self, request, slug, webhook_id):
        webhook = webhook_get(project=self.project, webhook_id=webhook_id)
        return Response(WebhookOutputSerializer(webhook).data)

    @extend_schema(
        operation_id="projects_webhooks_update",
        request=WebhookUpdateInputSerializer,
        responses={200: WebhookOutputSerializer, 400: ERROR, **OWNER_ERRORS},
        description="Change a webhook's URL, event types or active flag (what is left out "
        "stays). Owners only.",
    )
    def patch(self, request, slug, webhook_id):
        webhook = webhook_get(project=self.project, webhook_id=webhook_id)
        payload = WebhookUpdateInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        webhook = webhook_update(webhook=webhook, **payload.validated_data, actor=request.user)
        return Response(WebhookOutputSerializer(webhook).data)

    @extend_schema(
        operation_id="projects_webhooks_destroy",
        responses={204: None, **OWNER_ERRORS},
        description="Remove a webhook and its delivery log. Owners only.",
    )
    def delete(self, request, slug, webhook_id):
        webhook = webhook_get(project=self.project, webhook_id=webhook_id)
        webhook_delete(webhook=webhook, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryListView(ProjectView):
    project_action = "webhook.manage"
    pagination_class = AtlasPagination

    @extend_schema(
        operation_id="projects_webhooks_deliveries_list",
        responses={200: DeliveryOutputSerializer(many=True), **OWNER_ERRORS},
        description="The webhook's deliveries, newest first: status, attempts, the last "
        "answer or error, timings, and the body sent. Owners only.",
    )
    def get(self, request, slug, webhook_id):
        webhook = webhook_get(project=self.project, webhook_id=webhook_id)
        return self.page_response(deliveries_of(webhook=webhook), DeliveryOutputSerializer)


class RedeliverView(ProjectView):
    project_action = "webhook.manage"

    @extend_schema(
        operation_id="projects_webhooks_deliveries_redeliver",
        request=None,
        responses={202: DeliveryOutputSerializer, **OWNER_ERRORS},
        description="Send a delivery's event again, as a new delivery with the same body "
        "(same event id). Owners only.",
    )
    def post(self, request, slug, webhook_id, delivery_id):
        webhook = webhook_get(project=self.project, webhook_id=webhook_id)
        delivery = delivery_get(webhook=webhook, delivery_id=delivery_id)
        again = webhook_redeliver(delivery=delivery, actor=request.user)
        return Response(DeliveryOutputSerializer(again).data, status=status.HTTP_202_ACCEPTED)


class EmailPreferenceView(APIView):
    @extend_schema(
        operation_id="auth_me_notifications_retrieve",
        responses={200: EmailPreferenceOutputSerializer, 401: ERROR},
        description=(
            "How you hear of mentions, reviews of your hypotheses and requests to review by e-mail."
        ),
    )
    def get(self, request):
        return Response(self._render(request.user, email_mode_of(user=request.user)))

    @extend_schema(
        operation_id="auth_me_notifications_update",
        request=EmailPreferenceInputSerializer,
        responses={200: EmailPreferenceOutputSerializer, 400: ERROR, 401: ERROR},
        description="Choose off, immediate (one e-mail per notification) or daily (one "
        "digest a day). Needs an e-mail address on your account unless off.",
    )
    def put(self, request):
        payload = EmailPreferenceInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        preference = email_preference_set(
            user=request.user, mode=payload.validated_data["mode"], actor=request.user
        )
        return Response(self._render(request.user, preference.mode))

    def _render(self, user, mode):
        return EmailPreferenceOutputSerializer(
            {"mode": mode, "kinds": list(EmailPreference.KINDS), "address": user.email}
        ).data
