import factory

from workers.models import Job, Layer, Network, Unit


class NetworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Network

    name = factory.Sequence(lambda n: f"net-{n}")
    source = Network.Source.BUILTIN
    arch = "mobilenet_v2"
    random_seed = 0
    input_size = 224


class LayerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Layer
        skip_postgeneration_save = True

    network = factory.SubFactory(NetworkFactory)
    name = factory.Sequence(lambda n: f"layer{n}")
    kind = "conv"
    order = factory.Sequence(lambda n: n)
    channels = 4
    height = 8
    width = 8
    receptive_field = 3
    stride = 2

    @factory.post_generation
    def with_units(layer, create, extracted, **kwargs):
        if create and extracted is not False:
            Unit.objects.bulk_create(
                Unit(network=layer.network, layer=layer, index=i) for i in range(layer.channels)
            )


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    kind = "first_layer_weights"
    layer = factory.SubFactory(LayerFactory)
    network = factory.SelfAttribute("layer.network")
    params = factory.LazyFunction(lambda: {"pixels_per_weight": 8, "normalize": "unit"})
    params_hash = factory.Sequence(lambda n: f"{n:064x}")
    request_hash = factory.Sequence(lambda n: f"{n:064x}")
    max_attempts = 3
