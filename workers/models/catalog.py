"""The catalog: networks under study, their layers and their units."""

from django.conf import settings
from django.db import models

from workers.addresses import UnitAddress


class Network(models.Model):
    class Source(models.TextChoices):
        BUILTIN = "builtin", "built-in architecture"
        TORCHSCRIPT = "torchscript", "TorchScript file"

    class Status(models.TextChoices):
        # A worker's inspect_network job is measuring its layers; it has no layers yet.
        INSPECTING = "inspecting"
        READY = "ready"
        # The inspection failed (its job says why); registering the name again replaces it.
        FAILED = "failed"

    name = models.SlugField(max_length=100, unique=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    arch = models.CharField(max_length=40, blank=True)
    # Storage name of the weights or TorchScript file; "bundled:<arch>" for weights that ship
    # with a package; empty for an untrained (random) network.
    weights = models.CharField(max_length=300, blank=True)
    weights_sha256 = models.CharField(max_length=64, blank=True)
    random_seed = models.IntegerField(null=True, blank=True)
    input_size = models.PositiveIntegerField(default=224)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.READY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def is_random(self):
        return self.source == self.Source.BUILTIN and not self.weights


class Layer(models.Model):
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="layers")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=40)
    order = models.PositiveIntegerField()
    channels = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    receptive_field = models.PositiveIntegerField(null=True, blank=True)
    stride = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["network_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["network", "name"], name="layer_unique_name"),
            models.UniqueConstraint(fields=["network", "order"], name="layer_unique_order"),
        ]

    def __str__(self):
        return f"{self.network.name}/{self.name}"


class Unit(models.Model):
    network = models.ForeignKey(Network, on_delete=models.CASCADE, related_name="units")
    layer = models.ForeignKey(Layer, on_delete=models.CASCADE, related_name="units")
    index = models.PositiveIntegerField()

    class Meta:
        ordering = ["layer_id", "index"]
        constraints = [
            models.UniqueConstraint(fields=["layer", "index"], name="unit_unique_index"),
        ]

    def __str__(self):
        return str(self.address)

    @property
    def address(self):
        return UnitAddress.of(self)


class Dataset(models.Model):
    """A local folder of images that dataset-example jobs read (``demo`` is built in).

    Who may use it is the access policy's answer (``workers.access.datasets_visible_to``): a
    public dataset every signed-in user, another the members of the projects it belongs to.
    """

    name = models.SlugField(max_length=100, unique=True)
    path = models.CharField(max_length=500)
    image_count = models.PositiveIntegerField(default=0)
    description = models.TextField(blank=True)
    public = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
