# The two commands of the README: `make run` and `make test`. Each sets itself up.
.PHONY: run test setup bench lint

run:
	scripts/setup.sh
	.venv/bin/python -m app gui --demo

test:
	scripts/test.sh

setup:
	scripts/setup.sh

lint:
	.venv/bin/ruff check . && .venv/bin/mypy

bench:
	scripts/setup.sh
	.venv/bin/python -m bench
