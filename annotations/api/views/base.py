"""Views under ``/projects/<slug>/``: the project is resolved and authorized once, before the
handler runs, as Sentry's ``ProjectEndpoint.convert_args`` does.

``ProjectScoped`` sets ``self.project`` from the ``slug`` URL argument, authorized for the
request's method: ``project_actions`` maps an HTTP method to the policy action it needs on the
project (as Sentry's ``scope_map``); a method it does not name needs ``project_action``. A
missing project and one the user may not see are the same 404; a member whose role lacks the
action gets 403 (``project_get_for_user``). Methods the view does not handle (405) and OPTIONS
look nothing up.

The classes here carry no docstrings: drf-spectacular would describe every operation without
a description of its own with them.
"""

from rest_framework.generics import GenericAPIView
from rest_framework.views import APIView

from annotations.selectors.projects import project_get_for_user
from server.concurrency import expected_version
from server.pagination import CountedRows


class ProjectScoped:
    project_action = "project.view"
    project_actions: dict[str, str] = {}

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        handler = request.method.lower()
        if handler == "options" or not self._handles(handler):
            return
        method = "GET" if request.method == "HEAD" else request.method
        self.project = project_get_for_user(
            user=request.user,
            slug=kwargs["slug"],
            action=self.project_actions.get(method, self.project_action),
        )

    def _handles(self, handler):
        return handler in self.http_method_names and hasattr(self, handler)

    def page_response(self, items, serializer_class):
        """One page of ``items`` (by the view's ``pagination_class``), each rendered by
        ``serializer_class``."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(items, self.request, self)
        return paginator.get_paginated_response(serializer_class(page, many=True).data)

    def page_data_response(self, rows, row_data):
        """One page of ``rows`` (a ``values()`` queryset; read with its count in one statement
        under ``CountedPagination``), each rendered by ``row_data``: for lists whose serializer
        is only their schema (see ``serializers_taxonomy.group_data``)."""
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(CountedRows(rows), self.request, self)
        return paginator.get_paginated_response([row_data(row) for row in page])


def conditional_input(request, serializer_class):
    """The version a conditional change names in If-Match, then its validated body: a change
    without If-Match is a 428 whatever its body holds."""
    version = expected_version(request)
    payload = serializer_class(data=request.data)
    payload.is_valid(raise_exception=True)
    return version, payload.validated_data


class ProjectView(ProjectScoped, APIView):
    pass


class ProjectGenericView(ProjectScoped, GenericAPIView):
    pass
