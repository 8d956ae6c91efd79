# Wavefloor — `make run` sets up and runs the demo; `make test` sets up and runs every test.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
WF     := $(VENV)/bin/wavefloor
STAMP  := $(VENV)/.installed
VENDOR := server/web/static/vendor
HOST   ?= 127.0.0.1
PORT   ?= 5000
PRINTER_PORT ?= 9100
DEBIAN_TEST_PACKAGES := chromium xvfb libzbar0 fonts-wqy-zenhei cups-bsd \
  gir1.2-webkit2-4.1 libgirepository1.0-dev libcairo2-dev pkg-config \
  matchbox-window-manager xdotool x11-utils x11-apps imagemagick nginx-light shellcheck
KIOSK_STAMP := $(VENV)/.kiosk-installed

.PHONY: run test bench install kiosk vendor system-deps clean

install: $(STAMP) $(VENDOR)/.installed

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

# The kiosk's window (pywebview on GTK) builds PyGObject against Debian's GObject headers.
$(KIOSK_STAMP): pyproject.toml | $(STAMP) system-deps
	$(PY) -m pip install --quiet -e '.[kiosk]'
	@touch $@

# Browser libraries come from npm (package.json, package-lock.json) and are served locally.
$(VENDOR)/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/socket.io-client/dist/socket.io.min.js $(VENDOR)/
	cp node_modules/socket.io-client/dist/socket.io.esm.min.js $(VENDOR)/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	cp node_modules/@zxing/library/umd/index.min.js $(VENDOR)/zxing-library.min.js
	cp node_modules/@zxing/browser/umd/zxing-browser.min.js $(VENDOR)/
	@touch $@

vendor: $(VENDOR)/.installed

kiosk: $(KIOSK_STAMP)

# Debian packages the tests need (a headless browser, a virtual screen, a barcode decoder,
# a Chinese font for labels, lpr); installed only when missing.
system-deps:
	@missing=""; for p in $(DEBIAN_TEST_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# `make run LIVE=1` also keeps the floor moving (new orders, waves, simulated pickers and packers);
# LIVE_ARGS are its `wavefloor demo --live` options. Ctrl-C (or SIGTERM to make) stops everything.
LIVE      ?=
LIVE_ARGS ?= --rate 6 --pickers 2 --packers 1
INSTANCE  ?= instance

run: install
	$(WF) migrate
	@mkdir -p $(INSTANCE)
	WAVEFLOOR_DEMO_PRINTER_PORT=$(PRINTER_PORT) $(WF) demo > $(INSTANCE)/demo.json
	@$(PY) -m server.demo_banner $(INSTANCE)/demo.json http://$(HOST):$(PORT) $(PRINTER_PORT) $(if $(LIVE),live)
	@exec $(WF) run-demo --host $(HOST) --port $(PORT) --printer-port $(PRINTER_PORT) \
	  --printer-dir $(INSTANCE)/printer $(if $(LIVE),--live "$(LIVE_ARGS)")

test: install system-deps $(KIOSK_STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadfile --durations=25

bench: install
	@for b in tests/bench/bench_*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache
