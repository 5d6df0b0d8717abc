# Shortcuts for tasks.py, which does the work with nothing but Python (see README).
.PHONY: demo test lint notebooks bench
demo:
	python3 tasks.py demo
test:
	python3 tasks.py test
lint:
	python3 tasks.py lint
notebooks:
	python3 tasks.py notebooks
bench:
	python3 tasks.py bench
