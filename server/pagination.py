from django.db.models import Count, Window
from rest_framework.pagination import PageNumberPagination

from server.errors import ValidationFailed

# The largest offset read with the count in one statement (as the grid's); a page number past
# it is answered by the count alone (404).
MAX_OFFSET = 2**31 - 1


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


class CountedRows:
    """An ordered ``values()`` queryset as a sequence a paginator counts and slices. Told the
    page to come (``expect_page``), ``count()`` reads that page and the total in one statement
    (a window count, ``page_total`` in each row) and the slice is served from it: one round
    trip fewer for every list page. Without the hint, or past the last page, counting is a
    query of its own."""

    ordered = True

    def __init__(self, rows):
        self.rows = rows
        self._expected = None
        self._read = None

    def expect_page(self, *, offset, limit):
        self._expected = (offset, limit)

    def count(self):
        if self._expected is not None:
            offset, limit = self._expected
            page = self.rows.annotate(page_total=Window(Count("pk")))
            rows = list(page[offset : offset + limit])
            if rows:
                self._read = (offset, rows)
                return rows[0]["page_total"]
        return self.rows.count()

    def __len__(self):
        return self.count()

    def __getitem__(self, page):
        if not isinstance(page, slice):
            raise TypeError("CountedRows only hands out slices (pages).")
        # The paginator asks for [offset:offset + limit], or up to the total on the last page:
        # the same rows either way.
        if self._read is not None and page.start == self._read[0]:
            return self._read[1]
        return list(self.rows[page])


class CountedPagination(AtlasPagination):
    """Pages of ``CountedRows``: the page asked for by number (one a database can take as an
    offset) is read with the total in one statement."""

    def paginate_queryset(self, queryset, request, view=None):
        number = request.query_params.get(self.page_query_param, "1")
        page_size = self.get_page_size(request)
        if number.isdecimal() and 0 < int(number) <= MAX_OFFSET // page_size:
            queryset.expect_page(offset=(int(number) - 1) * page_size, limit=page_size)
        return super().paginate_queryset(queryset, request, view)
