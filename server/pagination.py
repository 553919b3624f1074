from rest_framework.pagination import PageNumberPagination

from server.errors import ValidationFailed


def _positive_int(request, name, maximum=None):
    """The query parameter ``name`` as an integer in ``1..maximum``, None when absent; a 400
    naming the parameter otherwise (a wrong page size is an error, not a silent default).
    Pages keep DRF's answers: a number past the end, or no page number, is a 404."""
    raw = [value for value in request.query_params.getlist(name) if value != ""]
    if not raw:
        return None
    message = f"A whole number from 1 to {maximum}." if maximum else "A whole number from 1."
    if len(raw) > 1:
        raise ValidationFailed(f"{name} is given more than once.", fields={name: [message]})
    try:
        value = int(raw[0])
    except ValueError:
        value = 0
    if value < 1 or (maximum is not None and value > maximum):
        raise ValidationFailed(f"Invalid {name}.", fields={name: [message]})
    return value


class StrictPageSize:
    """A page size that is a whole number in range or a 400, for any DRF paginator."""

    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_size(self, request):
        return _positive_int(request, self.page_size_query_param, self.max_page_size) or (
            self.page_size
        )

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["schema"].get("type") == "integer":
                parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters


class AtlasPagination(StrictPageSize, PageNumberPagination):
    pass
