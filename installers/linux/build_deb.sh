#!/usr/bin/env bash
# Build the Linux package: PyInstaller one-folder bundle -> dist/depot-<version>_amd64.deb
#   installers/linux/build_deb.sh            (what `make package` runs)
#   SKIP_PYINSTALLER=1 ...                  re-wrap an existing dist/depot/ without rebuilding
# Layout of the package: /opt/depot/ (the bundle), /usr/bin/depot (the console twin, for the
# sub-commands; `depot` alone opens the window), /usr/share/applications/depot.desktop and the icon.
# Data and settings stay in each user's home (~/.local/share/depot, ~/.config/depot): an upgrade or
# a removal of the package never touches them.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PY=${PYTHON:-.venv/bin/python}
VERSION=$("$PY" -c "import app; print(app.__version__)")
ARCH=$(dpkg --print-architecture 2>/dev/null || echo amd64)

if [ "${SKIP_PYINSTALLER:-0}" != 1 ]; then
    "$PY" -m PyInstaller --version >/dev/null 2>&1 || {
        echo "package: PyInstaller is not installed: .venv/bin/pip install pyinstaller" >&2; exit 1; }
    "$PY" -m PyInstaller installers/depot.spec --noconfirm --clean --log-level WARN \
        --distpath build/pyinstaller/dist --workpath build/pyinstaller/work
fi
BUNDLE=build/pyinstaller/dist/depot
[ -x "$BUNDLE/depot-cli" ] || { echo "package: no bundle at $BUNDLE" >&2; exit 1; }
# which build this is: the commit's UTC time and id. The Debian version carries it, so a later build is an
# upgrade to dpkg, and the program shows it (About, Copy diagnostics; app.build_id reads resources/build.txt)
STAMP=$(TZ=UTC git log -1 --format='%cd.g%h' --date=format-local:%Y%m%d%H%M%S 2>/dev/null || true)
DEB_VERSION=${VERSION}${STAMP:++${STAMP}}
RES=$(dirname "$(find "$BUNDLE" -path '*/resources/style.qss' | head -1)")
echo "$DEB_VERSION" > "$RES/build.txt"

STAGE=build/deb/depot_${VERSION}_${ARCH}
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
         "$STAGE/usr/share/icons/hicolor/256x256/apps" "$STAGE/usr/share/doc/depot"
cp -a "$BUNDLE" "$STAGE/opt/depot"
ln -s /opt/depot/depot-cli "$STAGE/usr/bin/depot"
install -m 644 installers/linux/depot.desktop "$STAGE/usr/share/applications/depot.desktop"
install -m 644 resources/icons/depot.png "$STAGE/usr/share/icons/hicolor/256x256/apps/depot.png"
install -m 644 docs/install.md "$STAGE/usr/share/doc/depot/install.md"
SIZE_KB=$(du -sk "$STAGE" | cut -f1)
cat > "$STAGE/DEBIAN/control" <<CTRL
Package: depot
Version: ${DEB_VERSION}
Section: misc
Priority: optional
Architecture: ${ARCH}
Installed-Size: ${SIZE_KB}
Maintainer: Depot team <depot@example.invalid>
Depends: libegl1, libgl1, libfontconfig1, libxkbcommon0, libxkbcommon-x11-0, libglib2.0-0, libdbus-1-3, libfreetype6, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libxcb-shape0, libxcb-xinerama0, libxcb-render-util0, libxcb-image0, libxcb-randr0, libxcb-xfixes0
Description: Depot, back office for wholesale distributors
 A branch workstation: buying, receiving, stock, sales orders, dispatch and
 tracking on a local SQLite database that replicates with a PostgreSQL server.
CTRL
# refresh the desktop menu and icon cache when the tools exist (never fail the install for them)
cat > "$STAGE/DEBIAN/postinst" <<'POST'
#!/bin/sh
set -e
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q /usr/share/applications || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q /usr/share/icons/hicolor || true
exit 0
POST
chmod 755 "$STAGE/DEBIAN/postinst"
mkdir -p dist
OUT="dist/depot_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zgzip --build "$STAGE" "$OUT" >/dev/null
echo "package: $OUT, version $DEB_VERSION ($(du -h "$OUT" | cut -f1); installed $(du -sh "$STAGE/opt/depot" | cut -f1))"
