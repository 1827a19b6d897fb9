"""The caller's own API token: see whether there is one, replace it, revoke it (docs/reporting.md).

Replacing needs a browser session (a read-only token cannot make tokens); revoking works with the token
itself too, since it only takes access away.
"""

from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from reporting import services

TAGS = ["reporting"]


class TokenStatusOut(serializers.Serializer):
    exists = serializers.BooleanField()
    hint = serializers.CharField(allow_blank=True, help_text="Last four characters of the token")
    created_at = serializers.DateTimeField(allow_null=True)


class NewTokenOut(serializers.Serializer):
    key = serializers.CharField(help_text="The new token: shown once. Send it as 'Authorization: Token <key>'.")
    created_at = serializers.DateTimeField()


class ApiToken(APIView):
    token_may_write = True  # DELETE only takes access away

    @extend_schema(tags=TAGS, responses=TokenStatusOut)
    def get(self, request):
        """Whether the caller has an API token (never the token itself)."""
        return Response(TokenStatusOut(services.api_token_status(request.user)).data)

    @extend_schema(tags=TAGS, responses={204: OpenApiResponse(description="Revoked (or there was none)")})
    def delete(self, request):
        """Revoke the caller's API token: it stops working at once."""
        services.api_token_revoke(user=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ApiTokenRotate(APIView):
    @extend_schema(tags=TAGS, request=None, responses={201: NewTokenOut})
    def post(self, request):
        """Make a new API token for the caller, replacing the old one (browser session only)."""
        if isinstance(request.successful_authenticator, TokenAuthentication):
            raise PermissionDenied("Replace a token from the browser; a token cannot make tokens.")
        token = services.api_token_rotate(user=request.user, request=request)
        return Response(NewTokenOut({"key": token.key, "created_at": token.created or timezone.now()}).data,
                        status=status.HTTP_201_CREATED)


urlpatterns = [
    path("token/", ApiToken.as_view(), name="api-token"),
    path("token/rotate/", ApiTokenRotate.as_view(), name="api-token-rotate"),
]
