# The two commands of the README: `make run` and `make test`. Each sets itself up.
.PHONY: run test setup bench lint package

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

# The Linux package (dist/depot_<version>_amd64.deb): PyInstaller bundle + .deb. See docs/install.md.
package:
	scripts/setup.sh
	.venv/bin/python -m PyInstaller --version >/dev/null 2>&1 || .venv/bin/pip install -q pyinstaller
	installers/linux/build_deb.sh
