.PHONY: demo test lint format demo-code install prod

# 1. Set everything up and run the platform with demo data (SQLite, no servers to install).
demo:
	scripts/demo.sh

# 2. Set everything up and run the whole test suite, browser tests included.
test:
	scripts/test.sh

demo-code:
	@.venv/bin/python manage.py demo_code $(EMAIL)

install:
	scripts/bootstrap.sh

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format:
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

# Run the production stack on this machine without Docker (PostgreSQL and Redis from Debian).
prod:
	scripts/prod.sh start

