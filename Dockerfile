# One image for the web server, the Celery worker, Celery beat and the migrate step.
# Build: docker compose build   (or: docker build -t peersupport .)
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH="/app/.venv/bin:$PATH"

RUN pip install --no-cache-dir "uv==0.13.9" \
    && groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, from the lock file only, so code changes do not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .

# Static files are collected into the image (whitenoise serves them). Settings need a key
# to load; this one exists only during the build and signs nothing.
RUN DJANGO_ENV=production SECRET_KEY=build-time-only-collectstatic-key-not-used-at-runtime \
    ALLOWED_HOSTS=localhost VAR_DIR=/tmp/build-var \
    python scripts/prod/deploy.py --no-migrate --collectstatic \
    && rm -rf /tmp/build-var \
    && mkdir -p /app/var/beat \
    && NUMBA_CACHE_DIR=/app/var/numba python -c "from matching.engine import augment; augment.load()" \
    && chown -R app:app /app/var

USER app

# The matching engine's compiled re-solver (numba) was cached here at build time; the code
# folder is read-only for the app user.
ENV DJANGO_ENV=production \
    VAR_DIR=/app/var \
    NUMBA_CACHE_DIR=/app/var/numba \
    PORT=8000 \
    LOG_JSON=true

EXPOSE 8000

CMD ["gunicorn", "peersupport.wsgi:application", "-c", "scripts/prod/gunicorn.conf.py"]
