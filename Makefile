# The two commands a newcomer needs (see README.md).
.PHONY: run test setup

PORT ?= 8000
SIM_PORT ?= 8765

run:  ## set up .venv, then run web + worker + upstream simulator with the demo data
	scripts/setup.sh
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} .venv/bin/python manage.py rundemo --port $(PORT) --sim-port $(SIM_PORT)

test:  ## set up .venv with the test packages, then run the whole suite
	scripts/setup.sh --test
	.venv/bin/python -m pytest -n 2

setup:
	scripts/setup.sh --test
