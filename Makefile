# Tokki — the two commands that matter:
#   make run    set up what is missing, build, serve on http://127.0.0.1:8080
#   make test   everything CI runs
SHELL := /bin/bash
.DEFAULT_GOAL := help
JOBS ?= $(shell nproc)
HOST ?= 127.0.0.1
PORT ?= 8080
DATA_DIR ?= var
# Extra flags for `tokki serve`, e.g. SERVE_FLAGS="--model /models/qwen.gguf"
SERVE_FLAGS ?=

.PHONY: help deps llama llama-tools configure build web run test bench clean

help:
	@echo "make run    build everything and serve Tokki on http://$(HOST):$(PORT)"
	@echo "make test   build and run every test (unit, store, API, engine, web, browser)"
	@echo "make build  Release build; the binary is build/bin/tokki"
	@echo "make bench  benchmarks (print figures)"

deps:
	@bash tools/deps/apt.sh

llama: deps
	@bash tools/deps/llama.sh >/dev/null

# llama-server, llama-bench, llama-batched-bench from the same pinned source: the remote
# backend tests and the benchmark baseline use them (built once, cached).
llama-tools: llama
	@bash tools/deps/llama.sh --tools >/dev/null

configure: llama
	@cmake --preset release -DCMAKE_PREFIX_PATH="$$(bash tools/deps/llama.sh)" >/dev/null

build: configure
	@cmake --build build -j $(JOBS)

web: deps
	@if [ -f web/package.json ]; then \
	  cd web && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } && npm run build; \
	fi

run: build web
	@bash tools/run.sh $(HOST) $(PORT) $(DATA_DIR) $(SERVE_FLAGS)

test: build web llama-tools
	@bash tools/test.sh

bench: build web llama-tools
	@bash bench/run.sh

clean:
	rm -rf build build-dev web/dist
