from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.serializers import (
    MeOutputSerializer,
    TokenObtainInputSerializer,
    TokenOutputSerializer,
)
from annotations.api.throttles import CredentialsRateThrottle
from annotations.selectors.projects import user_memberships
from annotations.services.accounts import token_issue, token_revoke
from server.schema import ERROR


class TokenView(APIView):
    """Trade a username and password for an API token, or revoke your token."""

    def get_permissions(self):
        if self.request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    def get_throttles(self):
        if self.request.method == "POST":
            return [CredentialsRateThrottle()]
        return []

    @extend_schema(
        operation_id="auth_token_obtain",
        request=TokenObtainInputSerializer,
        responses={200: TokenOutputSerializer, 400: ERROR, 429: ERROR},
        description="Your API token, created on first use. Send it as "
        "`Authorization: Token <token>`. Attempts are rate-limited per client address.",
    )
    def post(self, request):
        serializer = TokenObtainInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = token_issue(**serializer.validated_data)
        return Response(TokenOutputSerializer(token).data)

    @extend_schema(
        operation_id="auth_token_revoke",
        request=None,
        responses={204: None, 401: ERROR},
        description="Revoke your API token; the next POST issues a new one.",
    )
    def delete(self, request):
        token_revoke(actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(
        operation_id="auth_me",
        responses={200: MeOutputSerializer, 401: ERROR},
        description="The signed-in user and the projects they belong to.",
    )
    def get(self, request):
        memberships = user_memberships(user=request.user)
        return Response(MeOutputSerializer({"user": request.user, "memberships": memberships}).data)
