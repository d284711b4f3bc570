# CSC Smart Services portal. `make help` lists the targets.
SHELL := /bin/bash
GO    ?= go
SUDO  := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
AXE_CORE_JS := $(CURDIR)/.ci/node_modules/axe-core/axe.min.js

.DEFAULT_GOAL := help
.PHONY: help run test bench lint assets system-deps test-deps

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

run: ## set everything up (PostgreSQL, Redis, migrations, demo data) and serve http://127.0.0.1:8080
	$(GO) run ./cmd/portal dev

# The browser journeys drive Chromium through the same handlers the other tests run under the race detector; they
# run without it, which halves their time, and alongside the other tests, which leave a third of 2 cores idle while
# one package's tests wait on PostgreSQL and Redis. Their output follows the others'.
test: system-deps test-deps ## install what the tests need, then run every test (race detector, real servers, Chromium)
	@log=$$(mktemp); \
	AXE_CORE_JS=$(AXE_CORE_JS) $(GO) test -count=1 -timeout 40m -run '^TestBrowser' ./portal/... >$$log 2>&1 & browser=$$!; \
	AXE_CORE_JS=$(AXE_CORE_JS) $(GO) test -race -count=1 -timeout 40m -skip '^TestBrowser' ./...; others=$$?; \
	wait $$browser; journeys=$$?; \
	echo "== browser journeys (without the race detector)"; cat $$log; rm -f $$log; \
	[ $$others = 0 ] && [ $$journeys = 0 ]

bench: system-deps ## measure the portal against bare Fiber, pgbench and redis-benchmark in one run
	$(GO) run ./cmd/bench

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

assets: ## rebuild the CSS, fonts and icon sprite from Bootstrap Italia (needs npm; outputs are committed)
	npm ci --prefix assets/build --no-audit --no-fund
	node assets/build/build.mjs

# PostgreSQL, Redis, Chromium and ClamAV's daemon from Debian's packages, installed only when missing.
system-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v redis-benchmark >/dev/null 2>&1 || missing="$$missing redis-tools"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	[ -x /usr/sbin/clamd ] || command -v clamd >/dev/null 2>&1 || missing="$$missing clamav-daemon"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# axe-core (accessibility checks) and oidc-provider (the OpenID provider the sign-in tests use), reinstalled
# whenever the lock file changes.
test-deps:
	@[ .ci/node_modules/.package-lock.json -nt .ci/package-lock.json ] || npm ci --prefix .ci --no-audit --no-fund --loglevel=error
