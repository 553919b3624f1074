import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.serializers_comments import (
    MarkReadInputSerializer,
    MarkReadOutputSerializer,
    NotificationOutputSerializer,
    UnreadCountOutputSerializer,
)
from annotations.models import Notification
from annotations.selectors.notifications import (
    notifications_for_user,
    notifications_unread_count,
)
from annotations.services.notifications import notifications_mark_read
from server.filters import StrictBooleanFilter
from server.schema import ERROR


class NotificationFilter(django_filters.FilterSet):
    unread = StrictBooleanFilter(
        field_name="read_at",
        lookup_expr="isnull",
        help_text="true: only unread notifications; false: only read ones.",
    )

    class Meta:
        model = Notification
        fields = ["unread", "kind"]


class NotificationListView(GenericAPIView):
    serializer_class = NotificationOutputSerializer
    filterset_class = NotificationFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return notifications_for_user(user=self.request.user)

    @extend_schema(
        operation_id="notifications_list",
        responses={200: NotificationOutputSerializer(many=True), 400: ERROR, 401: ERROR},
        description="Your notifications, newest first.",
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(NotificationOutputSerializer(page, many=True).data)


class NotificationUnreadCountView(APIView):
    @extend_schema(
        operation_id="notifications_unread_count",
        responses={200: UnreadCountOutputSerializer, 401: ERROR},
        description="How many of your notifications are unread.",
    )
    def get(self, request):
        count = notifications_unread_count(user=request.user)
        return Response(UnreadCountOutputSerializer({"count": count}).data)


class NotificationMarkReadView(APIView):
    @extend_schema(
        operation_id="notifications_mark_read",
        request=MarkReadInputSerializer,
        responses={200: MarkReadOutputSerializer, 400: ERROR, 401: ERROR},
        description="Mark some (`ids`) or all (`all: true`) of your notifications read. Ids "
        "that are not yours, or already read, are left alone and not counted.",
    )
    def post(self, request):
        payload = MarkReadInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        ids = None if payload.validated_data["all"] else payload.validated_data.get("ids", [])
        marked = notifications_mark_read(recipient=request.user, ids=ids)
        return Response(MarkReadOutputSerializer({"marked": marked}).data)
