from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ServerConfig(AppConfig):
    name = "server"
    verbose_name = "Neuron Atlas server"


class AtlasAdminConfig(admin_apps.AdminConfig):
    default = False  # named in INSTALLED_APPS in place of django.contrib.admin
    default_site = "server.admin_site.AtlasAdminSite"
