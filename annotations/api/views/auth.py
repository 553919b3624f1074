from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.api.serializers import MeOutputSerializer
from annotations.api.serializers_tokens import (
    IssuedTokenOutputSerializer,
    SignInInputSerializer,
    TokenCreateInputSerializer,
    TokenOutputSerializer,
)
from annotations.api.throttles import CredentialsRateThrottle
from annotations.models import ApiToken
from annotations.selectors.projects import user_memberships
from annotations.selectors.tokens import token_get_for_user, tokens_of
from annotations.services.tokens import token_create, token_issue, token_revoke
from server.errors import ValidationFailed
from server.pagination import AtlasPagination
from server.schema import ERROR


class TokenView(APIView):
    """Trade a username and password for a new API token, or revoke the token you send."""

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
        request=SignInInputSerializer,
        responses={200: IssuedTokenOutputSerializer, 400: ERROR, 409: ERROR, 429: ERROR},
        description="A new API token, shown only in this response (the server keeps a hash). "
        "Send it as `Authorization: Token <token>`; it expires after `expires_in_days`. "
        "Attempts are rate-limited per client address.",
    )
    def post(self, request):
        serializer = SignInInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = token_issue(**serializer.validated_data)
        return Response(IssuedTokenOutputSerializer(issued).data)

    @extend_schema(
        operation_id="auth_token_revoke",
        request=None,
        responses={204: None, 400: ERROR, 401: ERROR},
        description="Revoke the API token this request carries (400 when signed in by a "
        "session: revoke tokens by id at `auth/tokens/{id}/`).",
    )
    def delete(self, request):
        if not isinstance(request.auth, ApiToken):
            raise ValidationFailed(
                "This request carries no API token; revoke one by id at auth/tokens/{id}/.",
                code="no_token",
            )
        token_revoke(token=request.auth, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenListView(APIView):
    pagination_class = AtlasPagination

    @extend_schema(
        operation_id="auth_tokens_list",
        responses={200: TokenOutputSerializer(many=True), 401: ERROR},
        description="Your API tokens that have not expired, newest first; never their secrets.",
    )
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(tokens_of(user=request.user), request, self)
        return paginator.get_paginated_response(TokenOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="auth_tokens_create",
        request=TokenCreateInputSerializer,
        responses={201: IssuedTokenOutputSerializer, 400: ERROR, 401: ERROR, 409: ERROR},
        description="Create a named API token for yourself (a notebook, a CI job); the secret "
        "is shown only in this response. 409 `too_many_tokens` past 100 live tokens.",
    )
    def post(self, request):
        serializer = TokenCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        issued = token_create(actor=request.user, **serializer.validated_data)
        return Response(IssuedTokenOutputSerializer(issued).data, status=status.HTTP_201_CREATED)


class TokenDetailView(APIView):
    @extend_schema(
        operation_id="auth_tokens_revoke",
        responses={204: None, 401: ERROR, 404: ERROR},
        description="Revoke one of your API tokens; another user's token is a 404.",
    )
    def delete(self, request, token_id):
        token = token_get_for_user(user=request.user, token_id=token_id)
        token_revoke(token=token, actor=request.user)
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
