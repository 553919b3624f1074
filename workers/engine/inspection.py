"""Measuring an untrusted TorchScript file's layers in a process of its own.

A worker runs ``python -m workers.engine.inspection FILE INPUT_SIZE OUTPUT MEMORY_BYTES
CPU_SECONDS``: the limits are set before torch is imported, the model's forward runs once on a
black image, and OUTPUT receives ``{"layers": [...]}`` or ``{"error": {"code", "message"}}``.
The worker kills the process group when its wall-clock time runs out. No Django here.
"""

import json
import resource
import sys
from pathlib import Path


def _limit(memory_bytes: int, cpu_seconds: int):
    """Cap this process's address space and CPU time, and write no core file."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _layers(path: str, input_size: int) -> dict:
    """The layers the file's forward returns, as JSON-ready dicts, or the error it raised."""
    from workers.engine.errors import EngineError
    from workers.engine.networks import load_torchscript

    try:
        loaded = load_torchscript(path, input_size=input_size)
    except EngineError as error:
        return {"error": {"code": error.code, "message": error.message}}
    except MemoryError:
        return {
            "error": {
                "code": "inspection_out_of_memory",
                "message": "The model needed more memory than an inspection may use.",
            }
        }
    return {
        "layers": [
            {
                "name": info.name,
                "channels": info.channels,
                "height": info.height,
                "width": info.width,
            }
            for info in loaded.layers
        ]
    }


def main(argv: list[str]) -> int:
    path, input_size, output, memory_bytes, cpu_seconds = argv
    _limit(int(memory_bytes), int(cpu_seconds))
    result = _layers(path, int(input_size))
    Path(output).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
