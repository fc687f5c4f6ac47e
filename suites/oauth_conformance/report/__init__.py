"""Reports: the model built from a run, and writers for JSON, JUnit, Markdown and HTML."""
