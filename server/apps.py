from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ServerConfig(AppConfig):
    name = "server"
    verbose_name = "Neuron Atlas server"

    def ready(self):
        from server.fields import json_types_strict

        json_types_strict()


class AtlasAdminConfig(admin_apps.AdminConfig):
    default = False  # named in INSTALLED_APPS in place of django.contrib.admin
    default_site = "server.admin_site.AtlasAdminSite"
