"""Printing a PDF on a real printer through QPrinter, and rendering PDF pages as images.

Pages are rendered by pdfium (``pypdfium2``: QtPdf is not in the wheels we ship) at the printer's
resolution and painted page by page. A printer that is not installed is refused before anything
renders; one that fails mid-document (``newPage`` or ``end`` refuses) aborts the job and raises,
so the caller's transaction does not record a document that did not print. The name
``file:/path/out.pdf`` is the print-to-file printer Qt always has (tests, and machines without one).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator

import pypdfium2 as pdfium
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPageLayout, QPainter
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo
from PySide6.QtWidgets import QApplication

from app.services.errors import DomainError

FILE_PREFIX = "file:"


class PrintFailed(DomainError):
    """The printer refused or failed; what printed of the job was aborted."""


def printers() -> list[str]:
    """The printers installed on this machine (the default first)."""
    default = QPrinterInfo.defaultPrinterName()
    names = [p.printerName() for p in QPrinterInfo.availablePrinters()]
    return sorted(names, key=lambda n: (n != default, n.lower()))


def ensure_app() -> None:
    """The command line prints without a window: an application of its own (offscreen without a display).

    A QApplication, not a bare QGuiApplication: Qt keeps one application per process, and a
    widget made later in the same process (a window opened after a print, a test) aborts the
    process when the one application cannot hold widgets.
    """
    if QGuiApplication.instance() is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        QApplication([])


def pdf_pages(pdf: bytes, dpi: float) -> Iterator[QImage]:
    """Each page of ``pdf`` as a QImage at ``dpi``."""
    doc = pdfium.PdfDocument(io.BytesIO(pdf))
    try:
        for i in range(len(doc)):
            page = doc[i]
            img = page.render(scale=dpi / 72).to_pil().convert("RGB")
            data = img.tobytes("raw", "RGB")
            yield QImage(data, img.width, img.height, img.width * 3, QImage.Format.Format_RGB888).copy()
            page.close()
    finally:
        doc.close()


def page_count(pdf: bytes) -> int:
    doc = pdfium.PdfDocument(io.BytesIO(pdf))
    try:
        return len(doc)
    finally:
        doc.close()


def make_printer(name: str, *, tray: str = "", copies: int = 1) -> QPrinter:
    """A QPrinter for ``name``; a printer that is not installed is refused with the ones that are."""
    if QGuiApplication.instance() is None:
        raise PrintFailed("printing needs the window's application (start it first)")
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    if name.startswith(FILE_PREFIX):
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(name[len(FILE_PREFIX):])
    else:
        info = QPrinterInfo.printerInfo(name)
        if info.isNull():
            known = printers()
            raise PrintFailed(f"printer {name!r} is not installed on this computer ("
                              + (f"printers here: {', '.join(known)}" if known else "no printer is installed")
                              + "); nothing was printed")
        printer = QPrinter(info, QPrinter.PrinterMode.HighResolution)
    printer.setCopyCount(max(1, copies))
    printer.setFullPage(True)
    printer.setPageOrientation(QPageLayout.Orientation.Portrait)
    printer.setDocName("Depot")
    _ = tray  # Qt 6 has no portable tray selection; the name is kept with the preference and shown
    return printer


def print_pdf(printer: QPrinter, pdf: bytes, title: str = "") -> int:
    """Paint every page of ``pdf`` on ``printer``; returns the pages printed, or raises PrintFailed."""
    if title:
        printer.setDocName(title)
    painter = QPainter()
    if not painter.begin(printer):
        raise PrintFailed(f"printer {printer.printerName() or printer.outputFileName()} refused the job "
                          "(offline, out of paper or not allowed); nothing was printed")
    n = 0
    try:
        dpi = min(printer.resolution(), 300)
        for img in pdf_pages(pdf, dpi):
            if n and not printer.newPage():
                printer.abort()
                raise PrintFailed(f"the printer failed after page {n}; the job was cancelled")
            target: QRect = painter.viewport()
            size = img.size().scaled(target.size(), Qt.AspectRatioMode.KeepAspectRatio)
            painter.setViewport(target.x(), target.y(), size.width(), size.height())
            painter.setWindow(img.rect())
            painter.drawImage(0, 0, img)
            painter.setViewport(target)
            n += 1
    except BaseException:
        painter.end()
        raise
    if not painter.end():
        raise PrintFailed("the printer did not accept the end of the job; check it and print again")
    return n


def printer_sink(name: str, *, tray: str = "") -> Callable[[str, bytes, int], None]:
    """A print_batch sink printing on ``name`` (checked now: a missing printer fails before the batch)."""
    make_printer(name, tray=tray)

    def sink(file_name: str, pdf: bytes, copies: int) -> None:
        target = name
        if name.startswith(FILE_PREFIX) and name.endswith("/"):
            target = name + file_name
        print_pdf(make_printer(target, tray=tray, copies=copies), pdf, file_name)
    return sink

