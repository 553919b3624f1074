from workers.models.catalog import Layer, Network, Unit
from workers.models.jobs import Artifact, Job, WorkerHeartbeat

__all__ = ["Artifact", "Job", "Layer", "Network", "Unit", "WorkerHeartbeat"]
