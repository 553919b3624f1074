"""Run the whole service on one machine: migrate, seed the demo, serve the web and a worker."""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Migrate, create the demo project, login and network, then run the web server and a "
        "Celery worker (with its lease sweep) until Ctrl-C."
    )

    def add_arguments(self, parser):
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument("--no-demo", action="store_true", help="Skip the demo data.")
        parser.add_argument(
            "--web",
            choices=["runserver", "gunicorn"],
            default="runserver",
            help="runserver (default) or gunicorn with 2 workers.",
        )

    def handle(self, *args, addrport, no_demo, web, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database migrated")
        if not no_demo:
            call_command("seed_demo", stdout=self.stdout)
        python = sys.executable
        web_command = (
            [python, "manage.py", "runserver", addrport, "--noreload"]
            if web == "runserver"
            else [python, "-m", "gunicorn", "server.wsgi", "--bind", addrport, "--workers", "2"]
        )
        worker_command = [
            python,
            "-m",
            "celery",
            "-A",
            "server",
            "worker",
            "--beat",
            "--queues",
            "gpu,default",
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--hostname",
            f"dev@{os.uname().nodename}",
            "--schedule",
            str(settings.VAR_DIR / "celerybeat-schedule"),
        ]
        processes = {
            "web": subprocess.Popen(web_command, cwd=settings.BASE_DIR),
            "worker": subprocess.Popen(worker_command, cwd=settings.BASE_DIR),
        }
        self.stdout.write(
            self.style.SUCCESS(
                f"Neuron Atlas on http://{addrport}/ (API docs: http://{addrport}/api/docs/); "
                "Ctrl-C stops the web server and the worker."
            )
        )
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and all(p.poll() is None for p in processes.values()):
                time.sleep(0.5)
        finally:
            self._stop_all(processes)
        failed = {
            name: p.returncode for name, p in processes.items() if p.returncode not in (0, -2, -15)
        }
        if failed and not stopping:
            self.stderr.write(f"stopped because a process exited: {failed}")
            raise SystemExit(1)
        self.stdout.write("stopped")

    def _stop_all(self, processes):
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
