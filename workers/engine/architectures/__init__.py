"""Built-in architectures, by the name a network registration uses."""

from workers.engine.architectures.inception_v1 import INCEPTION_V1
from workers.engine.architectures.mobilenet_v2 import MOBILENET_V2
from workers.engine.architectures.spec import Architecture

BUILTIN: dict[str, Architecture] = {arch.name: arch for arch in (MOBILENET_V2, INCEPTION_V1)}
