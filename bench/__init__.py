"""The benchmark: generated pages (pages.py), their server (server.py), the runner (run.py), py-spy summaries."""
