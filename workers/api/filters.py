import django_filters

from server.filters import IntegerFilter
from workers.models import Job, Unit


class UnitFilter(django_filters.FilterSet):
    layer = django_filters.CharFilter(field_name="layer__name", help_text="Layer name.")
    index = IntegerFilter(field_name="index")
    index_min = IntegerFilter(field_name="index", lookup_expr="gte")
    index_max = IntegerFilter(field_name="index", lookup_expr="lte")

    class Meta:
        model = Unit
        fields = ["layer", "index"]


class JobFilter(django_filters.FilterSet):
    network = django_filters.CharFilter(field_name="network__name", help_text="Network name.")
    layer = django_filters.CharFilter(field_name="layer__name")

    class Meta:
        model = Job
        fields = ["status", "kind", "network", "layer"]
