"""The print preview: a document's PDF pages rendered in the window (pdfium, off the GUI thread).

``render_pages`` runs on a worker (bytes in, QImages out: QImage is safe to build off the GUI
thread); ``PreviewPane`` only places the finished images, so a 20-page invoice opens without the
window freezing.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from app.views.printcentre.printer import pdf_pages

#: preview resolution (an A4 page about 500 px wide: the whole width beside the queue)
PREVIEW_DPI = 60.0


def render_pages(pdf: bytes, dpi: float = PREVIEW_DPI) -> list[QImage]:
    return list(pdf_pages(pdf, dpi))


class PreviewPane(QScrollArea):
    """Pages one under the other with a caption; ``show_pages`` / ``show_message``. A page is
    shown at most as wide as the pane (scaled down, never up), so it never scrolls sideways."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PrintPreview")
        self.setWidgetResizable(True)
        self._inner = QWidget()
        self._layout = QVBoxLayout(self._inner)
        self._layout.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.setWidget(self._inner)
        self.pages: list[QLabel] = []
        self.show_message("Select a document to preview it")

    def _clear(self) -> None:
        while self._layout.count():
            item = self._layout.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.hide()  # deleteLater waits for the event loop: hidden now, so nothing overlaps
                w.deleteLater()
        self.pages = []

    def show_message(self, text: str) -> None:
        self._clear()
        label = QLabel(text)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout.addWidget(label)

    def show_pages(self, title: str, images: list[QImage]) -> None:
        self._clear()
        caption = QLabel(f"{title} — {len(images)} page{'s' if len(images) != 1 else ''}")
        caption.setObjectName("PreviewCaption")
        self._layout.addWidget(caption)
        for img in images:
            page = QLabel()
            page.setPixmap(QPixmap.fromImage(img))
            page.setScaledContents(True)
            page.setStyleSheet("background: white; border: 1px solid #c8d3df;")
            self._layout.addWidget(page)
            self.pages.append(page)
        self._fit_pages()

    def _fit_pages(self) -> None:
        room = self.viewport().width() - 2 * self._layout.contentsMargins().left() - 4
        for page in self.pages:
            pix = page.pixmap()
            if pix.isNull() or pix.width() == 0:
                continue
            w = max(min(pix.width(), room), 50)
            page.setFixedSize(w, round(pix.height() * w / pix.width()))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_pages()
