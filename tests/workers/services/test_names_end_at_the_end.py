"""Names checked with a ``^…$`` pattern must match the whole text: Python's ``$`` also
matches before a final newline, which would let ``"name\\n"`` into the catalog."""

import pytest

from server.errors import ValidationFailed
from workers.services.datasets import dataset_register
from workers.services.networks import network_register

pytestmark = pytest.mark.django_db


def test_a_network_name_followed_by_a_newline_is_refused():
    with pytest.raises(ValidationFailed) as error:
        network_register(name="net\n", arch="mobilenet_v2", random_seed=0)

    assert list(error.value.fields) == ["name"]


def test_a_dataset_name_followed_by_a_newline_is_refused(tmp_path):
    with pytest.raises(ValidationFailed) as error:
        dataset_register(name="faces\n", path=tmp_path)

    assert list(error.value.fields) == ["name"]
