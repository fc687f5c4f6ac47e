"""The pytest plugin (entry point ``pytest11``); it does nothing unless asked."""
