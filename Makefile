# Polltelligence tasks. `make serve` and `make test` are the two commands in the README.
SHELL := /bin/bash
BIN := target/release/polltelligence

.PHONY: serve test build site reader-bundle build-tools bench setup crashtest

## Build the release site and serve it at http://127.0.0.1:3000 (SQLite, demo content).
serve: build
	$(BIN) serve

## Run every test: unit and HTTP tests on SQLite and PostgreSQL, then browser tests, and at the
## end each step's time (`.ci/step`). The test build's own binary fetches the summariser's
## models, so nothing else is compiled for them. The HTTP tests wait on sockets and PostgreSQL
## more than on the CPU: four at a time on two cores (100 s → 89 s measured).
test:
	@.ci/step --start
	.ci/step setup .ci/setup test
	.ci/step deny .ci/deny
	.ci/step module-cycles .ci/module-cycles.py app/src server/src
	.ci/step clippy cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
	.ci/step test-build cargo test --workspace --locked --no-run
	.ci/step models target/debug/polltelligence models fetch
	.ci/step cargo-test .ci/with-postgres cargo test --workspace --locked -- --test-threads=4
	.ci/step build $(MAKE) --no-print-directory -j2 build
	.ci/step crashtest .ci/with-postgres .ci/crashtest.py --engine both --kills 20
	.ci/step fuzz-api .ci/fuzz-api
	.ci/step playwright sh -c 'cd end2end && npx playwright test'
	@.ci/step --report

## The crash test at full size: 200 SIGKILLs under load per engine, then a PostgreSQL restart.
crashtest: build
	.ci/with-postgres .ci/crashtest.py --engine both --kills 200

## Release build: server binary plus the browser bundles: the full one (the simulator's and the
## editor's lazy islands split into chunks) and `reader`, only the islands of readers' pages.
## `make -j2 build` compiles the two side by side (cargo-leptos clears the site folder when it
## starts, so the reader bundle is written into it only once both are done).
build: site reader-bundle
	wasm-bindgen --target web --no-typescript --out-dir target/site/pkg --out-name reader \
		target/front-reader/wasm32-unknown-unknown/wasm-release/app.wasm
	wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
		--enable-mutable-globals --enable-reference-types target/site/pkg/reader_bg.wasm -o target/site/pkg/reader.wasm
	rm target/site/pkg/reader_bg.wasm
	gzip -9 -k -f target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css
	brotli -q 11 -k -f target/site/pkg/*.wasm target/site/pkg/*.js target/site/pkg/*.css

site: build-tools
	cargo leptos build --release --split

# Its own target folder: cargo-leptos builds the full bundle with other RUSTFLAGS and LEPTOS_*
# variables, which leptos reads at compile time, so sharing one would rebuild leptos each time.
reader-bundle: build-tools
	cargo build --locked -p app --lib --target wasm32-unknown-unknown --profile wasm-release \
		--no-default-features --features hydrate,reader-bundle --target-dir target/front-reader

build-tools:
	.ci/setup build

## One table, both engines, each figure beside a reference measured in the same run (a bare
## axum server, pgbench on a durable cluster): votes/s, static files, results, pages, the vote
## path over a poll's life, live results, the reader's bundle. Then sign-in memory, and the
## summariser: each stage on a 10,000-comment poll, and the local model's tokens/s.
bench: build
	POLLTELLIGENCE_PG_DURABLE=1 .ci/with-postgres .ci/bench.py
	.ci/bench_signins.py
	$(BIN) summaries bench

## What `make test` installs and fetches, ahead of it: tools, crates and the summariser's models.
setup:
	.ci/setup test
	cargo test --workspace --locked --no-run
	target/debug/polltelligence models fetch
