# The real deployment's image: web (gunicorn), Celery worker and beat all run from it.
FROM python:3.11-slim-bookworm

# PYTHONPATH: the source tree in /app comes before the installed copy, so BASE_DIR (templates,
# static, locale) is /app for manage.py, gunicorn and celery alike.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app

# Noto CJK and Pango: WeasyPrint renders the printable lists in Chinese.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . .
RUN pip install -r requirements.lock \
    && pip install --no-deps . \
    && python manage.py collectstatic --noinput --verbosity 0 \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin baogong \
    && mkdir -p /app/media \
    && chown baogong /app/media

USER baogong
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--access-logfile", "-"]
