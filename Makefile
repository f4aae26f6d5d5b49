# Polltelligence tasks. `make serve` and `make test` are the two commands in the README.
SHELL := /bin/bash
BIN := target/release/polltelligence

.PHONY: serve test build bench setup crashtest

## Build the release site and serve it at http://127.0.0.1:3000 (SQLite, demo content).
serve: build
	$(BIN) serve

## Run every test: unit and HTTP tests on SQLite and PostgreSQL, then browser tests.
test:
	.ci/setup test
	.ci/deny
	.ci/module-cycles.py app/src server/src
	cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
	.ci/with-postgres cargo test --workspace --locked
	$(MAKE) --no-print-directory build
	.ci/with-postgres .ci/crashtest.py --engine both --kills 20
	.ci/fuzz-api
	cd end2end && npx playwright test

## The crash test at full size: 200 SIGKILLs under load per engine, then a PostgreSQL restart.
crashtest: build
	.ci/with-postgres .ci/crashtest.py --engine both --kills 200

## Release build: server binary plus the browser bundles: the full one (the simulator's and the
## editor's lazy islands split into chunks) and `reader`, only the islands of readers' pages.
build:
	.ci/setup build
	cargo leptos build --release --split
	cargo build --locked -p app --lib --target wasm32-unknown-unknown --profile wasm-release \
		--no-default-features --features hydrate,reader-bundle --target-dir target/front-reader
	wasm-bindgen --target web --no-typescript --out-dir target/site/pkg --out-name reader \
		target/front-reader/wasm32-unknown-unknown/wasm-release/app.wasm
	wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
		--enable-mutable-globals --enable-reference-types target/site/pkg/reader_bg.wasm -o target/site/pkg/reader.wasm
	rm target/site/pkg/reader_bg.wasm
	gzip -9 -k -f target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css
	brotli -q 11 -k -f target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css

## One table, both engines, each figure beside a reference measured in the same run (a bare
## axum server, pgbench on a durable cluster): votes/s, static files, results, pages, the vote
## path over a poll's life, live results, the reader's bundle. Then sign-in memory, and the
## summariser: each stage on a 10,000-comment poll, and the local model's tokens/s.
bench: build
	POLLTELLIGENCE_PG_DURABLE=1 .ci/with-postgres .ci/bench.py
	.ci/bench_signins.py
	$(BIN) summaries bench

setup:
	.ci/setup test
