# The DASF broker (dasf-jupyter[broker]); configure it with environment variables:
#   DATABASE_URL, REDIS_URL, DASF_BROKER_SECURE, DJANGO_SECRET_KEY, DASF_ALLOWED_HOSTS, ...
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DASF_DATA_DIR=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY dasf_jupyter ./dasf_jupyter
RUN pip install --no-cache-dir ".[broker]" \
    && useradd --system --home-dir /data --create-home dasf

USER dasf
VOLUME ["/data"]
EXPOSE 8765

# migrations are applied on start; SIGTERM shuts down gracefully
ENTRYPOINT ["dasf-broker"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8765"]
