# The two commands of the quick start. Each sets up what it needs on first use (Node 24 from
# scripts/node24.sh, npm ci when node_modules is missing or stale) and says in one line what it
# cannot install itself.
#   make demo                       the whole system on local emulators, with a verdict
#   make demo ARGS="--poison"       … plus an operator parking, skipping and unparking a source
#   make test                       lint, typecheck and every test (what CI runs)
SHELL := /bin/bash
ARGS ?=

.PHONY: demo poison test setup

demo:
	@scripts/ensure.sh java -- node --import tsx src/cli/index.ts demo $(ARGS)

poison:
	@scripts/ensure.sh java -- node --import tsx src/cli/index.ts demo --poison $(ARGS)

test:
	@scripts/ensure.sh java browser -- bash -c 'npm run --silent lint && npm run --silent typecheck && npx jest $(ARGS)'

setup:
	@scripts/ensure.sh java browser -- true
