"""Settings > Bins: a warehouse's zones, bins by pattern (aisles x bays x levels, walked in
serpentine order) with a preview before anything is made, and the bins in walk order.
The editor is also the setup assistant's bins page.

Rules are ``services.org.sites`` and ``services.org.locations``.
Signals: generated(int) after bins were made (how many).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from sqlalchemy.orm import Session

from app.services.org import locations as locs
from app.services.org import sites
from app.views.context import AppContext
from app.views.settings.company_page import settings_env
from app.views.settings.org_env import OrgEnv, lock, show
from app.views.settings.sites_page import _fill, _table

#: bins listed under the form (the first ones in walk order)
LISTED = 300


class BinsEditor(QWidget):
    generated = Signal(int)

    def __init__(self, env: OrgEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.setObjectName("binsEditor")
        self.warehouse = QComboBox()
        self.warehouse.setObjectName("binsWarehouse")
        self.zones = _table("zoneTable", ["Zone", "Name", "Temperature", "Hazmat", "Bins"])
        self.zones.setMaximumHeight(96)
        self.zone_code = QLineEdit()
        self.zone_code.setObjectName("zoneCode")
        self.zone_code.setPlaceholderText("AMB")
        self.zone_code.setMaximumWidth(70)
        self.zone_name = QLineEdit()
        self.zone_name.setPlaceholderText("Ambient racking")
        self.zone_temp = QComboBox()
        self.zone_temp.addItems(sites.TEMPERATURES)
        self.zone_hazmat = QLineEdit()
        self.zone_hazmat.setPlaceholderText("hazmat class")
        self.zone_hazmat.setMaximumWidth(120)
        self.zone_add = QPushButton("Add zone")
        self.zone_add.setObjectName("zoneAdd")
        self.dock_code = QLineEdit()
        self.dock_code.setObjectName("dockCode")
        self.dock_code.setPlaceholderText("D02")
        self.dock_code.setMaximumWidth(70)
        self.dock_add = QPushButton("Add dock")
        self.dock_add.setObjectName("dockAdd")
        self.aisles = QLineEdit("A01-A10")
        self.aisles.setObjectName("binsAisles")
        self.bays = QLineEdit("01-20")
        self.bays.setObjectName("binsBays")
        self.levels = QLineEdit("1-4")
        self.levels.setObjectName("binsLevels")
        self.role = QComboBox()
        self.role.setObjectName("binsRole")
        self.role.addItems(["reserve", "pick"])
        self.zone = QComboBox()
        self.zone.setObjectName("binsZone")
        self.zone.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.pattern = QLineEdit(locs.DEFAULT_PATTERN)
        self.pattern.setObjectName("binsPattern")
        self.preview_button = QPushButton("Preview")
        self.preview_button.setObjectName("binsPreview")
        self.generate_button = QPushButton("Generate bins")
        self.generate_button.setObjectName("binsGenerate")
        self.preview = QLabel("")
        self.preview.setObjectName("binsPreviewText")
        self.preview.setWordWrap(True)
        self.bins = _table("binTable", ["Walk", "Bin", "Kind", "Role", "Zone", "Temperature", "Fixed item"])
        self.status = QLabel("")
        self.status.setObjectName("binsStatus")
        self.status.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(QLabel("Warehouse"))
        top.addWidget(self.warehouse, 1)
        zrow = QHBoxLayout()
        zrow.addWidget(QLabel("New zone"))
        for w in (self.zone_code, self.zone_name, self.zone_temp, self.zone_hazmat, self.zone_add):
            zrow.addWidget(w, 1 if w is self.zone_name else 0)
        zrow.addSpacing(16)
        zrow.addWidget(QLabel("Dock door"))
        zrow.addWidget(self.dock_code)
        zrow.addWidget(self.dock_add)
        zbox = QGroupBox("Zones and dock doors")
        zl = QVBoxLayout(zbox)
        zl.addWidget(self.zones)
        zl.addLayout(zrow)
        gbox = QGroupBox("Bins by pattern (numbered in serpentine walk order)")
        gf = QFormLayout(gbox)
        ranges = QHBoxLayout()
        for label, w in (("Aisles", self.aisles), ("Bays", self.bays), ("Levels", self.levels)):
            ranges.addWidget(QLabel(label))
            ranges.addWidget(w)
        gf.addRow(ranges)
        opts = QHBoxLayout()
        for label, w in (("Role", self.role), ("Zone", self.zone), ("Code", self.pattern)):
            opts.addWidget(QLabel(label))
            opts.addWidget(w, 1 if w is self.pattern else 0)
        gf.addRow(opts)
        buttons = QHBoxLayout()
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.preview, 1)
        gf.addRow(buttons)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(zbox)
        lay.addWidget(gbox)
        lay.addWidget(self.bins, 1)
        lay.addWidget(self.status)
        lock(env, [self.zone_code, self.zone_name, self.zone_temp, self.zone_hazmat, self.zone_add, self.dock_code,
                   self.dock_add, self.aisles,
                   self.bays, self.levels, self.role, self.zone, self.pattern, self.preview_button,
                   self.generate_button])
        self._connect_signals()
        self.load_warehouses()

    def _connect_signals(self) -> None:
        self.warehouse.currentIndexChanged.connect(lambda _i: self.load())
        self.zone_add.clicked.connect(self.add_zone)
        self.dock_add.clicked.connect(self.add_dock)
        self.preview_button.clicked.connect(lambda: self.generate(dry_run=True))
        self.generate_button.clicked.connect(lambda: self.generate(dry_run=False))

    def load_warehouses(self) -> None:
        self.env.read(sites.list_warehouses, self._warehouses, (id(self), "warehouses"))

    def _warehouses(self, rows: list[sites.WarehouseInfo]) -> None:
        current = self.warehouse.currentData()
        self.warehouse.blockSignals(True)
        self.warehouse.clear()
        for w in rows:
            self.warehouse.addItem(f"{w.code}  {w.name} ({w.branch}, {w.bins:,} bins)", w.code)
        self.warehouse.setCurrentIndex(max(0, self.warehouse.findData(current)))
        self.warehouse.blockSignals(False)
        self.load()

    def code(self) -> str:
        return str(self.warehouse.currentData() or "")

    def load(self) -> None:
        wh = self.code()
        if not wh:
            self.zones.setRowCount(0)
            self.bins.setRowCount(0)
            return

        def query(s: Session) -> tuple[list[sites.ZoneInfo], list[sites.LocationInfo]]:
            return sites.list_zones(s, wh), sites.list_locations(s, wh, limit=LISTED)

        self.env.read(query, self._loaded, (id(self), "bins"))

    def _loaded(self, result: tuple[list[sites.ZoneInfo], list[sites.LocationInfo]]) -> None:
        zones, bins = result
        _fill(self.zones, [(z.code, z.name, z.temperature_class, z.hazmat_class, f"{z.bins:,}") for z in zones])
        current = self.zone.currentData()
        self.zone.clear()
        self.zone.addItem("(no zone)", "")
        for z in zones:
            self.zone.addItem(f"{z.code}  {z.temperature_class}", z.code)
        self.zone.setCurrentIndex(max(0, self.zone.findData(current)))
        _fill(self.bins, [(str(b.walk_seq), b.code, b.kind, b.role, b.zone, b.temperature, b.fixed_sku) for b in bins])

    def add_zone(self) -> None:
        wh, code, name = self.code(), self.zone_code.text(), self.zone_name.text()
        temp, hazmat = self.zone_temp.currentText(), self.zone_hazmat.text()
        actor = self.env.actor

        def done(z: sites.ZoneInfo) -> None:
            self.zone_code.clear()
            self.zone_name.clear()
            self.zone_hazmat.clear()
            show(self.status, True, f"zone {z.code} added to {z.warehouse}")
            self.load()

        self.env.write(lambda s: sites.add_zone(s, actor, wh, code, name=name, temperature_class=temp,
                                                hazmat_class=hazmat), done, self.status, "add zone")

    def add_dock(self) -> None:
        wh, code, actor = self.code(), self.dock_code.text(), self.env.actor

        def done(_id: object) -> None:
            self.dock_code.clear()
            show(self.status, True, f"dock door {code.strip().upper()} added to {wh}")
            self.load_warehouses()

        self.env.write(lambda s: sites.add_location(s, actor, wh, code, kind="dock"), done, self.status, "add dock")

    def generate(self, *, dry_run: bool) -> None:
        """Preview (nothing written) or make the bins; either way off the GUI thread."""
        wh = self.code()
        if not wh:
            show(self.status, False, "warehouse: add a warehouse first")
            return
        aisles, bays, levels, role = self.aisles.text(), self.bays.text(), self.levels.text(), self.role.currentText()
        zone = str(self.zone.currentData() or "") or None
        pattern = self.pattern.text() or locs.DEFAULT_PATTERN
        actor = self.env.actor

        def make(s: Session, dry: bool) -> locs.GenerateResult:
            return locs.generate_bins(s, actor, wh, aisles=aisles, bays=bays, levels=levels, role=role, zone=zone,
                                      pattern=pattern, dry_run=dry)

        def done(r: locs.GenerateResult) -> None:
            first = ", ".join(c for c, _w in r.sample[:5])
            text = (f"{r.count:,} {'bin' if r.count == 1 else 'bins'} in {r.warehouse}, walk {r.first_walk}-"
                    f"{r.last_walk}: {first}"
                    + (" …" if r.count > 5 else ""))
            self.preview.setText(("would make " if dry_run else "made ") + text)
            show(self.status, True, "preview only: nothing made" if dry_run else
                 f"made {r.count:,} {'bin' if r.count == 1 else 'bins'}")
            if not dry_run:
                self.load_warehouses()
                self.generated.emit(r.count)
                self.env.notify("location")

        if dry_run:
            self.env.runner.submit(lambda s: make(s, True), done,
                                   on_error=lambda e: show(self.status, False, str(e)), write=False,
                                   label="preview bins")
        else:
            self.env.write(lambda s: make(s, False), done, self.status, "generate bins")


class BinsPanel(QWidget):
    """Settings > Bins."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = BinsEditor(settings_env(ctx))
        QVBoxLayout(self).addWidget(self.editor)
