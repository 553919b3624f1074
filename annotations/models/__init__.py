from annotations.models.projects import Membership, Project, ProjectNetwork, Role

__all__ = ["Membership", "Project", "ProjectNetwork", "Role"]
