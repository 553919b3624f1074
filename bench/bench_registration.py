"""Registering MobileNetV2: the real service (bulk rows) against one ``save()`` per row.

Both sides load the network with the engine and create the Network, its 52 Layer and its
17,056 Unit rows inside one transaction, on the configured database (a throwaway copy of it).
Engine load and row creation are timed apart; the headline ratio is the row-creation one.
"""

import argparse
import shutil
import sys
from unittest import mock

import measure

ARCH = "mobilenet_v2"


def _timed(function, record):
    """``function`` with the seconds of every call appended to ``record``."""

    def timed(*args, **kwargs):
        with measure.stopwatch(record):
            return function(*args, **kwargs)

    return timed


def register_with_service(name, phases):
    """One registration through ``network_register``, its phases timed from the outside."""
    from django.db import connection

    from workers.engine import networks as engine_networks
    from workers.services import networks as network_services

    load, rows, total = [], [], []
    counter = measure.QueryCounter()
    with (
        mock.patch.object(
            engine_networks, "load_builtin", _timed(engine_networks.load_builtin, load)
        ),
        mock.patch.object(
            network_services, "_create_rows", _timed(network_services._create_rows, rows)
        ),
        connection.execute_wrapper(counter),
        measure.stopwatch(total),
    ):
        network = network_services.network_register(name=name, arch=ARCH, bundled_weights=True)
    phases["total"].append(total[0])
    phases["engine_load"].extend(load)
    phases["rows"].extend(rows)
    phases["validation_and_hash"].append(total[0] - load[0] - rows[0])
    phases["queries"].append(counter.count)
    return network


def register_naively(name, sha256, phases):
    """The same rows as the service, each with its own INSERT, still in one transaction."""
    from django.db import connection, transaction

    from workers.engine import networks as engine_networks
    from workers.models import Layer, Network, Unit
    from workers.services.networks import BUNDLED_PREFIX

    load, rows = [], []
    counter = measure.QueryCounter()
    with connection.execute_wrapper(counter):
        with measure.stopwatch(load):
            loaded = engine_networks.load_builtin(
                ARCH, weights_path=engine_networks.bundled_weights_path(ARCH)
            )
        with measure.stopwatch(rows), transaction.atomic():
            network = Network.objects.create(
                name=name,
                source=Network.Source.BUILTIN,
                arch=ARCH,
                weights=BUNDLED_PREFIX + ARCH,
                weights_sha256=sha256,
                input_size=loaded.input_size,
            )
            for info in loaded.layers:
                layer = Layer(
                    network=network,
                    name=info.name,
                    kind=info.kind,
                    order=info.order,
                    channels=info.channels,
                    height=info.height,
                    width=info.width,
                    receptive_field=info.receptive_field,
                    stride=info.stride,
                )
                layer.save()
                for index in range(info.channels):
                    Unit(network=network, layer=layer, index=index).save()
    phases["total"].append(load[0] + rows[0])
    phases["engine_load"].append(load[0])
    phases["rows"].append(rows[0])
    phases["queries"].append(counter.count)
    return network


def _catalog_rows(network):
    """(layer name, order, channels, unit index) of every unit, to compare both sides."""
    from workers.models import Unit

    return sorted(
        Unit.objects.filter(network=network).values_list(
            "layer__name", "layer__order", "layer__channels", "index"
        )
    )


def _delete(network):
    from workers.models import Network

    Network.objects.filter(pk=network.pk).delete()


def _phase_summaries(phases):
    queries = set(phases.pop("queries"))
    result = {key: measure.summary(samples) for key, samples in phases.items()}
    result["queries"] = queries.pop() if len(queries) == 1 else sorted(queries)
    return result


def run(repeats):
    from workers.engine import networks as engine_networks
    from workers.storage import sha256_file

    sha256 = sha256_file(engine_networks.bundled_weights_path(ARCH))
    candidate = {key: [] for key in ("total", "engine_load", "rows", "validation_and_hash")}
    candidate["queries"] = []
    baseline = {key: [] for key in ("total", "engine_load", "rows")}
    baseline["queries"] = []

    measure.log("registration: warm-up")
    _delete(register_with_service("bench-warmup", {key: [] for key in candidate}))

    same_rows = None
    units = layers = 0
    for round_number in range(repeats):
        measure.log(f"registration: round {round_number + 1} of {repeats}")
        # Alternate who goes first so that drift on a shared machine hits both sides.
        order = ("candidate", "baseline") if round_number % 2 == 0 else ("baseline", "candidate")
        networks = {}
        for side in order:
            name = f"bench-{side}-{round_number}"
            if side == "candidate":
                networks[side] = register_with_service(name, candidate)
            else:
                networks[side] = register_naively(name, sha256, baseline)
        if same_rows is None:
            service_rows = _catalog_rows(networks["candidate"])
            same_rows = service_rows == _catalog_rows(networks["baseline"])
            units = len(service_rows)
            layers = networks["candidate"].layers.count()
        for network in networks.values():
            _delete(network)

    baseline_result = _phase_summaries(baseline)
    candidate_result = _phase_summaries(candidate)
    return {
        "name": "registration",
        "measured": (
            f"registering {ARCH} with its bundled weights: engine load plus creating the "
            "Network, Layer and Unit rows in one transaction"
        ),
        "units": "seconds per registration",
        "network": {"arch": ARCH, "layers": layers, "units": units},
        "baseline": {
            "label": "engine load, then one Model.save() per Layer and Unit row in one transaction",
            **baseline_result,
        },
        "candidate": {
            "label": "workers.services.networks.network_register (bulk_create)",
            **candidate_result,
        },
        "ratio": measure.ratio(
            baseline_result["rows"]["median"], candidate_result["rows"]["median"]
        ),
        "ratio_of": "rows",
        "ratio_total": measure.ratio(
            baseline_result["total"]["median"], candidate_result["total"]["median"]
        ),
        "ratio_meaning": measure.RATIO_MEANING,
        "same_rows": same_rows,
        "repeats": repeats,
        "machine": measure.machine_facts(database=measure.database_facts()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="rounds, each side once (5)")
    parser.add_argument("--quick", action="store_true", help="one round, for a smoke test")
    args = parser.parse_args(argv)
    repeats = 1 if args.quick else args.repeats
    if repeats < 1:
        parser.error("--repeats must be at least 1")

    var_dir = measure.setup_django()
    try:
        with measure.throwaway_database():
            result = run(repeats)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    measure.emit(result)
    if not result["same_rows"]:
        measure.log("registration: the two sides created different rows")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
