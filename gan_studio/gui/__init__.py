"""The studio window (PySide6 + pyqtgraph). It observes a :class:`gan_studio.core.live.LiveRun`; it never trains."""
