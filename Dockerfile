# One image for the platform's Python processes (API, gateway, scheduler, simulators); the command picks one.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
RUN pip install --no-cache-dir "uv==0.13.9"
COPY requirements.lock pyproject.toml ./
RUN uv pip install --system --no-cache -r requirements.lock
COPY common ./common
COPY platform ./platform
COPY device_gateway ./device_gateway
COPY simulators ./simulators
COPY dashboards ./dashboards
RUN uv pip install --system --no-cache --no-deps . && useradd --system --uid 10001 eldercare
USER eldercare
EXPOSE 8000 9101 9102 9103
CMD ["eldercare-api"]
