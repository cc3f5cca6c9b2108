"""Recordings and files: run folders, replay, atomic writes, GIFs, rendering and exports."""
