from workers.models.catalog import Dataset, Layer, Network, Unit
from workers.models.jobs import Artifact, Job, WorkerHeartbeat

__all__ = ["Artifact", "Dataset", "Job", "Layer", "Network", "Unit", "WorkerHeartbeat"]
