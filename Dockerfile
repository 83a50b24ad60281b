# One image for the platform's Python processes (API, gateway, scheduler, simulators); the command picks one.

# The browser assets the API serves itself (Swagger UI, ReDoc): npm packages pinned in web/package-lock.json.
FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --omit=dev --omit=peer --ignore-scripts --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
# A TrueType CJK font for the supervision monthly report (reportlab embeds TrueType only; Noto CJK is CFF).
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir "uv==0.13.9"
COPY requirements.lock pyproject.toml ./
RUN uv pip install --system --no-cache -r requirements.lock
COPY common ./common
COPY platform ./platform
COPY device_gateway ./device_gateway
COPY simulators ./simulators
COPY dashboards ./dashboards
# Only the folders the pages load (docs pages; the caregiver app's Workbox and idb), not the whole node_modules tree.
COPY --from=web /web/node_modules/swagger-ui-dist ./web/node_modules/swagger-ui-dist
COPY --from=web /web/node_modules/redoc/bundles ./web/node_modules/redoc/bundles
COPY --from=web /web/node_modules/workbox-sw/build ./web/node_modules/workbox-sw/build
COPY --from=web /web/node_modules/workbox-core/build ./web/node_modules/workbox-core/build
COPY --from=web /web/node_modules/workbox-precaching/build ./web/node_modules/workbox-precaching/build
COPY --from=web /web/node_modules/workbox-routing/build ./web/node_modules/workbox-routing/build
COPY --from=web /web/node_modules/workbox-strategies/build ./web/node_modules/workbox-strategies/build
COPY --from=web /web/node_modules/workbox-expiration/build ./web/node_modules/workbox-expiration/build
COPY --from=web /web/node_modules/idb/build ./web/node_modules/idb/build
COPY --from=web /web/node_modules/echarts/dist ./web/node_modules/echarts/dist
RUN uv pip install --system --no-cache --no-deps . && useradd --system --uid 10001 eldercare
# The package is installed into site-packages, so tell the API where the pages and assets are.
ENV ELDERCARE_DASHBOARDS_DIR=/app/dashboards ELDERCARE_WEB_VENDOR_DIR=/app/web/node_modules
USER eldercare
EXPOSE 8000 9101 9102 9103
CMD ["eldercare-api"]
