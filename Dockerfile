# The DASF broker (dasf-jupyter[broker]); configure it with environment variables:
#   DATABASE_URL, REDIS_URL, DASF_BROKER_SECURE, DJANGO_SECRET_KEY, DASF_ALLOWED_HOSTS, ...
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DASF_DATA_DIR=/data

WORKDIR /app
# the package's build hook (scripts/build_labextension.py) leaves the JupyterLab sidebar out:
# this image has no Node.js, and the broker does not need it
COPY pyproject.toml README.md ./
COPY scripts/build_labextension.py ./scripts/
COPY labextension/install.json ./labextension/
COPY dasf_jupyter ./dasf_jupyter
RUN DASF_BUILD_LABEXTENSION=0 pip install --no-cache-dir ".[broker]" \
    && useradd --system --home-dir /data --create-home dasf

USER dasf
VOLUME ["/data"]
EXPOSE 8765

# migrations are applied on start; SIGTERM shuts down gracefully
ENTRYPOINT ["dasf-broker"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8765"]
