"""The studio window (PySide6 + pyqtgraph). It observes a :class:`gan_studio.core.live.handles.ThreadRun`; it never trains."""
